/**
 * The POP receipt ("extraInfo", carried in message property POP_CK): eight space-separated fields that
 * tell the broker which checkpoint a popped message belongs to. Ack and change-invisible-time requests
 * send it back verbatim, plus the real topic/queue/offset derived from it.
 *
 *   ckQueueOffset popTime invisibleTime reviveQid retry brokerName queueId queueOffset [commitLogOffset]
 *
 * The optional ninth field is the commit-log offset the Apache proxy appends to its gRPC receipt
 * handles; brokers read only the first eight, so we accept it and carry it along.
 */
import { RemotingError } from '../errors.ts';

/** Which topic the message was read from: the topic itself, or one of the two pop-retry namings. */
export type RetryFlag = '0' | '1' | '2';

export const RetryFlag = {
  NORMAL: '0',
  /** `%RETRY%<group>_<topic>` */
  RETRY_V1: '1',
  /** `%RETRY%<group>+<topic>` */
  RETRY_V2: '2',
} as const;

export const RETRY_GROUP_TOPIC_PREFIX = '%RETRY%';
/** reviveQid of receipts from an order (FIFO) pop: acking them advances the consumer offset. */
export const POP_ORDER_REVIVE_QUEUE = 999;

export interface PopReceipt {
  /** Start offset of the checkpoint this message was popped under (the batch-ack bitset base). */
  ckQueueOffset: number;
  popTime: number;
  invisibleTime: number;
  reviveQid: number;
  retry: RetryFlag;
  brokerName: string;
  queueId: number;
  /** The message's consume-queue offset: what ack and change-invisible-time send as `offset`. */
  queueOffset: number;
  /** Present only when the receipt came with the proxy-style ninth field. */
  commitLogOffset?: number | undefined;
}

/** Receipts are short; anything far longer is garbage and is rejected before splitting. */
const MAX_RECEIPT_LENGTH = 4096;
const FIELD_NAMES = [
  'ckQueueOffset',
  'popTime',
  'invisibleTime',
  'reviveQid',
  'retry',
  'brokerName',
  'queueId',
  'queueOffset',
  'commitLogOffset',
] as const;
const DECIMAL = /^[+-]?[0-9]+$/;
const INT32_MAX = 2 ** 31 - 1;

export function popRetryTopicV1(topic: string, consumerGroup: string): string {
  return `${RETRY_GROUP_TOPIC_PREFIX}${consumerGroup}_${topic}`;
}

export function popRetryTopicV2(topic: string, consumerGroup: string): string {
  return `${RETRY_GROUP_TOPIC_PREFIX}${consumerGroup}+${topic}`;
}

/**
 * The retry flag of a topic a message was read from, by the broker's rule: a `%RETRY%` topic containing
 * `+` is V2, any other `%RETRY%` topic is V1 (names cannot otherwise contain `+`).
 */
export function retryFlagOfTopic(topic: string): RetryFlag {
  if (!topic.startsWith(RETRY_GROUP_TOPIC_PREFIX)) return RetryFlag.NORMAL;
  return topic.includes('+') ? RetryFlag.RETRY_V2 : RetryFlag.RETRY_V1;
}

/** The topic to ack against: the original topic, or the group's pop-retry topic named by `retry`. */
export function realTopicOf(retry: RetryFlag, topic: string, consumerGroup: string): string {
  switch (retry) {
    case RetryFlag.NORMAL:
      return topic;
    case RetryFlag.RETRY_V1:
      return popRetryTopicV1(topic, consumerGroup);
    case RetryFlag.RETRY_V2:
      return popRetryTopicV2(topic, consumerGroup);
  }
}

export function isOrderReceipt(receipt: PopReceipt): boolean {
  return receipt.reviveQid === POP_ORDER_REVIVE_QUEUE;
}

/** The broker-facing eight-field form (the ninth, proxy-only field is left off). */
export function formatExtraInfo(receipt: PopReceipt): string {
  return [
    receipt.ckQueueOffset,
    receipt.popTime,
    receipt.invisibleTime,
    receipt.reviveQid,
    receipt.retry,
    receipt.brokerName,
    receipt.queueId,
    receipt.queueOffset,
  ].join(' ');
}

/** The receipt as a handle string: eight fields, or nine when it carries a commit-log offset. */
export function formatPopReceipt(receipt: PopReceipt): string {
  const extraInfo = formatExtraInfo(receipt);
  return receipt.commitLogOffset === undefined ? extraInfo : `${extraInfo} ${receipt.commitLogOffset}`;
}

