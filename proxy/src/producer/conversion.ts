/**
 * gRPC `Message` → the RocketMQ message the proxy stores (proxy-grpc.md §12.1), validated in the Java
 * proxy's order (§7: body, user properties, tag, keys, total size, message id, transaction, delivery
 * time, message group) so the first problem reported is the one Java reports, with its Code and a
 * message naming the field.
 */
import { deflateSync, gunzipSync } from 'node:zlib';
import { type apache, v2 } from '../grpc/protocol.ts';
import { Code, ProxyStatusError } from '../grpc/status.ts';
import { KEY_SEPARATOR, MessageProperty } from '../remoting/message/properties.ts';
import { RESERVED_PROPERTY_KEYS, TRACE_CONTEXT } from './reserved-keys.ts';
import { containsControlCharacter, isJavaBlank, utf8Length } from './text-rules.ts';

type GrpcMessage = apache.rocketmq.v2.IMessage;
type TimestampLike = { seconds?: number | null; nanos?: number | null } | null | undefined;

export interface ProducerLimits {
  /** Largest body; ≤ 0 disables the check. */
  readonly maxBodyBytes: number;
  readonly maxUserProperties: number;
  /** Σ UTF-8 bytes of user keys, values, tag and keys. */
  readonly maxUserPropertyBytes: number;
  /** A message group must be shorter than this many UTF-8 bytes; ≤ 0 disables. */
  readonly maxMessageGroupBytes: number;
  /** Furthest delivery time from now; ≤ 0 disables. */
  readonly maxDelayMs: number;
  /** Longest orphaned-transaction recovery duration; ≤ 0 disables. */
  readonly maxTransactionRecoveryMs: number;
}

/** A message ready for SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE. */
export interface OutgoingMessage {
  readonly topic: string;
  readonly body: Uint8Array;
  /** Every property to store, user and system (UNIQ_KEY included). */
  readonly properties: Map<string, string>;
  /** The client's message id (UNIQ_KEY). */
  readonly messageId: string;
  /** `born_timestamp` in ms, when valid. */
  readonly bornTimestamp: number | undefined;
  readonly transactional: boolean;
  /** The body is zlib-compressed (stored with the COMPRESSED flag, compression type ZLIB). */
  readonly compressed: boolean;
  /** Non-empty message group. */
  readonly messageGroup: string | undefined;
  /** delivery_attempt (only meaningful for %RETRY% topics). */
  readonly deliveryAttempt: number;
}

export interface ConversionContext {
  limits: ProducerLimits;
  /** Producer group, which is the topic name for gRPC producers. */
  producerGroup: string;
  /** `ip:port` of the client, the born host when the message names none. */
  peer: string;
  now: number;
}

function fail(code: Code, message: string): never {
  throw new ProxyStatusError(code, message);
}

/** Epoch ms of a protobuf Timestamp, or undefined when absent or outside Timestamp's valid range. */
export function timestampMillis(timestamp: TimestampLike): number | undefined {
  if (timestamp === null || timestamp === undefined) return undefined;
  const seconds = Number(timestamp.seconds ?? 0);
  const nanos = Number(timestamp.nanos ?? 0);
  // Timestamps.isValid: 0001-01-01..9999-12-31 and nanos in [0, 1e9).
  if (!Number.isInteger(seconds) || seconds < -62_135_596_800 || seconds > 253_402_300_799) return undefined;
  if (!Number.isInteger(nanos) || nanos < 0 || nanos >= 1_000_000_000) return undefined;
  return seconds * 1000 + Math.floor(nanos / 1_000_000);
}

function validateBody(body: Uint8Array, limits: ProducerLimits): void {
  if (body.length === 0) fail(Code.MESSAGE_BODY_EMPTY, 'message body cannot be empty');
  if (limits.maxBodyBytes > 0 && body.length > limits.maxBodyBytes) {
    fail(Code.MESSAGE_BODY_TOO_LARGE, `message body cannot exceed the max ${limits.maxBodyBytes}`);
  }
}

function validateTag(tag: string): void {
  if (tag === '') return;
  if (isJavaBlank(tag)) fail(Code.ILLEGAL_MESSAGE_TAG, 'tag cannot be the char sequence of whitespace');
  if (tag.includes('|')) fail(Code.ILLEGAL_MESSAGE_TAG, "tag cannot contain '|'");
  if (containsControlCharacter(tag)) fail(Code.ILLEGAL_MESSAGE_TAG, 'tag cannot contain control character');
}

