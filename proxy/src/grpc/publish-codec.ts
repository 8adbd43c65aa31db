/**
 * Publishing requests → the core's inputs: a protobuf `Message` → the producer's MessageDraft, and
 * EndTransaction's and RecallMessage's fields. Enum values the proto does not define are handed on as
 * Unrecognized, with the text they are refused with, so the core reports them in its validation order.
 */
import type { Unrecognized } from '../core/unrecognized.ts';
import type { BodyEncoding, DeclaredMessageType, MessageDraft } from '../producer/message-draft.ts';
import type { RecallInput } from '../producer/recall.ts';
import type { EndTransactionInput, TransactionResolution } from '../transaction/end-transaction.ts';
import { type apache, v2 } from './protocol.ts';

type TimestampLike = { seconds?: number | null; nanos?: number | null } | null | undefined;

const NO_PROPERTIES: Readonly<Record<string, string>> = Object.freeze({});
const NO_KEYS: readonly string[] = Object.freeze([]);

/** Every value of an enum, named; the Record type makes a value added to the proto a compile error here. */
function byNumber<Name extends string, T>(
  values: Readonly<Record<Name, number>>,
  names: Readonly<Record<Name, T>>,
): ReadonlyMap<number, T> {
  return new Map((Object.keys(names) as Name[]).map((name) => [values[name], names[name]]));
}

const MESSAGE_TYPES = byNumber<keyof typeof v2.MessageType, DeclaredMessageType>(v2.MessageType, {
  MESSAGE_TYPE_UNSPECIFIED: 'UNSPECIFIED',
  NORMAL: 'NORMAL',
  FIFO: 'FIFO',
  DELAY: 'DELAY',
  TRANSACTION: 'TRANSACTION',
  LITE: 'LITE',
  PRIORITY: 'PRIORITY',
});

const ENCODINGS = byNumber<keyof typeof v2.Encoding, BodyEncoding>(v2.Encoding, {
  ENCODING_UNSPECIFIED: 'IDENTITY',
  IDENTITY: 'IDENTITY',
  GZIP: 'GZIP',
});

const RESOLUTIONS = byNumber<keyof typeof v2.TransactionResolution, TransactionResolution>(
  v2.TransactionResolution,
  { TRANSACTION_RESOLUTION_UNSPECIFIED: 'UNKNOWN', COMMIT: 'COMMIT', ROLLBACK: 'ROLLBACK' },
);

const FROM_CHECK = byNumber<keyof typeof v2.TransactionSource, boolean>(v2.TransactionSource, {
  SOURCE_UNSPECIFIED: false,
  SOURCE_CLIENT: false,
  SOURCE_SERVER_CHECK: true,
});

/** The named value of an enum field; absent is its zero value. */
function decodeEnum<T>(
  table: ReadonlyMap<number, T>,
  value: number | null | undefined,
  field: string,
): T | Unrecognized {
  return table.get(value ?? 0) ?? { unrecognized: `unknown ${field} value ${value}` };
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

export function messageDraftOf(message: apache.rocketmq.v2.IMessage): MessageDraft {
  const system = message.systemProperties ?? {};
  const delivery = system.deliveryTimestamp;
  const recovery = system.orphanedTransactionRecoveryDuration;
  return {
    topic: message.topic?.name ?? '',
    namespace: message.topic?.resourceNamespace ?? '',
    body: message.body ?? new Uint8Array(0),
    tag: system.tag ?? '',
    keys: system.keys ?? NO_KEYS,
    userProperties: message.userProperties ?? NO_PROPERTIES,
    messageId: system.messageId ?? '',
    type: decodeEnum(MESSAGE_TYPES, system.messageType, 'system_properties.message_type'),
    bodyEncoding: decodeEnum(ENCODINGS, system.bodyEncoding, 'system_properties.body_encoding'),
    deliveryTime:
      delivery === null || delivery === undefined ? undefined : (timestampMillis(delivery) ?? Number.NaN),
    messageGroup: system.messageGroup ?? '',
    traceContext: system.traceContext ?? '',
    bornHost: system.bornHost ?? '',
    bornTimestamp: timestampMillis(system.bornTimestamp),
    transactionRecoverySeconds:
      recovery === null || recovery === undefined ? undefined : Number(recovery.seconds ?? 0),
    deliveryAttempt: Number(system.deliveryAttempt ?? 0),
  };
}

export function endTransactionInputOf(
  request: apache.rocketmq.v2.IEndTransactionRequest,
): EndTransactionInput {
  return {
    topic: request.topic?.name ?? '',
    transactionId: request.transactionId ?? '',
    resolution: decodeEnum(RESOLUTIONS, request.resolution, 'resolution'),
    fromCheck: decodeEnum(FROM_CHECK, request.source, 'source'),
    messageId: request.messageId ?? '',
  };
}

export function recallInputOf(request: apache.rocketmq.v2.IRecallMessageRequest): RecallInput {
  return { topic: request.topic?.name ?? '', handle: request.recallHandle ?? '' };
}