/**
 * Parses a receipt strictly: exactly eight or nine single-space-separated non-empty fields, integers in
 * their Java ranges, a known retry flag. Throws RemotingError('RMQ_BAD_PAYLOAD') naming the bad field.
 */
export function parsePopReceipt(text: string): PopReceipt {
  if (typeof text !== 'string') throw bad(`a pop receipt must be a string, got ${typeof text}`);
  if (text.length > MAX_RECEIPT_LENGTH) {
    throw bad(`pop receipt is ${text.length} characters long, at most ${MAX_RECEIPT_LENGTH} allowed`);
  }
  const fields = text.split(' ');
  if (fields.length !== 8 && fields.length !== 9) {
    throw bad(`pop receipt ${quote(text)} has ${fields.length} space-separated fields, expected 8 or 9`);
  }
  const field = (index: number): string => {
    const value = fields[index] ?? '';
    if (value.length === 0) throw bad(`pop receipt ${quote(text)} has an empty ${FIELD_NAMES[index]}`);
    return value;
  };
  const long = (index: number, min = 0): number => {
    const value = field(index);
    // `+ 0` turns "-0" into 0, so that a parsed receipt formats back to a string that parses the same.
    const number = DECIMAL.test(value) ? Number(value) + 0 : Number.NaN;
    if (!Number.isSafeInteger(number) || number < min) {
      throw bad(
        `pop receipt ${quote(text)} has ${FIELD_NAMES[index]} ${quote(value)}, expected an integer ≥ ${min} within ±2^53`,
      );
    }
    return number;
  };
  const int = (index: number): number => {
    const value = field(index);
    // `+ 0` turns "-0" into 0, so that a parsed receipt formats back to a string that parses the same.
    const number = DECIMAL.test(value) ? Number(value) + 0 : Number.NaN;
    if (!Number.isInteger(number) || number < 0 || number > INT32_MAX) {
      throw bad(
        `pop receipt ${quote(text)} has ${FIELD_NAMES[index]} ${quote(value)}, expected a non-negative 32-bit integer`,
      );
    }
    return number;
  };
  // Fields are checked left to right, so the error names the first bad one.
  const ckQueueOffset = long(0);
  const popTime = long(1);
  // An order receipt's invisibleTime is (visible-at − popTime), never negative in practice, but the
  // broker does not promise it, so only the Java long range is enforced.
  const invisibleTime = long(2, Number.MIN_SAFE_INTEGER);
  const reviveQid = int(3);
  const retry = field(4);
  if (retry !== RetryFlag.NORMAL && retry !== RetryFlag.RETRY_V1 && retry !== RetryFlag.RETRY_V2) {
    throw bad(`pop receipt ${quote(text)} has retry flag ${quote(retry)}, expected "0", "1" or "2"`);
  }
  return {
    ckQueueOffset,
    popTime,
    invisibleTime,
    reviveQid,
    retry,
    brokerName: field(5),
    queueId: int(6),
    queueOffset: long(7),
    commitLogOffset: fields.length === 9 ? long(8, -1) : undefined,
  };
}

/** Accepts either form callers hold a receipt in. */
export function toPopReceipt(receipt: string | PopReceipt): PopReceipt {
  return typeof receipt === 'string' ? parsePopReceipt(receipt) : receipt;
}

/**
 * The receipt that replaces `old` after a successful change-invisible-time (the old one stops working):
 * the broker wrote a fresh checkpoint starting at the message's own offset.
 */
export function renewedReceipt(
  old: PopReceipt,
  renewal: { popTime: number; invisibleTime: number; reviveQid: number },
): PopReceipt {
  return {
    ckQueueOffset: old.queueOffset,
    popTime: renewal.popTime,
    invisibleTime: renewal.invisibleTime,
    reviveQid: renewal.reviveQid,
    retry: old.retry,
    brokerName: old.brokerName,
    queueId: old.queueId,
    queueOffset: old.queueOffset,
    commitLogOffset: old.commitLogOffset,
  };
}

function quote(text: string): string {
  return JSON.stringify(text.length > 120 ? `${text.slice(0, 120)}…` : text);
}

function bad(message: string): RemotingError {
  return new RemotingError('RMQ_BAD_PAYLOAD', message);
}
