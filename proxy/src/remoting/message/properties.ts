/**
 * The message properties string: `key U+0001 value U+0002` per property, trailing U+0002 included.
 * Stored with an i16 byte length, so the UTF-8 form is capped at 32767 bytes.
 */

export const NAME_VALUE_SEPARATOR = '\u0001';
export const PROPERTY_SEPARATOR = '\u0002';
/** Separator of several business keys inside the KEYS property. */
export const KEY_SEPARATOR = ' ';
/** Short.MAX_VALUE: the broker rejects longer properties with MESSAGE_ILLEGAL. */
export const MAX_PROPERTIES_BYTES = 32767;

/** System property keys (values are the names on the wire). */
export const MessageProperty = {
  UNIQ_KEY: 'UNIQ_KEY',
  KEYS: 'KEYS',
  TAGS: 'TAGS',
  WAIT_STORE_MSG_OK: 'WAIT',
  DELAY_TIME_LEVEL: 'DELAY',
  TIMER_DELIVER_MS: 'TIMER_DELIVER_MS',
  TIMER_DELAY_SEC: 'TIMER_DELAY_SEC',
  TIMER_DELAY_MS: 'TIMER_DELAY_MS',
  TIMER_OUT_MS: 'TIMER_OUT_MS',
  TRANSACTION_PREPARED: 'TRAN_MSG',
  PRODUCER_GROUP: 'PGROUP',
  CHECK_IMMUNITY_TIME_IN_SECONDS: 'CHECK_IMMUNITY_TIME_IN_SECONDS',
  TRANSACTION_ID: '__transactionId__',
  TRANSACTION_CHECK_TIMES: 'TRANSACTION_CHECK_TIMES',
  TRANSACTION_PREPARED_QUEUE_OFFSET: 'TRAN_PREPARED_QUEUE_OFFSET',
  SHARDING_KEY: '__SHARDINGKEY',
  RETRY_TOPIC: 'RETRY_TOPIC',
  REAL_TOPIC: 'REAL_TOPIC',
  REAL_QUEUE_ID: 'REAL_QID',
  ORIGIN_MESSAGE_ID: 'ORIGIN_MESSAGE_ID',
  RECONSUME_TIME: 'RECONSUME_TIME',
  MAX_RECONSUME_TIMES: 'MAX_RECONSUME_TIMES',
  POP_CK: 'POP_CK',
  POP_CK_OFFSET: 'POP_CK_OFFSET',
  FIRST_POP_TIME: '1ST_POP_TIME',
  MSG_REGION: 'MSG_REGION',
  TRACE_SWITCH: 'TRACE_ON',
  CORRECTION_FLAG: 'CORRECTION_FLAG',
  MIN_OFFSET: 'MIN_OFFSET',
  MAX_OFFSET: 'MAX_OFFSET',
  CLUSTER: 'CLUSTER',
  INSTANCE_ID: 'INSTANCE_ID',
  CORRELATION_ID: 'CORRELATION_ID',
  REPLY_TO_CLIENT: 'REPLY_TO_CLIENT',
  MESSAGE_TTL: 'TTL',
  ARRIVE_TIME: 'ARRIVE_TIME',
  MESSAGE_TYPE: 'MSG_TYPE',
  PUSH_REPLY_TIME: 'PUSH_REPLY_TIME',
  INNER_NUM: 'INNER_NUM',
  INNER_BASE: 'INNER_BASE',
  INNER_MULTI_DISPATCH: 'INNER_MULTI_DISPATCH',
  INNER_MULTI_QUEUE_OFFSET: 'INNER_MULTI_QUEUE_OFFSET',
  BORN_HOST: '__BORNHOST',
  BORN_TIMESTAMP: 'BORN_TIMESTAMP',
  DLQ_ORIGIN_TOPIC: 'DLQ_ORIGIN_TOPIC',
  DLQ_ORIGIN_MESSAGE_ID: 'DLQ_ORIGIN_MESSAGE_ID',
  CRC32: '__CRC32#',
  /** Prefix of client-local properties that are never stored. */
  TRANSIENT_PREFIX: '__RMQ.TRANSIENT.',
} as const;

export type PropertiesInput = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

function entriesOf(properties: PropertiesInput): Iterable<readonly [string, string]> {
  return properties instanceof Map ? properties : Object.entries(properties);
}

export function encodeProperties(properties: PropertiesInput): string {
  let text = '';
  for (const [key, value] of entriesOf(properties)) {
    text += key + NAME_VALUE_SEPARATOR + value + PROPERTY_SEPARATOR;
  }
  return text;
}

/**
 * Parses like the broker does: entries with an empty key or an empty value (or no U+0001) are dropped,
 * a value may itself contain U+0001, and a later duplicate key wins.
 */
export function decodeProperties(text: string): Map<string, string> {
  const properties = new Map<string, string>();
  const length = text.length;
  // Next U+0001 at or after `start`, cached across entries so that inputs without any stay linear.
  let nameEnd = -1;
  let start = 0;
  while (start < length) {
    let end = text.indexOf(PROPERTY_SEPARATOR, start);
    if (end < 0) end = length;
    if (nameEnd < start) {
      nameEnd = text.indexOf(NAME_VALUE_SEPARATOR, start);
      if (nameEnd < 0) nameEnd = length;
    }
    if (nameEnd > start && nameEnd < end - 1) {
      properties.set(text.slice(start, nameEnd), text.slice(nameEnd + 1, end));
    }
    start = end + 1;
  }
  return properties;
}

/** UTF-8 length of an encoded properties string, to compare with MAX_PROPERTIES_BYTES. */
export function propertiesByteLength(encoded: string): number {
  return Buffer.byteLength(encoded, 'utf8');
}

export interface PropertyProblem {
  key: string;
  part: 'key' | 'value';
  /** A separator inside a key or value corrupts the encoding; an empty one is silently dropped by readers. */
  reason: 'contains U+0001' | 'contains U+0002' | 'empty';
}

/** The first property that breaks the encoding's rules (no separators inside, nothing empty), if any. */
export function findPropertyProblem(properties: PropertiesInput): PropertyProblem | undefined {
  for (const [key, value] of entriesOf(properties)) {
    const keyReason = problemIn(key);
    if (keyReason !== undefined) return { key, part: 'key', reason: keyReason };
    const valueReason = problemIn(value);
    if (valueReason !== undefined) return { key, part: 'value', reason: valueReason };
  }
  return undefined;
}

function problemIn(text: string): PropertyProblem['reason'] | undefined {
  if (text.length === 0) return 'empty';
  if (text.includes(NAME_VALUE_SEPARATOR)) return 'contains U+0001';
  if (text.includes(PROPERTY_SEPARATOR)) return 'contains U+0002';
  return undefined;
}
