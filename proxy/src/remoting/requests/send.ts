/**
 * Publishing: SEND_MESSAGE_V2 (310, or SEND_MESSAGE 10 with V1 header names) for one message and
 * SEND_BATCH_MESSAGE (320) for a batch, plus the send response. Builders validate locally what a broker
 * would reject (topic name, empty or oversized body, properties over 32767 bytes, broken property text)
 * so the caller gets a precise error instead of MESSAGE_ILLEGAL / INVALID_PARAMETER after a round trip.
 */
import { deflateSync, zstdCompressSync } from 'node:zlib';
import { RequestCode, ResponseCode } from '../codes.ts';
import type { RemotingCommand, RequestSpec } from '../command.ts';
import { encodeBatchBody } from '../message/batch.ts';
import { nextUniqueId } from '../message/message-id.ts';
import {
  encodeProperties,
  findPropertyProblem,
  KEY_SEPARATOR,
  MAX_PROPERTIES_BYTES,
  MessageProperty,
  type PropertiesInput,
  propertiesByteLength,
} from '../message/properties.ts';
import { encodeSendHeader, type SendHeaderForm } from '../message/send-header.ts';
import {
  CompressionType,
  TransactionType,
  withCompression,
  withTransactionType,
} from '../message/sysflag.ts';
import { expectSuccess, headerInt, headerLong, headerOptional, headerString } from '../response.ts';

/** Auto-create template topic and its queue count, as the Java producer sends them. */
export const DEFAULT_TOPIC = 'TBW102';
export const DEFAULT_TOPIC_QUEUE_NUMS = 4;
/** The producer's and broker's default `maxMessageSize` (4 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;
/** Java compresses single-message bodies from this size on (`compressMsgBodyOverHowmuch`). */
export const COMPRESS_OVER_BYTES = 4096;
const TOPIC_MAX_LENGTH = 127;
const RETRY_OR_DLQ_TOPIC_MAX_LENGTH = 255;
const RETRY_TOPIC_PREFIX = '%RETRY%';
const DLQ_TOPIC_PREFIX = '%DLQ%';
const TOPIC_PATTERN = /^[%|a-zA-Z0-9_-]+$/;
/** System topics brokers refuse sends to (NO_PERMISSION). */
const NOT_ALLOWED_SEND_TOPICS: ReadonlySet<string> = new Set([
  'SCHEDULE_TOPIC_XXXX',
  'RMQ_SYS_TRANS_HALF_TOPIC',
  'RMQ_SYS_TRANS_OP_HALF_TOPIC',
  'TRANS_CHECK_MAX_TIME_TOPIC',
  'SELF_TEST_TOPIC',
  'OFFSET_MOVED_EVENT',
]);

/** Why a message was refused before sending; names follow the gRPC API's status codes. */
export type MessageProblem =
  | 'ILLEGAL_TOPIC'
  | 'ILLEGAL_PRODUCER_GROUP'
  | 'MESSAGE_BODY_EMPTY'
  | 'MESSAGE_BODY_TOO_LARGE'
  | 'MESSAGE_PROPERTIES_TOO_LARGE'
  | 'ILLEGAL_MESSAGE_PROPERTY'
  | 'ILLEGAL_MESSAGE_TAG'
  | 'ILLEGAL_MESSAGE_KEY'
  | 'ILLEGAL_DELIVERY_TIME'
  | 'ILLEGAL_ARGUMENT';

/** A message the broker would reject, caught before sending. */
export class MessageValidationError extends RangeError {
  override readonly name = 'MessageValidationError';
  readonly problem: MessageProblem;

  constructor(problem: MessageProblem, message: string) {
    super(message);
    this.problem = problem;
  }
}

/**
 * When a message becomes visible. `level` is a broker delay level (1 = 1s … 18 = 2h by default);
 * the others use the 5.x timer wheel: an absolute time (TIMER_DELIVER_MS, what the Java client's
 * `setDeliverTimeMs` and the gRPC proxy use) or a relative delay (TIMER_DELAY_SEC / TIMER_DELAY_MS).
 * Brokers cap timer delays at `timerMaxDelaySec` (3 days by default) with 1 s precision.
 */
