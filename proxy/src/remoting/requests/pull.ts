/**
 * PULL_MESSAGE (request code 11): read a queue from an offset the client tracks itself. The broker
 * filters by tag hash only, so callers must re-check tag strings. Send it to the master (or the broker
 * id the last pull suggested) with a timeout above suspendTimeoutMillis.
 */
import { RequestCode, ResponseCode } from '../codes.ts';
import type { RemotingCommand, RequestSpec } from '../command.ts';
import { RemotingResponseError } from '../errors.ts';
import { type DecodeOptions, decodeStoredMessages, type StoredMessage } from '../message/stored-message.ts';
import { headerInt, headerLong, headerOptional } from '../response.ts';
import { extFields } from './ext-fields.ts';
import type { ExpressionType } from './heartbeat.ts';

/** PullSysFlag bits. */
export const PullSysFlag = {
  /** Also store `commitOffset` as the group's consumer offset. */
  COMMIT_OFFSET: 0x1,
  /** Long-poll up to suspendTimeoutMillis when nothing is there yet. */
  SUSPEND: 0x2,
  /** Filter by this request's subscription instead of the heartbeat-registered one. */
  SUBSCRIPTION: 0x4,
  CLASS_FILTER: 0x8,
  LITE_PULL: 0x10,
} as const;

export interface PullFlags {
  commitOffset?: boolean | undefined;
  suspend?: boolean | undefined;
  subscription?: boolean | undefined;
  classFilter?: boolean | undefined;
  litePull?: boolean | undefined;
}

export function buildPullSysFlag(flags: PullFlags): number {
  return (
    (flags.commitOffset ? PullSysFlag.COMMIT_OFFSET : 0) |
    (flags.suspend ? PullSysFlag.SUSPEND : 0) |
    (flags.subscription ? PullSysFlag.SUBSCRIPTION : 0) |
    (flags.classFilter ? PullSysFlag.CLASS_FILTER : 0) |
    (flags.litePull ? PullSysFlag.LITE_PULL : 0)
  );
}

export interface PullMessageParams {
  consumerGroup: string;
  topic: string;
  /** 0 ≤ queueId < readQueueNums; there is no "any queue" for pull. */
  queueId: number;
  /** First offset to read. */
  queueOffset: number;
  /** Java's default is 32. */
  maxMsgNums: number;
  /** PullSysFlag bits, as a number or as named flags. */
  sysFlag: number | PullFlags;
  /** Offset to commit when COMMIT_OFFSET is set; 0 (the default) otherwise. */
  commitOffset?: number | undefined;
  /** Long-poll hold time in ms when SUSPEND is set (Java: 15000); default 0. */
  suspendTimeoutMillis?: number | undefined;
  /** Tag expression or SQL92; used by the broker when SUBSCRIPTION is set. */
  subscription?: string | undefined;
  /** Subscription version (ms); default 0. */
  subVersion?: number | undefined;
  expressionType?: ExpressionType | undefined;
  maxMsgBytes?: number | undefined;
  brokerName?: string | undefined;
}

/** Header keys in the order Java's PullMessageRequestHeader writes them. */
export function pullMessageRequest(params: PullMessageParams): RequestSpec {
  const sysFlag = typeof params.sysFlag === 'number' ? params.sysFlag : buildPullSysFlag(params.sysFlag);
  return {
    code: RequestCode.PULL_MESSAGE,
    extFields: extFields({
      consumerGroup: params.consumerGroup,
      topic: params.topic,
      queueId: params.queueId,
      queueOffset: params.queueOffset,
      maxMsgNums: params.maxMsgNums,
      sysFlag,
      commitOffset: params.commitOffset ?? 0,
      suspendTimeoutMillis: params.suspendTimeoutMillis ?? 0,
      subscription: params.subscription,
      subVersion: params.subVersion ?? 0,
      expressionType: params.expressionType,
      maxMsgBytes: params.maxMsgBytes,
      bname: params.brokerName,
    }),
  };
}

/**
 * FOUND: messages returned. NO_NEW_MSG: nothing at or after the offset yet (PULL_NOT_FOUND).
 * NO_MATCHED_MSG: everything read was filtered out, pull again from nextBeginOffset
 * (PULL_RETRY_IMMEDIATELY). OFFSET_ILLEGAL: the offset is outside the queue, continue from
 * nextBeginOffset (PULL_OFFSET_MOVED).
 */
export type PullStatus = 'FOUND' | 'NO_NEW_MSG' | 'NO_MATCHED_MSG' | 'OFFSET_ILLEGAL';

export interface PullResult {
  status: PullStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  /** Broker id to pull from next time (0 = master). */
  suggestWhichBrokerId: number;
  /** Static-topic offset correction, when the broker sends one. */
  offsetDelta?: number | undefined;
  topicSysFlag?: number | undefined;
  groupSysFlag?: number | undefined;
  forbiddenType?: number | undefined;
  messages: StoredMessage[];
}

const PULL_STATUS: ReadonlyMap<number, PullStatus> = new Map<number, PullStatus>([
  [ResponseCode.SUCCESS, 'FOUND'],
  [ResponseCode.PULL_NOT_FOUND, 'NO_NEW_MSG'],
  [ResponseCode.PULL_RETRY_IMMEDIATELY, 'NO_MATCHED_MSG'],
  [ResponseCode.PULL_OFFSET_MOVED, 'OFFSET_ILLEGAL'],
]);

/**
 * Codes 0/19/20/21 are statuses (the broker sends the offset header with all four); any other code
 * throws RemotingResponseError; a malformed header or body throws RemotingError('RMQ_BAD_PAYLOAD').
 */
export function parsePullResponse(response: RemotingCommand, options: DecodeOptions = {}): PullResult {
  const status = PULL_STATUS.get(response.code);
  if (status === undefined) {
    throw new RemotingResponseError(response.code, response.remark, RequestCode.PULL_MESSAGE);
  }
  return {
    status,
    nextBeginOffset: headerLong(response, 'nextBeginOffset'),
    minOffset: headerLong(response, 'minOffset'),
    maxOffset: headerLong(response, 'maxOffset'),
    suggestWhichBrokerId: headerLong(response, 'suggestWhichBrokerId'),
    offsetDelta: optional(response, 'offsetDelta', headerLong),
    topicSysFlag: optional(response, 'topicSysFlag', headerInt),
    groupSysFlag: optional(response, 'groupSysFlag', headerInt),
    forbiddenType: optional(response, 'forbiddenType', headerInt),
    // Only FOUND carries records; anything else in the body is ignored, as the Java client does.
    messages: status === 'FOUND' ? decodeStoredMessages(response.body ?? Buffer.alloc(0), options) : [],
  };
}

function optional(
  response: RemotingCommand,
  key: string,
  read: (response: RemotingCommand, key: string) => number,
): number | undefined {
  return headerOptional(response, key) === undefined ? undefined : read(response, key);
}
