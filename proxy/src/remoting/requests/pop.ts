/**
 * POP consumption (RocketMQ 5's broker-side consumer balance): POP_MESSAGE hides messages for `invisibleTime` and hands out a
 * receipt per message; ACK_MESSAGE / BATCH_ACK_MESSAGE consume them; CHANGE_MESSAGE_INVISIBLETIME
 * extends the hiding and returns a receipt that replaces the old one. All go to the master of the broker
 * that served the pop; send them with JSON headers (their codes do not fit the binary header's 16 bits).
 * The long-poll probes NOTIFICATION and POLLING_INFO, which the proxy does not send, are in
 * test/support/remoting/pop-requests.ts.
 */
import { RequestCode, ResponseCode } from '../codes.ts';
import type { RemotingCommand, RequestSpec } from '../command.ts';
import { RemotingError, RemotingResponseError } from '../errors.ts';
import {
  formatExtraInfo,
  type PopReceipt,
  parsePopReceipt,
  type RetryFlag,
  realTopicOf,
  renewedReceipt,
  retryFlagOfTopic,
  toPopReceipt,
} from '../message/pop-receipt.ts';
import { MessageProperty } from '../message/properties.ts';
import { type DecodeOptions, decodeStoredMessages, type StoredMessage } from '../message/stored-message.ts';
import { expectSuccess, headerInt, headerLong, headerOptional } from '../response.ts';
import { extFields } from './ext-fields.ts';
import type { ExpressionType } from './heartbeat.ts';

/** Where a group with no committed offset starts: earliest (MIN) or latest (MAX) message. */
export type ConsumeInitMode = 'MIN' | 'MAX';
const INIT_MODE_CODE: Record<ConsumeInitMode, number> = { MIN: 0, MAX: 1 };

/** Broker limit on messages per pop; more is answered with INVALID_PARAMETER. */
export const POP_MAX_MSG_NUMS = 32;

export interface PopMessageParams {
  consumerGroup: string;
  /** The original topic, never a retry topic: the broker adds the group's retry topic itself. */
  topic: string;
  /** −1 (the default) pops from every readable queue. */
  queueId?: number | undefined;
  maxMsgNums: number;
  /** Milliseconds the popped messages stay hidden from other consumers. */
  invisibleTime: number;
  /** Long-poll milliseconds (0 = answer at once); the request timeout must exceed it. */
  pollTime: number;
  /**
   * Client clock in ms (defaults to now). The broker answers POLLING_TIMEOUT at once when its own
   * clock is more than 500 ms past bornTime + pollTime, so a skewed clock starves the consumer.
   */
  bornTime?: number | undefined;
  /** Defaults to MAX (start at the latest message), as the Apache gRPC proxy does. */
  initMode?: ConsumeInitMode | undefined;
  expressionType?: ExpressionType | undefined;
  /** Tag expression or SQL92; the broker treats absent as `*`. */
  expression?: string | undefined;
  /** FIFO pop: the queue stays locked until the batch is acked or turns visible again. */
  order?: boolean | undefined;
  /** Idempotency token for retried order pops. */
  attemptId?: string | undefined;
  brokerName?: string | undefined;
}

export function popMessageRequest(params: PopMessageParams, now: number = Date.now()): RequestSpec {
  return {
    code: RequestCode.POP_MESSAGE,
    extFields: extFields({
      consumerGroup: params.consumerGroup,
      topic: params.topic,
      // Always sent: the broker's lenient decoder would turn a missing queueId into queue 0.
      queueId: params.queueId ?? -1,
      maxMsgNums: params.maxMsgNums,
      invisibleTime: params.invisibleTime,
      pollTime: params.pollTime,
      bornTime: params.bornTime ?? now,
      initMode: INIT_MODE_CODE[params.initMode ?? 'MAX'],
      expType: params.expressionType,
      exp: params.expression,
      order: params.order ?? false,
      attemptId: params.attemptId,
      bname: params.brokerName,
    }),
  };
}

/**
 * FOUND: messages returned. POLLING_FULL: the broker's long-poll queue is full (back off).
 * POLLING_NOT_FOUND: the long poll ended without messages (POLLING_TIMEOUT). NO_NEW_MSG: the broker said
 * PULL_NOT_FOUND; the Java client folds this into POLLING_NOT_FOUND, we keep it apart.
 */
export type PopStatus = 'FOUND' | 'NO_NEW_MSG' | 'POLLING_FULL' | 'POLLING_NOT_FOUND';