export type SendDelay =
  | { level: number }
  | { deliverAtMs: number }
  | { delaySeconds: number }
  | { delayMs: number };

/** One message's content (shared by single and batch sends). */
export interface MessageContent {
  body: Uint8Array;
  /** A single tag (TAGS); brokers filter by its Java hashCode. */
  tags?: string | undefined;
  /** Business keys, indexed for QUERY_MESSAGE (KEYS, space-separated). */
  keys?: string | readonly string[] | undefined;
  /** Further properties; the typed fields above and below win over same-named entries here. */
  properties?: PropertiesInput | undefined;
  /** UNIQ_KEY (the client message id); generated when absent. */
  uniqueId?: string | undefined;
  /** The opaque user int flag. */
  flag?: number | undefined;
}

export interface SendMessageParams extends MessageContent {
  producerGroup: string;
  topic: string;
  /** Target queue; -1 (default) lets the broker pick a random writable queue. */
  queueId?: number | undefined;
  /** Target broker name; ignored by brokers, required by a 5.x Proxy. */
  brokerName?: string | undefined;
  delay?: SendDelay | undefined;
  /** A transactional half message: TRAN_MSG=true, PGROUP, sysFlag TRANSACTION_PREPARED. */
  transactional?: boolean | undefined;
  /** First transaction check after this many seconds (CHECK_IMMUNITY_TIME_IN_SECONDS). */
  checkImmunitySeconds?: number | undefined;
  /** WAIT property (wait for the store to confirm); default true, as Java sets it. */
  waitStoreMsgOk?: boolean | undefined;
  /** Only for `%RETRY%` topics (Java moves these out of the properties into the header). */
  reconsumeTimes?: number | undefined;
  maxReconsumeTimes?: number | undefined;
  /** Compress bodies of at least 4 KiB (as Java does with zlib level 5). LZ4 is not offered. */
  compression?: 'ZLIB' | 'ZSTD' | undefined;
  /** Default Date.now(). */
  bornTimestamp?: number | undefined;
  /** 'V2' (default, SEND_MESSAGE_V2 with keys a..n) or 'V1' (SEND_MESSAGE with field names). */
  form?: SendHeaderForm | undefined;
  /** Refuse bodies larger than this (default 4 MiB, the broker's `maxMessageSize`). */
  maxBodyBytes?: number | undefined;
  defaultTopic?: string | undefined;
  defaultTopicQueueNums?: number | undefined;
  unitMode?: boolean | undefined;
}

export interface SendBatchParams {
  producerGroup: string;
  topic: string;
  messages: readonly MessageContent[];
  queueId?: number | undefined;
  brokerName?: string | undefined;
  /** WAIT of the batch (one value for all messages, as Java requires). Default true. */
  waitStoreMsgOk?: boolean | undefined;
  /** UNIQ_KEY of the batch itself (brokers use it for inner-batch topics); generated when absent. */
  uniqueId?: string | undefined;
  bornTimestamp?: number | undefined;
  /** Refuse batches whose encoded body exceeds this (default 4 MiB). */
  maxBodyBytes?: number | undefined;
  defaultTopic?: string | undefined;
  defaultTopicQueueNums?: number | undefined;
  unitMode?: boolean | undefined;
}

/** A send request plus the UNIQ_KEY it carries, needed to report the client-visible message id. */
export interface SendRequestSpec extends RequestSpec {
  uniqueId: string;
}

export interface SendBatchRequestSpec extends RequestSpec {
  /** The batch's own UNIQ_KEY. */
  uniqueId: string;
  /** Each message's UNIQ_KEY, in order. */
  uniqueIds: string[];
}