function validateKey(key: string): void {
  if (key === '') return;
  if (isJavaBlank(key)) fail(Code.ILLEGAL_MESSAGE_KEY, 'key cannot be the char sequence of whitespace');
  if (containsControlCharacter(key)) fail(Code.ILLEGAL_MESSAGE_KEY, 'key cannot contain control character');
}

function validateMessageGroup(group: string, limits: ProducerLimits): void {
  if (isJavaBlank(group)) {
    fail(Code.ILLEGAL_MESSAGE_GROUP, 'message group cannot be the char sequence of whitespace');
  }
  if (limits.maxMessageGroupBytes > 0 && utf8Length(group) >= limits.maxMessageGroupBytes) {
    fail(Code.ILLEGAL_MESSAGE_GROUP, `message group exceed the max size ${limits.maxMessageGroupBytes}`);
  }
  if (containsControlCharacter(group)) {
    fail(Code.ILLEGAL_MESSAGE_GROUP, 'message group cannot contain control character');
  }
}

/**
 * A number the enum does not define (a newer client, or garbage) is refused rather than silently read
 * as the default: the Java proxy would ignore it, but then a message type it cannot know is stored.
 */
export function requireKnownEnum(values: object, value: number | null | undefined, field: string): void {
  if (value === null || value === undefined) return;
  if (!knownValues(values).has(value)) fail(Code.BAD_REQUEST, `unknown ${field} value ${value}`);
}

/** Each enum's values as a set, built once (this runs for every message sent). */
const KNOWN_VALUES = new WeakMap<object, ReadonlySet<unknown>>();
function knownValues(values: object): ReadonlySet<unknown> {
  let known = KNOWN_VALUES.get(values);
  if (known === undefined) {
    known = new Set(Object.values(values));
    KNOWN_VALUES.set(values, known);
  }
  return known;
}

/** Largest gunzipped body accepted (a bound against decompression bombs). */
const MAX_GUNZIPPED_BYTES = 64 * 1024 * 1024;

/**
 * A GZIP body as the broker should store it. The Java proxy stores the gzip bytes with the COMPRESSED
 * flag and compression type 0, which every Remoting reader takes for ZLIB and fails to inflate
 * (proxy-grpc.md §19.2 #17). Here the body is gunzipped and stored plain, or, when the plain body is
 * over the body limit, deflated as real ZLIB with the flag, so every client can read it.
 */