/** A popped message: the stored record, seen the way the Java client presents it, plus its receipt. */
export interface PoppedMessage extends StoredMessage {
  /** The requested topic, also for retried messages (which are stored in a retry topic). */
  topic: string;
  /** The topic the message was read from, which ack and change-invisible-time must name. */
  realTopic: string;
  receipt: PopReceipt;
  /** The receipt in its string form (also stored as property POP_CK). */
  receiptHandle: string;
}

export interface PopResult {
  status: PopStatus;
  /** Broker time of the pop (0 when the broker did not say). */
  popTime: number;
  invisibleTime: number;
  reviveQid: number;
  /** Approximate number of messages still available. */
  restNum: number;
  messages: PoppedMessage[];
}

/** What the response alone does not say but receipts need: taken from the request that was sent. */
export interface PopContext {
  consumerGroup: string;
  topic: string;
  /** Name of the broker the pop was sent to; it goes into every receipt and routes acks. */
  brokerName: string;
  order?: boolean | undefined;
}

const POP_STATUS: ReadonlyMap<number, PopStatus> = new Map<number, PopStatus>([
  [ResponseCode.SUCCESS, 'FOUND'],
  [ResponseCode.PULL_NOT_FOUND, 'NO_NEW_MSG'],
  [ResponseCode.POLLING_FULL, 'POLLING_FULL'],
  [ResponseCode.POLLING_TIMEOUT, 'POLLING_NOT_FOUND'],
]);

/**
 * Parses a POP_MESSAGE response. "Nothing to pop" codes become statuses; other codes throw
 * RemotingResponseError; malformed headers, bodies or receipts throw RemotingError('RMQ_BAD_PAYLOAD').
 */
export function parsePopResponse(
  response: RemotingCommand,
  context: PopContext,
  options: DecodeOptions = {},
): PopResult {
  if (context.brokerName.length === 0 || /\s/.test(context.brokerName)) {
    // It becomes a space-separated receipt field; a space would shift every field after it.
    throw new RangeError(`broker name ${JSON.stringify(context.brokerName)} cannot be put in a pop receipt`);
  }
  const status = POP_STATUS.get(response.code);
  if (status === undefined) {
    throw new RemotingResponseError(response.code, response.remark, RequestCode.POP_MESSAGE);
  }
  if (status !== 'FOUND') {
    // The broker fills these on every answer, but nothing depends on them without messages.
    return {
      status,
      popTime: optionalLong(response, 'popTime'),
      invisibleTime: optionalLong(response, 'invisibleTime'),
      reviveQid: optionalLong(response, 'reviveQid'),
      restNum: optionalLong(response, 'restNum'),
      messages: [],
    };
  }
  const header: PopHeader = {
    popTime: headerLong(response, 'popTime'),
    invisibleTime: headerLong(response, 'invisibleTime'),
    reviveQid: headerInt(response, 'reviveQid'),
    restNum: headerLong(response, 'restNum'),
    startOffsets: parseOffsetInfo(response, 'startOffsetInfo', singleLong),
    msgOffsets: parseOffsetInfo(response, 'msgOffsetInfo', longList),
    orderCounts: parseOffsetInfo(response, 'orderCountInfo', singleInt),
  };
  const stored = decodeStoredMessages(response.body ?? Buffer.alloc(0), options);
  return {
    status,
    popTime: header.popTime,
    invisibleTime: header.invisibleTime,
    reviveQid: header.reviveQid,
    restNum: header.restNum,
    messages: attachReceipts(stored, header, context),
  };
}

interface PopHeader {
  popTime: number;
  invisibleTime: number;
  reviveQid: number;
  restNum: number;
  /** `retry@queueId` → checkpoint start offset. */
  startOffsets: Map<string, number> | undefined;
  /** `retry@queueId` → offsets of the popped messages, in response order. */
  msgOffsets: Map<string, number[]> | undefined;
  /** `retry@qo<queueId>%<offset>` or `retry@queueId` → delivery count (order pop only). */
  orderCounts: Map<string, number> | undefined;
}

/**
 * Builds each message's receipt the way the Java client does (MQClientAPIImpl#processPopResponse),
 * except that missing bookkeeping is an error instead of a NullPointerException.
 */
