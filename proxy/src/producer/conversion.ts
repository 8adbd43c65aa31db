/**
 * A producer's message draft → the RocketMQ message the proxy stores, validated in the Java proxy's
 * order (body, user properties, tag, keys, total size, message id, transaction, delivery time,
 * message group) so the first problem reported is the one Java reports, with its reason and a
 * message naming the field.
 */
import { deflateSync, gunzipSync } from 'node:zlib';
import { ProxyError, type Reason } from '../core/errors.ts';
import { RESERVED_PROPERTY_KEYS, TRACE_CONTEXT } from '../core/reserved-keys.ts';
import { containsControlCharacter, isJavaBlank, utf8Length } from '../core/text-rules.ts';
import { recognized } from '../core/unrecognized.ts';
import { KEY_SEPARATOR, MessageProperty } from '../remoting/message/properties.ts';
import type { MessageDraft } from './message-draft.ts';

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
  /** Born timestamp in ms, when valid. */
  readonly bornTimestamp: number | undefined;
  readonly transactional: boolean;
  /** The body is zlib-compressed (stored with the COMPRESSED flag, compression type ZLIB). */
  readonly compressed: boolean;
  /** Non-empty message group. */
  readonly messageGroup: string | undefined;
  /** Deliveries so far (only meaningful for %RETRY% topics). */
  readonly deliveryAttempt: number;
}

export interface ConversionContext {
  limits: ProducerLimits;
  /** Producer group, which is the topic name for gRPC producers. */
  producerGroup: string;
  /** `ip:port` of the client, the born host when the message names none. */
  remoteAddress: string;
  now: number;
}

function fail(reason: Reason, message: string): never {
  throw new ProxyError(reason, message);
}

function validateBody(body: Uint8Array, limits: ProducerLimits): void {
  if (body.length === 0) fail('MessageBodyEmpty', 'message body cannot be empty');
  if (limits.maxBodyBytes > 0 && body.length > limits.maxBodyBytes) {
    fail('MessageBodyTooLarge', `message body cannot exceed the max ${limits.maxBodyBytes}`);
  }
}

function validateTag(tag: string): void {
  if (tag === '') return;
  if (isJavaBlank(tag)) fail('IllegalMessageTag', 'tag cannot be the char sequence of whitespace');
  if (tag.includes('|')) fail('IllegalMessageTag', "tag cannot contain '|'");
  if (containsControlCharacter(tag)) fail('IllegalMessageTag', 'tag cannot contain control character');
}

function validateKey(key: string): void {
  if (key === '') return;
  if (isJavaBlank(key)) fail('IllegalMessageKey', 'key cannot be the char sequence of whitespace');
  if (containsControlCharacter(key)) fail('IllegalMessageKey', 'key cannot contain control character');
}

function validateMessageGroup(group: string, limits: ProducerLimits): void {
  if (isJavaBlank(group)) {
    fail('IllegalMessageGroup', 'message group cannot be the char sequence of whitespace');
  }
  if (limits.maxMessageGroupBytes > 0 && utf8Length(group) >= limits.maxMessageGroupBytes) {
    fail('IllegalMessageGroup', `message group exceed the max size ${limits.maxMessageGroupBytes}`);
  }
  if (containsControlCharacter(group)) {
    fail('IllegalMessageGroup', 'message group cannot contain control character');
  }
}

/** Largest gunzipped body accepted (a bound against decompression bombs). */
const MAX_GUNZIPPED_BYTES = 64 * 1024 * 1024;

/**
 * A GZIP body as the broker should store it. The Java proxy stores the gzip bytes with the COMPRESSED
 * flag and compression type 0, which every Remoting reader takes for ZLIB and then fails to inflate,
 * so its consumers cannot read such a message. Here the body is gunzipped and stored plain, or, when
 * the plain body is over the body limit, deflated as real ZLIB with the flag, so every client can read it.
 */