export function sendMessageRequest(params: SendMessageParams): SendRequestSpec {
  checkSendableTopic(params.topic);
  validateProducerGroup(params.producerGroup);
  const maxBodyBytes = params.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  validateBody(params.body, maxBodyBytes, 'message body');
  if (params.transactional && params.delay !== undefined) {
    throw new MessageValidationError(
      'ILLEGAL_DELIVERY_TIME',
      'a transactional (half) message cannot be delayed',
    );
  }
  const isRetryTopic = params.topic.startsWith(RETRY_TOPIC_PREFIX);
  if (!isRetryTopic && (params.reconsumeTimes !== undefined || params.maxReconsumeTimes !== undefined)) {
    throw new MessageValidationError(
      'ILLEGAL_ARGUMENT',
      `reconsumeTimes/maxReconsumeTimes only apply to ${RETRY_TOPIC_PREFIX} topics, not ${params.topic}`,
    );
  }

  const uniqueId = params.uniqueId ?? nextUniqueId();
  const properties = messageProperties(params, uniqueId, params.waitStoreMsgOk ?? true);
  if (params.delay !== undefined) applyDelay(properties, params.delay);
  if (params.transactional) {
    properties.set(MessageProperty.TRANSACTION_PREPARED, 'true');
    properties.set(MessageProperty.PRODUCER_GROUP, params.producerGroup);
  }
  if (params.checkImmunitySeconds !== undefined) {
    requireInteger(params.checkImmunitySeconds, 'checkImmunitySeconds', 0);
    properties.set(MessageProperty.CHECK_IMMUNITY_TIME_IN_SECONDS, String(params.checkImmunitySeconds));
  }
  const encodedProperties = encodeCheckedProperties(properties, 'message');

  let sysFlag = params.transactional ? withTransactionType(0, TransactionType.PREPARED) : 0;
  let body = Buffer.from(params.body.buffer, params.body.byteOffset, params.body.byteLength);
  if (params.compression !== undefined && body.length >= COMPRESS_OVER_BYTES) {
    body = params.compression === 'ZLIB' ? deflateSync(body, { level: 5 }) : zstdCompressSync(body);
    sysFlag = withCompression(sysFlag, CompressionType[params.compression]);
  }

  const form = params.form ?? 'V2';
  return {
    code: form === 'V1' ? RequestCode.SEND_MESSAGE : RequestCode.SEND_MESSAGE_V2,
    extFields: encodeSendHeader(
      {
        producerGroup: params.producerGroup,
        topic: params.topic,
        defaultTopic: params.defaultTopic ?? DEFAULT_TOPIC,
        defaultTopicQueueNums: params.defaultTopicQueueNums ?? DEFAULT_TOPIC_QUEUE_NUMS,
        queueId: queueIdOf(params.queueId),
        sysFlag,
        bornTimestamp: params.bornTimestamp ?? Date.now(),
        flag: flagOf(params.flag, 'flag'),
        properties: encodedProperties,
        reconsumeTimes: isRetryTopic ? (params.reconsumeTimes ?? 0) : 0,
        unitMode: params.unitMode ?? false,
        maxReconsumeTimes: params.maxReconsumeTimes,
        batch: false,
        brokerName: params.brokerName,
      },
      form,
    ),
    body,
    uniqueId,
  };
}