function attachReceipts(stored: StoredMessage[], header: PopHeader, context: PopContext): PoppedMessage[] {
  // Offsets seen per `retry@queueId`, in response order: a message's position here indexes msgOffsetInfo.
  const seenOffsets = new Map<string, number[]>();
  const existing = stored.map((message, index) => {
    const popCk = message.properties.get(MessageProperty.POP_CK);
    const receipt = popCk === undefined ? undefined : receiptFromProperty(popCk, index);
    const key = `${receipt?.retry ?? retryFlagOfTopic(message.topic)}@${message.queueId}`;
    const list = seenOffsets.get(key) ?? [];
    list.push(message.queueOffset);
    seenOffsets.set(key, list);
    return receipt;
  });
  // Very old brokers send no startOffsetInfo: the first offset per topic and queue stands in for it.
  const firstOffsets = new Map<string, number>();

  return stored.map((message, index) => {
    let receipt = existing[index];
    const retry = receipt?.retry ?? retryFlagOfTopic(message.topic);
    const queueKey = `${retry}@${message.queueId}`;
    let reconsumeTimes = message.reconsumeTimes;
    if (receipt === undefined) {
      const built = buildReceipt(message, retry, queueKey, header, context, seenOffsets, firstOffsets, index);
      // Re-parsing guarantees every handle we give out is one we accept back (no negative offsets, no
      // spaces in the broker name, …).
      receipt = checkedReceipt(built, index);
      if (context.order === true && header.orderCounts !== undefined) {
        const count =
          header.orderCounts.get(`${retry}@qo${message.queueId}%${message.queueOffset}`) ??
          header.orderCounts.get(queueKey);
        if (count !== undefined && count > 0) reconsumeTimes = count;
      }
    }
    const receiptHandle = formatExtraInfo(receipt);
    const properties = new Map(message.properties);
    properties.set(MessageProperty.POP_CK, receiptHandle);
    if (!properties.has(MessageProperty.FIRST_POP_TIME)) {
      properties.set(MessageProperty.FIRST_POP_TIME, String(header.popTime));
    }
    return {
      ...message,
      topic: context.topic,
      reconsumeTimes,
      properties,
      realTopic: realTopicOf(receipt.retry, context.topic, context.consumerGroup),
      receipt,
      receiptHandle,
    };
  });
}

function buildReceipt(
  message: StoredMessage,
  retry: RetryFlag,
  queueKey: string,
  header: PopHeader,
  context: PopContext,
  seenOffsets: Map<string, number[]>,
  firstOffsets: Map<string, number>,
  index: number,
): PopReceipt {
  const common = {
    popTime: header.popTime,
    invisibleTime: header.invisibleTime,
    reviveQid: header.reviveQid,
    retry,
    brokerName: context.brokerName,
    queueId: message.queueId,
    commitLogOffset: undefined,
  };
  if (header.startOffsets === undefined) {
    const firstKey = `${message.topic}\u0000${message.queueId}`;
    const ckQueueOffset = firstOffsets.get(firstKey) ?? message.queueOffset;
    firstOffsets.set(firstKey, ckQueueOffset);
    return { ...common, ckQueueOffset, queueOffset: message.queueOffset };
  }
  const ckQueueOffset = header.startOffsets.get(queueKey);
  if (ckQueueOffset === undefined) {
    throw new RemotingError(
      'RMQ_BAD_PAYLOAD',
      `pop response message ${index} (queue ${queueKey}, offset ${message.queueOffset}) has no startOffsetInfo entry`,
    );
  }
  // The broker's own list of popped offsets wins over the record's field (Java warns when they differ);
  // without one the record's offset is all there is.
  const position = seenOffsets.get(queueKey)?.indexOf(message.queueOffset) ?? -1;
  const queueOffset = header.msgOffsets?.get(queueKey)?.[position] ?? message.queueOffset;
  return { ...common, ckQueueOffset, queueOffset };
}

function checkedReceipt(receipt: PopReceipt, index: number): PopReceipt {
  try {
    return parsePopReceipt(formatExtraInfo(receipt));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RemotingError(
      'RMQ_BAD_PAYLOAD',
      `pop response message ${index} yields an invalid receipt: ${reason}`,
    );
  }
}

function receiptFromProperty(popCk: string, index: number): PopReceipt {
  try {
    return parsePopReceipt(popCk);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new RemotingError('RMQ_BAD_PAYLOAD', `pop response message ${index} has a bad POP_CK: ${reason}`);
  }
}

/**
 * Parses `"<retry> <queueKey> <value>"` entries joined by `;` into `retry@queueKey → value`, rejecting
 * what Java would reject (wrong arity, duplicates, bad numbers). Absent or empty means "not sent".
 */