function storedGzipBody(body: Uint8Array, limits: ProducerLimits): { body: Uint8Array; compressed: boolean } {
  let plain: Buffer;
  try {
    plain = gunzipSync(body, { maxOutputLength: MAX_GUNZIPPED_BYTES });
  } catch (error) {
    throw new ProxyError(
      'MessageCorrupted',
      `body_encoding is GZIP but the body does not gunzip: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  if (limits.maxBodyBytes <= 0 || plain.length <= limits.maxBodyBytes)
    return { body: plain, compressed: false };
  return { body: deflateSync(plain, { level: 5 }), compressed: true };
}

/** Validates and converts one message; throws ProxyError with the Java proxy's reason. */
export function convertMessage(message: MessageDraft, context: ConversionContext): OutgoingMessage {
  const { limits } = context;
  const body = message.body;
  validateBody(body, limits);
  // A value the ingress could not name is refused rather than read as the default: the Java proxy
  // would ignore it, but then a message type it cannot know is stored.
  const type = recognized(message.type);
  const bodyEncoding = recognized(message.bodyEncoding);

  // User properties first: the typed fields below overwrite same-named entries, as Java's puts do.
  const properties = new Map<string, string>();
  const user = Object.entries(message.userProperties);
  if (user.length > limits.maxUserProperties) {
    fail('MessagePropertiesTooLarge', `too many user properties, max is ${limits.maxUserProperties}`);
  }
  let userBytes = 0;
  for (const [key, value] of user) {
    if (RESERVED_PROPERTY_KEYS.has(key)) {
      fail('IllegalMessagePropertyKey', `property is used by system: ${key}`);
    }
    if (containsControlCharacter(key)) {
      fail('IllegalMessagePropertyKey', 'the key of property cannot contain control character');
    }
    if (containsControlCharacter(value)) {
      fail('IllegalMessagePropertyKey', 'the value of property cannot contain control character');
    }
    userBytes += utf8Length(key) + utf8Length(value);
    // The broker drops entries with an empty key or value when it parses properties; drop them here
    // so the encoding stays well-formed (Java sends them and the broker loses them silently).
    if (key !== '' && value !== '') properties.set(key, value);
  }

  const tag = message.tag;
  validateTag(tag);
  if (tag !== '') properties.set(MessageProperty.TAGS, tag);
  userBytes += utf8Length(tag);

  const keys = message.keys;
  for (const key of keys) {
    validateKey(key);
    userBytes += utf8Length(key);
  }
  const joinedKeys = keys.join(KEY_SEPARATOR);
  if (joinedKeys !== '') properties.set(MessageProperty.KEYS, joinedKeys);
  if (userBytes > limits.maxUserPropertyBytes) {
    fail(
      'MessagePropertiesTooLarge',
      `the total size of user property is too large, max is ${limits.maxUserPropertyBytes}`,
    );
  }

  const messageId = message.messageId;
  if (isJavaBlank(messageId)) fail('IllegalMessageId', 'message id cannot be empty');
  properties.set(MessageProperty.UNIQ_KEY, messageId);

  const transactional = type === 'TRANSACTION';
  if (transactional) {
    properties.set(MessageProperty.TRANSACTION_PREPARED, 'true');
    const seconds = message.transactionRecoverySeconds;
    if (seconds !== undefined) {
      if (!Number.isSafeInteger(seconds) || seconds < 0) {
        fail('BadRequest', `orphaned_transaction_recovery_duration must not be negative, got ${seconds}s`);
      }
      const maxSeconds = Math.floor(limits.maxTransactionRecoveryMs / 1000);
      if (maxSeconds > 0 && seconds > maxSeconds) {
        fail('BadRequest', `the max transaction recovery time of message is too large, max is ${maxSeconds}`);
      }
      properties.set(MessageProperty.CHECK_IMMUNITY_TIME_IN_SECONDS, String(seconds));
    }
  }

  const deliverAt = message.deliveryTime;
  if (deliverAt !== undefined) {
    if (!(deliverAt >= 0)) {
      fail('IllegalDeliveryTime', 'delivery_timestamp is not a valid timestamp after 1970');
    }
    if (limits.maxDelayMs > 0 && deliverAt - context.now > limits.maxDelayMs) {
      fail('IllegalDeliveryTime', `the max delay time of message is too large, max is ${limits.maxDelayMs}`);
    }
    properties.set(MessageProperty.TIMER_DELIVER_MS, String(deliverAt));
  }

  properties.set(MessageProperty.PRODUCER_GROUP, context.producerGroup);
  const group = message.messageGroup;
  if (group !== '') {
    validateMessageGroup(group, limits);
    properties.set(MessageProperty.SHARDING_KEY, group);
  }
  if (message.traceContext !== '') properties.set(TRACE_CONTEXT, message.traceContext);
  const bornHost = isJavaBlank(message.bornHost) ? context.remoteAddress : message.bornHost;
  if (!isJavaBlank(bornHost)) properties.set(MessageProperty.BORN_HOST, bornHost);
  const bornTimestamp = message.bornTimestamp;
  if (bornTimestamp !== undefined) properties.set(MessageProperty.BORN_TIMESTAMP, String(bornTimestamp));

  const stored = bodyEncoding === 'GZIP' ? storedGzipBody(body, limits) : undefined;
  return {
    topic: message.topic,
    body: stored?.body ?? body,
    properties,
    messageId,
    bornTimestamp,
    transactional,
    compressed: stored?.compressed ?? false,
    messageGroup: group === '' ? undefined : group,
    deliveryAttempt: Math.max(0, message.deliveryAttempt),
  };
}