/** SEND_BATCH_MESSAGE: one request storing several messages of one topic (V2 header only). */
export function sendBatchRequest(params: SendBatchParams): SendBatchRequestSpec {
  checkSendableTopic(params.topic);
  validateProducerGroup(params.producerGroup);
  if (params.topic.startsWith(RETRY_TOPIC_PREFIX)) {
    throw new MessageValidationError(
      'ILLEGAL_TOPIC',
      `brokers refuse batches to retry topic ${params.topic}`,
    );
  }
  if (params.messages.length === 0) {
    throw new MessageValidationError('MESSAGE_BODY_EMPTY', 'a batch needs at least one message');
  }
  const maxBodyBytes = params.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const waitStoreMsgOk = params.waitStoreMsgOk ?? true;
  const uniqueIds: string[] = [];
  const entries = params.messages.map((message, index) => {
    const what = `batch message ${index}`;
    validateBody(message.body, maxBodyBytes, `${what} body`);
    const uniqueId = message.uniqueId ?? nextUniqueId();
    uniqueIds.push(uniqueId);
    const properties = messageProperties(message, uniqueId, waitStoreMsgOk, what);
    if (properties.has(MessageProperty.DELAY_TIME_LEVEL)) {
      throw new MessageValidationError(
        'ILLEGAL_DELIVERY_TIME',
        `${what}: delay levels are not supported in batches`,
      );
    }
    return {
      flag: flagOf(message.flag, `${what} flag`),
      body: message.body,
      properties: encodeCheckedProperties(properties, what),
    };
  });
  const body = encodeBatchBody(entries);
  if (body.length > maxBodyBytes) {
    throw new MessageValidationError(
      'MESSAGE_BODY_TOO_LARGE',
      `batch body is ${body.length} bytes, over the ${maxBodyBytes}-byte limit`,
    );
  }
  const uniqueId = params.uniqueId ?? nextUniqueId();
  const batchProperties = new Map<string, string>([
    [MessageProperty.WAIT_STORE_MSG_OK, String(waitStoreMsgOk)],
    [MessageProperty.UNIQ_KEY, uniqueId],
  ]);
  return {
    code: RequestCode.SEND_BATCH_MESSAGE,
    extFields: encodeSendHeader(
      {
        producerGroup: params.producerGroup,
        topic: params.topic,
        defaultTopic: params.defaultTopic ?? DEFAULT_TOPIC,
        defaultTopicQueueNums: params.defaultTopicQueueNums ?? DEFAULT_TOPIC_QUEUE_NUMS,
        queueId: queueIdOf(params.queueId),
        sysFlag: 0, // Java never compresses batches
        bornTimestamp: params.bornTimestamp ?? Date.now(),
        flag: 0,
        properties: encodeCheckedProperties(batchProperties, 'batch'),
        reconsumeTimes: 0,
        unitMode: params.unitMode ?? false,
        batch: true,
        brokerName: params.brokerName,
      },
      'V2',
    ),
    body,
    uniqueId,
    uniqueIds,
  };
}

export type SendStatus = 'SEND_OK' | 'FLUSH_DISK_TIMEOUT' | 'FLUSH_SLAVE_TIMEOUT' | 'SLAVE_NOT_AVAILABLE';

export interface SendResult {
  /** SEND_OK, or a degraded status: stored on the master, but flush/replication was not confirmed. */
  status: SendStatus;
  /** The client message id (UNIQ_KEY); for a plain batch, the messages' ids joined by commas. */
  msgId: string;
  /** The broker's offset message id(s) (store host + commit-log offset); comma-joined for batches. */
  offsetMsgId: string;
  queueId: number;
  /** Consume-queue offset; for a half message, the half-queue offset (END_TRANSACTION's tranStateTableOffset). */
  queueOffset: number;
  /** The stored message's UNIQ_KEY, as reported by the broker (single sends). */
  transactionId: string | undefined;
  /** Broker region (`MSG_REGION`), `DefaultRegion` when absent. */
  regionId: string;
  /** Whether the broker has message tracing on (`TRACE_ON` is not "false"). */
  traceOn: boolean;
  /** Present for timer (delay) messages: the handle for RECALL_MESSAGE. */
  recallHandle?: string | undefined;
  /** Present when the broker stored the batch as one inner-batch entry (BatchCQ topics). */
  batchUniqId?: string | undefined;
}

const SEND_STATUS_BY_CODE: ReadonlyMap<number, SendStatus> = new Map([
  [ResponseCode.SUCCESS, 'SEND_OK'],
  [ResponseCode.FLUSH_DISK_TIMEOUT, 'FLUSH_DISK_TIMEOUT'],
  [ResponseCode.FLUSH_SLAVE_TIMEOUT, 'FLUSH_SLAVE_TIMEOUT'],
  [ResponseCode.SLAVE_NOT_AVAILABLE, 'SLAVE_NOT_AVAILABLE'],
]);
const SEND_OK_CODES = [...SEND_STATUS_BY_CODE.keys()];
const DEFAULT_REGION_ID = 'DefaultRegion';