function parseOffsetInfo<T>(
  response: RemotingCommand,
  key: string,
  parseValue: (text: string) => T | undefined,
): Map<string, T> | undefined {
  const text = headerOptional(response, key);
  if (text === undefined || text.length === 0) return undefined;
  const map = new Map<string, T>();
  for (const entry of text.split(';')) {
    const parts = entry.split(' ');
    const [retry, queue, valueText] = parts;
    if (parts.length !== 3 || !retry || !queue || valueText === undefined) {
      throw badInfo(key, text, `entry ${JSON.stringify(entry)} is not "<retry> <queue> <value>"`);
    }
    const mapKey = `${retry}@${queue}`;
    if (map.has(mapKey)) throw badInfo(key, text, `entry ${mapKey} appears twice`);
    const value = parseValue(valueText);
    if (value === undefined)
      throw badInfo(key, text, `entry ${mapKey} has a bad value ${JSON.stringify(valueText)}`);
    map.set(mapKey, value);
  }
  return map;
}

const DECIMAL = /^[+-]?[0-9]+$/;

function singleLong(text: string): number | undefined {
  const value = DECIMAL.test(text) ? Number(text) : Number.NaN;
  return Number.isSafeInteger(value) ? value : undefined;
}

function singleInt(text: string): number | undefined {
  const value = singleLong(text);
  return value !== undefined && value >= -(2 ** 31) && value < 2 ** 31 ? value : undefined;
}

function longList(text: string): number[] | undefined {
  const values = text.split(',').map(singleLong);
  return values.every((value) => value !== undefined) ? (values as number[]) : undefined;
}

function badInfo(key: string, text: string, reason: string): RemotingError {
  const shown = text.length > 200 ? `${text.slice(0, 200)}…` : text;
  return new RemotingError(
    'RMQ_BAD_PAYLOAD',
    `pop response header ${key} ${JSON.stringify(shown)}: ${reason}`,
  );
}

function optionalLong(response: RemotingCommand, key: string): number {
  return headerOptional(response, key) === undefined ? 0 : headerLong(response, key);
}

// ---------------------------------------------------------------------------------------------------
// Ack, batch ack, change invisible time

export interface ReceiptParams {
  consumerGroup: string;
  /** The original topic the message was popped from (the real topic is derived from the receipt). */
  topic: string;
  /** The receipt handle string, or a parsed receipt. */
  receipt: string | PopReceipt;
}

/** ACK_MESSAGE for one receipt; send it to the master of `receipt.brokerName`. */
export function ackMessageRequest(params: ReceiptParams): RequestSpec {
  return { code: RequestCode.ACK_MESSAGE, extFields: receiptFields(params) };
}

/**
 * Success or RemotingResponseError. NO_MESSAGE (208) means the offset is outside the queue's range: the
 * receipt names a message that no longer exists. Acking an already-acked message still succeeds, and so
 * does acking with a receipt that CHANGE_MESSAGE_INVISIBLETIME replaced, although that consumes nothing:
 * the message returns when the new invisible time ends (5.4.0). SUCCESS is not proof of consumption.
 */
export function parseAckMessage(response: RemotingCommand): void {
  expectSuccess(response, RequestCode.ACK_MESSAGE);
}

export interface ChangeInvisibleTimeParams extends ReceiptParams {
  /** New invisibility in ms, counted from now. */
  invisibleTime: number;
}

export function changeInvisibleTimeRequest(params: ChangeInvisibleTimeParams): RequestSpec {
  return {
    code: RequestCode.CHANGE_MESSAGE_INVISIBLETIME,
    extFields: { ...receiptFields(params), ...extFields({ invisibleTime: params.invisibleTime }) },
  };
}

export interface ChangeInvisibleTimeResult {
  popTime: number;
  invisibleTime: number;
  reviveQid: number;
  /** Replaces the old receipt, which the broker no longer honours. */
  receipt: PopReceipt;
  receiptHandle: string;
}