function storedGzipBody(body: Uint8Array, limits: ProducerLimits): { body: Uint8Array; compressed: boolean } {
  let plain: Buffer;
  try {
    plain = gunzipSync(body, { maxOutputLength: MAX_GUNZIPPED_BYTES });
  } catch (error) {
    throw new ProxyStatusError(
      Code.MESSAGE_CORRUPTED,
      `body_encoding is GZIP but the body does not gunzip: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (limits.maxBodyBytes <= 0 || plain.length <= limits.maxBodyBytes)
    return { body: plain, compressed: false };
  return { body: deflateSync(plain, { level: 5 }), compressed: true };
}

/** Validates and converts one message; throws ProxyStatusError with the Java proxy's Code. */
export function convertMessage(message: GrpcMessage, context: ConversionContext): OutgoingMessage {
  const { limits } = context;
  const system = message.systemProperties ?? {};
  const body = message.body ?? new Uint8Array(0);
  validateBody(body, limits);
  requireKnownEnum(v2.MessageType, system.messageType, 'system_properties.message_type');
  requireKnownEnum(v2.Encoding, system.bodyEncoding, 'system_properties.body_encoding');

  // User properties first: the typed fields below overwrite same-named entries, as Java's puts do.
  const properties = new Map<string, string>();
  const user = Object.entries(message.userProperties ?? {});
  if (user.length > limits.maxUserProperties) {
    fail(Code.MESSAGE_PROPERTIES_TOO_LARGE, `too many user properties, max is ${limits.maxUserProperties}`);
  }
  let userBytes = 0;
  for (const [key, value] of user) {
    if (RESERVED_PROPERTY_KEYS.has(key)) {
      fail(Code.ILLEGAL_MESSAGE_PROPERTY_KEY, `property is used by system: ${key}`);
    }
    if (containsControlCharacter(key)) {
      fail(Code.ILLEGAL_MESSAGE_PROPERTY_KEY, 'the key of property cannot contain control character');
    }
    if (containsControlCharacter(value)) {
      fail(Code.ILLEGAL_MESSAGE_PROPERTY_KEY, 'the value of property cannot contain control character');
    }
    userBytes += utf8Length(key) + utf8Length(value);
    // The broker drops entries with an empty key or value when it parses properties; drop them here
    // so the encoding stays well-formed (Java sends them and the broker loses them silently).
    if (key !== '' && value !== '') properties.set(key, value);
  }

  const tag = system.tag ?? '';
  validateTag(tag);
  if (tag !== '') properties.set(MessageProperty.TAGS, tag);
  userBytes += utf8Length(tag);

  const keys = system.keys ?? [];
  for (const key of keys) {
    validateKey(key);
    userBytes += utf8Length(key);
  }
  const joinedKeys = keys.join(KEY_SEPARATOR);
  if (joinedKeys !== '') properties.set(MessageProperty.KEYS, joinedKeys);
  if (userBytes > limits.maxUserPropertyBytes) {
    fail(
      Code.MESSAGE_PROPERTIES_TOO_LARGE,
      `the total size of user property is too large, max is ${limits.maxUserPropertyBytes}`,
    );
  }

  const messageId = system.messageId ?? '';
  if (isJavaBlank(messageId)) fail(Code.ILLEGAL_MESSAGE_ID, 'message id cannot be empty');
  properties.set(MessageProperty.UNIQ_KEY, messageId);

  const transactional = system.messageType === v2.MessageType.TRANSACTION;
  if (transactional) {
    properties.set(MessageProperty.TRANSACTION_PREPARED, 'true');
    const recovery = system.orphanedTransactionRecoveryDuration;
    if (recovery !== null && recovery !== undefined) {
      const seconds = Number(recovery.seconds ?? 0);
      if (!Number.isSafeInteger(seconds) || seconds < 0) {
        fail(
          Code.BAD_REQUEST,
          `orphaned_transaction_recovery_duration must not be negative, got ${seconds}s`,
        );
      }
      const maxSeconds = Math.floor(limits.maxTransactionRecoveryMs / 1000);
      if (maxSeconds > 0 && seconds > maxSeconds) {
        fail(
          Code.BAD_REQUEST,
          `the max transaction recovery time of message is too large, max is ${maxSeconds}`,
        );
      }
      properties.set(MessageProperty.CHECK_IMMUNITY_TIME_IN_SECONDS, String(seconds));
    }
  }

  if (system.deliveryTimestamp !== null && system.deliveryTimestamp !== undefined) {
    const deliverAt = timestampMillis(system.deliveryTimestamp);
    if (deliverAt === undefined || deliverAt < 0) {
      fail(Code.ILLEGAL_DELIVERY_TIME, 'delivery_timestamp is not a valid timestamp after 1970');
    }
    if (limits.maxDelayMs > 0 && deliverAt - context.now > limits.maxDelayMs) {
      fail(
        Code.ILLEGAL_DELIVERY_TIME,
        `the max delay time of message is too large, max is ${limits.maxDelayMs}`,
      );
    }
    properties.set(MessageProperty.TIMER_DELIVER_MS, String(deliverAt));
  }

  properties.set(MessageProperty.PRODUCER_GROUP, context.producerGroup);
  const group = system.messageGroup ?? '';
  if (group !== '') {
    validateMessageGroup(group, limits);
    properties.set(MessageProperty.SHARDING_KEY, group);
  }
  const traceContext = system.traceContext ?? '';
  if (traceContext !== '') properties.set(TRACE_CONTEXT, traceContext);
  const bornHost = isJavaBlank(system.bornHost ?? '') ? context.peer : (system.bornHost ?? '');
  if (!isJavaBlank(bornHost)) properties.set(MessageProperty.BORN_HOST, bornHost);
  const bornTimestamp = timestampMillis(system.bornTimestamp);
  if (bornTimestamp !== undefined) properties.set(MessageProperty.BORN_TIMESTAMP, String(bornTimestamp));

  const stored = system.bodyEncoding === v2.Encoding.GZIP ? storedGzipBody(body, limits) : undefined;
  return {
    topic: message.topic?.name ?? '',
    body: stored?.body ?? body,
    properties,
    messageId,
    bornTimestamp,
    transactional,
    compressed: stored?.compressed ?? false,
    messageGroup: group === '' ? undefined : group,
    deliveryAttempt: Math.max(0, Number(system.deliveryAttempt ?? 0)),
  };
}