/**
 * Reads a send response. Codes 10/11/12 are successful sends with a degraded status; anything else
 * throws RemotingResponseError. Pass the request spec so `msgId` is the id the client assigned (for
 * batches the only way to know it); without it the broker's `transactionId` stands in.
 */
export function parseSendResult(
  response: RemotingCommand,
  request?: { uniqueId?: string; uniqueIds?: readonly string[] },
): SendResult {
  expectSuccess(response, undefined, SEND_OK_CODES);
  const status = SEND_STATUS_BY_CODE.get(response.code)!;
  const offsetMsgId = headerString(response, 'msgId');
  const transactionId = headerOptional(response, 'transactionId');
  const batchUniqId = headerOptional(response, 'batchUniqId');
  let msgId: string;
  if (request?.uniqueIds !== undefined && batchUniqId === undefined) {
    msgId = request.uniqueIds.join(',');
  } else {
    msgId = request?.uniqueId ?? transactionId ?? offsetMsgId;
  }
  const region = headerOptional(response, MessageProperty.MSG_REGION);
  return {
    status,
    msgId,
    offsetMsgId,
    queueId: headerInt(response, 'queueId'),
    queueOffset: headerLong(response, 'queueOffset'),
    transactionId,
    regionId: region === undefined || region === '' ? DEFAULT_REGION_ID : region,
    traceOn: headerOptional(response, MessageProperty.TRACE_SWITCH) !== 'false',
    recallHandle: headerOptional(response, 'recallHandle'),
    batchUniqId,
  };
}

/** Throws MessageValidationError unless `topic` is a name brokers accept for sending. */
function checkSendableTopic(topic: string): void {
  if (topic.trim() === '') throw new MessageValidationError('ILLEGAL_TOPIC', 'topic is blank');
  if (!TOPIC_PATTERN.test(topic)) {
    throw new MessageValidationError(
      'ILLEGAL_TOPIC',
      `topic ${JSON.stringify(topic)} contains characters outside ^[%|a-zA-Z0-9_-]+$`,
    );
  }
  const internal = topic.startsWith(RETRY_TOPIC_PREFIX) || topic.startsWith(DLQ_TOPIC_PREFIX);
  const max = internal ? RETRY_OR_DLQ_TOPIC_MAX_LENGTH : TOPIC_MAX_LENGTH;
  if (topic.length > max) {
    throw new MessageValidationError(
      'ILLEGAL_TOPIC',
      `topic is ${topic.length} characters long (max ${max})`,
    );
  }
  if (NOT_ALLOWED_SEND_TOPICS.has(topic)) {
    throw new MessageValidationError('ILLEGAL_TOPIC', `brokers refuse sends to system topic ${topic}`);
  }
}

function validateProducerGroup(group: string): void {
  if (group.trim() === '')
    throw new MessageValidationError('ILLEGAL_PRODUCER_GROUP', 'producer group is blank');
  if (group.includes('\u0001') || group.includes('\u0002')) {
    throw new MessageValidationError('ILLEGAL_PRODUCER_GROUP', 'producer group contains U+0001/U+0002');
  }
}

function validateBody(body: Uint8Array, maxBodyBytes: number, what: string): void {
  if (body.length === 0) throw new MessageValidationError('MESSAGE_BODY_EMPTY', `${what} is empty`);
  if (body.length > maxBodyBytes) {
    throw new MessageValidationError(
      'MESSAGE_BODY_TOO_LARGE',
      `${what} is ${body.length} bytes, over the ${maxBodyBytes}-byte limit`,
    );
  }
}