/** Parses the response and builds the replacement receipt from the one that was sent. */
export function parseChangeInvisibleTime(
  response: RemotingCommand,
  sentReceipt: string | PopReceipt,
): ChangeInvisibleTimeResult {
  expectSuccess(response, RequestCode.CHANGE_MESSAGE_INVISIBLETIME);
  const renewal = {
    popTime: headerLong(response, 'popTime'),
    invisibleTime: headerLong(response, 'invisibleTime'),
    reviveQid: headerInt(response, 'reviveQid'),
  };
  if (renewal.reviveQid < 0) {
    throw new RemotingError(
      'RMQ_BAD_PAYLOAD',
      `change-invisible-time response has reviveQid ${renewal.reviveQid}`,
    );
  }
  const receipt = renewedReceipt(toPopReceipt(sentReceipt), renewal);
  return { ...renewal, receipt, receiptHandle: formatExtraInfo(receipt) };
}

function receiptFields(params: ReceiptParams): Record<string, string> {
  const receipt = toPopReceipt(params.receipt);
  return extFields({
    consumerGroup: params.consumerGroup,
    topic: realTopicOf(receipt.retry, params.topic, params.consumerGroup),
    queueId: receipt.queueId,
    extraInfo: formatExtraInfo(receipt),
    offset: receipt.queueOffset,
    bname: receipt.brokerName,
  });
}

/**
 * A receipt's offset lies this far at most past its checkpoint start: far beyond any real checkpoint
 * (one pop's read range), and it keeps a forged receipt from inflating the bitset to megabytes.
 */
export const MAX_BATCH_ACK_SPAN = 1 << 16;

export interface BatchAckParams {
  consumerGroup: string;
  /** The original topic (the broker derives retry topics from each entry's retry flag). */
  topic: string;
  /** Receipts of one broker; group receipts by `brokerName` before calling. */
  receipts: ReadonlyArray<string | PopReceipt>;
}

/**
 * BATCH_ACK_MESSAGE: no header, a JSON body with one entry per checkpoint (retry, queue, start offset,
 * pop time) whose bitset marks the acked offsets relative to the checkpoint start.
 */
export function batchAckMessageRequest(params: BatchAckParams): RequestSpec {
  if (params.receipts.length === 0) throw new RangeError('batch ack needs at least one receipt');
  const receipts = params.receipts.map(toPopReceipt);
  const brokerName = receipts[0]?.brokerName ?? '';
  const groups = new Map<string, { first: PopReceipt; bits: number[] }>();
  for (const receipt of receipts) {
    if (receipt.brokerName !== brokerName) {
      throw new RangeError(`batch ack receipts span brokers ${brokerName} and ${receipt.brokerName}`);
    }
    const span = receipt.queueOffset - receipt.ckQueueOffset;
    if (span < 0 || span >= MAX_BATCH_ACK_SPAN) {
      throw new RemotingError(
        'RMQ_BAD_PAYLOAD',
        `receipt ${JSON.stringify(formatExtraInfo(receipt))} has offset ${receipt.queueOffset} outside [checkpoint start ${receipt.ckQueueOffset}, +${MAX_BATCH_ACK_SPAN})`,
      );
    }
    const key = `${receipt.retry}@${receipt.queueId}@${receipt.ckQueueOffset}@${receipt.popTime}`;
    const group = groups.get(key) ?? { first: receipt, bits: [] };
    group.bits.push(span);
    groups.set(key, group);
  }
  // Keys in fastjson's order (alphabetical), as a Java client writes them.
  const acks = [...groups.values()].map(({ first, bits }) => ({
    b: javaBitSetBase64(bits),
    c: params.consumerGroup,
    it: first.invisibleTime,
    pt: first.popTime,
    q: first.queueId,
    r: first.retry,
    rq: first.reviveQid,
    so: first.ckQueueOffset,
    t: params.topic,
  }));
  return {
    code: RequestCode.BATCH_ACK_MESSAGE,
    body: Buffer.from(JSON.stringify({ acks, brokerName }), 'utf8'),
  };
}

/** Always SUCCESS from a broker that knows the code (out-of-range offsets are skipped silently). */
export function parseBatchAckMessage(response: RemotingCommand): void {
  expectSuccess(response, RequestCode.BATCH_ACK_MESSAGE);
}

/** Base64 of Java's `BitSet.toByteArray()`: bit i is byte i/8, bit i%8; trailing zero bytes dropped. */
export function javaBitSetBase64(bits: readonly number[]): string {
  let highest = -1;
  for (const bit of bits) highest = Math.max(highest, bit);
  if (highest < 0) return '';
  const bytes = Buffer.alloc((highest >> 3) + 1);
  for (const bit of bits) bytes[bit >> 3] = (bytes[bit >> 3] ?? 0) | (1 << (bit & 7));
  return bytes.toString('base64');
}
