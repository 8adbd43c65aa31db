/**
 * The send request header (Java `SendMessageRequestHeader`) in its two wire forms: V1 with
 * Java field names (SEND_MESSAGE, 10) and V2 with the compact keys a..n (SEND_MESSAGE_V2, 310, and
 * SEND_BATCH_MESSAGE, 320). Brokers decode 310/320 with V2 names only and 10 with V1 names only.
 */
import { RequestCode } from '../codes.ts';
import { RemotingError } from '../errors.ts';

export interface SendHeader {
  producerGroup: string;
  topic: string;
  /** Template topic for auto-creation; Java sends `TBW102`. */
  defaultTopic: string;
  /** Queue count of an auto-created topic; Java sends 4. */
  defaultTopicQueueNums: number;
  /** Target queue; < 0 lets the broker pick a random writable queue. */
  queueId: number;
  sysFlag: number;
  bornTimestamp: number;
  /** The producer's opaque int flag. */
  flag: number;
  /** Encoded properties string (see properties.ts). */
  properties?: string | undefined;
  /** For sends to `%RETRY%` topics. */
  reconsumeTimes?: number | undefined;
  unitMode?: boolean | undefined;
  /** For sends to `%RETRY%` topics (V2 key `l`, "consumeRetryTimes" upstream). */
  maxReconsumeTimes?: number | undefined;
  batch?: boolean | undefined;
  /** Target broker; ignored by brokers, required by a 5.x Proxy (V1 `bname`, V2 `n`). */
  brokerName?: string | undefined;
}

export type SendHeaderForm = 'V1' | 'V2';

/** SendHeader field → its key in each form. */
const KEYS = {
  producerGroup: { V1: 'producerGroup', V2: 'a' },
  topic: { V1: 'topic', V2: 'b' },
  defaultTopic: { V1: 'defaultTopic', V2: 'c' },
  defaultTopicQueueNums: { V1: 'defaultTopicQueueNums', V2: 'd' },
  queueId: { V1: 'queueId', V2: 'e' },
  sysFlag: { V1: 'sysFlag', V2: 'f' },
  bornTimestamp: { V1: 'bornTimestamp', V2: 'g' },
  flag: { V1: 'flag', V2: 'h' },
  properties: { V1: 'properties', V2: 'i' },
  reconsumeTimes: { V1: 'reconsumeTimes', V2: 'j' },
  unitMode: { V1: 'unitMode', V2: 'k' },
  maxReconsumeTimes: { V1: 'maxReconsumeTimes', V2: 'l' },
  batch: { V1: 'batch', V2: 'm' },
  brokerName: { V1: 'bname', V2: 'n' },
} as const satisfies Record<keyof SendHeader, Record<SendHeaderForm, string>>;

/**
 * The header form a send request code is decoded with. The proxy only encodes send headers today; this and
 * decodeSendHeader stay here for the Remoting ingress, which decodes what classic clients send.
 */
export function sendHeaderFormOf(code: number): SendHeaderForm {
  if (code === RequestCode.SEND_MESSAGE) return 'V1';
  if (code === RequestCode.SEND_MESSAGE_V2 || code === RequestCode.SEND_BATCH_MESSAGE) return 'V2';
  throw new RangeError(`request code ${code} is not a send request`);
}

/** [field, key] pairs of each form, computed once: this runs for every message the proxy sends. */
const FIELD_KEYS: Readonly<Record<SendHeaderForm, ReadonlyArray<readonly [keyof SendHeader, string]>>> = {
  V1: (Object.keys(KEYS) as Array<keyof SendHeader>).map((name) => [name, KEYS[name].V1] as const),
  V2: (Object.keys(KEYS) as Array<keyof SendHeader>).map((name) => [name, KEYS[name].V2] as const),
};

/** The header's extFields in `form`; absent optional fields are omitted (as `extFields` does). */
export function encodeSendHeader(header: SendHeader, form: SendHeaderForm): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, key] of FIELD_KEYS[form]) {
    const value = header[name];
    if (value === undefined) continue;
    if (typeof value === 'number' && !Number.isSafeInteger(value)) {
      throw new RangeError(`header field "${key}" must be a safe integer, got ${value}`);
    }
    fields[key] = String(value);
  }
  return fields;
}

/**
 * Reads a send header from extFields (for the Remoting ingress; today fake brokers and tests). Stricter than
 * the broker: a missing required field or a malformed number is an RMQ_BAD_PAYLOAD error naming the key.
 */
export function decodeSendHeader(fields: Readonly<Record<string, string>>, form: SendHeaderForm): SendHeader {
  const key = (name: keyof SendHeader): string => KEYS[name][form];
  const optional = (name: keyof SendHeader): string | undefined => fields[key(name)];
  const required = (name: keyof SendHeader): string => {
    const value = optional(name);
    if (value === undefined) throw bad(`lacks "${key(name)}" (${name})`);
    return value;
  };
  const integer = (name: keyof SendHeader, text: string | undefined, bits: 32 | 64): number | undefined => {
    if (text === undefined) return undefined;
    const value = Number(text);
    const ok =
      /^[+-]?\d+$/.test(text) &&
      (bits === 32 ? value >= -(2 ** 31) && value < 2 ** 31 : Number.isSafeInteger(value));
    if (!ok) throw bad(`"${key(name)}" (${name}) is ${JSON.stringify(text)}, expected an int${bits}`);
    return value;
  };
  // Java's Boolean.parseBoolean: "true" in any case is true, anything else false.
  const bool = (text: string | undefined): boolean | undefined =>
    text === undefined ? undefined : text.toLowerCase() === 'true';
  return {
    producerGroup: required('producerGroup'),
    topic: required('topic'),
    defaultTopic: required('defaultTopic'),
    defaultTopicQueueNums: integer('defaultTopicQueueNums', required('defaultTopicQueueNums'), 32)!,
    queueId: integer('queueId', required('queueId'), 32)!,
    sysFlag: integer('sysFlag', required('sysFlag'), 32)!,
    bornTimestamp: integer('bornTimestamp', required('bornTimestamp'), 64)!,
    flag: integer('flag', required('flag'), 32)!,
    properties: optional('properties'),
    reconsumeTimes: integer('reconsumeTimes', optional('reconsumeTimes'), 32),
    unitMode: bool(optional('unitMode')),
    maxReconsumeTimes: integer('maxReconsumeTimes', optional('maxReconsumeTimes'), 32),
    batch: bool(optional('batch')),
    brokerName: optional('brokerName'),
  };
}

function bad(message: string): RemotingError {
  return new RemotingError('RMQ_BAD_PAYLOAD', `send header ${message}`);
}