/** User properties, then tags/keys/WAIT/UNIQ_KEY on top (the typed fields win). */
function messageProperties(
  content: MessageContent,
  uniqueId: string,
  waitStoreMsgOk: boolean,
  what = 'message',
): Map<string, string> {
  const properties = new Map<string, string>(
    content.properties instanceof Map ? content.properties : Object.entries(content.properties ?? {}),
  );
  if (content.tags !== undefined) {
    if (content.tags.trim() === '' || content.tags.includes('||')) {
      throw new MessageValidationError(
        'ILLEGAL_MESSAGE_TAG',
        `${what}: tag ${JSON.stringify(content.tags)} is blank or contains "||"`,
      );
    }
    properties.set(MessageProperty.TAGS, content.tags);
  }
  if (content.keys !== undefined) {
    const keys = typeof content.keys === 'string' ? [content.keys] : content.keys;
    for (const key of keys) {
      if (key === '' || key.includes(KEY_SEPARATOR)) {
        throw new MessageValidationError(
          'ILLEGAL_MESSAGE_KEY',
          `${what}: key ${JSON.stringify(key)} is empty or contains the key separator " "`,
        );
      }
    }
    if (keys.length > 0) properties.set(MessageProperty.KEYS, keys.join(KEY_SEPARATOR));
  }
  properties.set(MessageProperty.WAIT_STORE_MSG_OK, String(waitStoreMsgOk));
  properties.set(MessageProperty.UNIQ_KEY, uniqueId);
  return properties;
}

function applyDelay(properties: Map<string, string>, delay: SendDelay): void {
  if ('level' in delay) {
    requireInteger(delay.level, 'delay level', 1, INT32_MAX, 'ILLEGAL_DELIVERY_TIME');
    properties.set(MessageProperty.DELAY_TIME_LEVEL, String(delay.level));
  } else if ('deliverAtMs' in delay) {
    requireInteger(delay.deliverAtMs, 'delivery time', 0, Number.MAX_SAFE_INTEGER, 'ILLEGAL_DELIVERY_TIME');
    properties.set(MessageProperty.TIMER_DELIVER_MS, String(delay.deliverAtMs));
  } else if ('delaySeconds' in delay) {
    requireInteger(delay.delaySeconds, 'delay seconds', 0, INT32_MAX, 'ILLEGAL_DELIVERY_TIME');
    properties.set(MessageProperty.TIMER_DELAY_SEC, String(delay.delaySeconds));
  } else {
    requireInteger(delay.delayMs, 'delay ms', 0, Number.MAX_SAFE_INTEGER, 'ILLEGAL_DELIVERY_TIME');
    properties.set(MessageProperty.TIMER_DELAY_MS, String(delay.delayMs));
  }
}

function encodeCheckedProperties(properties: Map<string, string>, what: string): string {
  const problem = findPropertyProblem(properties);
  if (problem !== undefined) {
    throw new MessageValidationError(
      'ILLEGAL_MESSAGE_PROPERTY',
      `${what}: property ${JSON.stringify(problem.key)} has a ${problem.part} that is ${problem.reason}`,
    );
  }
  const encoded = encodeProperties(properties);
  const bytes = propertiesByteLength(encoded);
  if (bytes > MAX_PROPERTIES_BYTES) {
    throw new MessageValidationError(
      'MESSAGE_PROPERTIES_TOO_LARGE',
      `${what}: properties are ${bytes} bytes encoded (max ${MAX_PROPERTIES_BYTES})`,
    );
  }
  return encoded;
}

function queueIdOf(queueId: number | undefined): number {
  if (queueId === undefined) return -1;
  requireInteger(queueId, 'queueId', -1);
  return queueId;
}

function flagOf(flag: number | undefined, what: string): number {
  if (flag === undefined) return 0;
  if (!Number.isInteger(flag) || flag < -(2 ** 31) || flag >= 2 ** 31) {
    throw new MessageValidationError('ILLEGAL_ARGUMENT', `${what} ${flag} is not an int32`);
  }
  return flag;
}

const INT32_MAX = 2 ** 31 - 1;

function requireInteger(
  value: number,
  what: string,
  min: number,
  max = INT32_MAX,
  problem: MessageProblem = 'ILLEGAL_ARGUMENT',
): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new MessageValidationError(problem, `${what} ${value} must be an integer in [${min}, ${max}]`);
  }
}
