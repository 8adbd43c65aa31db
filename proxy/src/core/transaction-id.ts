/**
 * The transaction id this proxy gives clients (SendResultEntry.transaction_id for a half message, and
 * RecoverOrphanedTransactionCommand.transaction_id for a broker check). It carries everything
 * END_TRANSACTION needs — broker name, half-queue offset, commit-log offset and the broker's own
 * transaction id — so EndTransaction can be served by ANY proxy replica, after a restart, at any time:
 * the proxy keeps no transaction records (the Java proxy keeps them for 30 s, in memory, per instance).
 *
 * Form: `RMQP1.<base64url broker name>.<tranStateTableOffset>.<commitLogOffset>.<base64url broker id>`.
 * Base64url keeps arbitrary broker names (hostnames with dots) and client message ids unambiguous.
 */

export interface TransactionHandle {
  readonly brokerName: string;
  /** Half-queue offset of the half record (send: queueOffset; check: tranStateTableOffset). */
  readonly tranStateTableOffset: number;
  /** Commit-log offset of the half record. */
  readonly commitLogOffset: number;
  /** What the broker calls the transaction (the message's UNIQ_KEY). */
  readonly brokerTransactionId: string;
}

const PREFIX = 'RMQP1';
const OFFSET = /^(0|[1-9]\d{0,15})$/;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

export function encodeTransactionId(handle: TransactionHandle): string {
  for (const [name, value] of [
    ['tranStateTableOffset', handle.tranStateTableOffset],
    ['commitLogOffset', handle.commitLogOffset],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`transaction ${name} must be a non-negative integer, got ${value}`);
    }
  }
  if (handle.brokerName === '') throw new RangeError('transaction broker name is empty');
  if (handle.brokerTransactionId === '') throw new RangeError('broker transaction id is empty');
  return [
    PREFIX,
    Buffer.from(handle.brokerName, 'utf8').toString('base64url'),
    String(handle.tranStateTableOffset),
    String(handle.commitLogOffset),
    Buffer.from(handle.brokerTransactionId, 'utf8').toString('base64url'),
  ].join('.');
}

/** The handle inside a transaction id, or undefined when the text is not one of ours. */
export function decodeTransactionId(id: string): TransactionHandle | undefined {
  const parts = id.split('.');
  if (parts.length !== 5 || parts[0] !== PREFIX) return undefined;
  const [, name, stateOffset, logOffset, brokerId] = parts as [string, string, string, string, string];
  if (!BASE64URL.test(name) || !BASE64URL.test(brokerId)) return undefined;
  if (!OFFSET.test(stateOffset) || !OFFSET.test(logOffset)) return undefined;
  const tranStateTableOffset = Number(stateOffset);
  const commitLogOffset = Number(logOffset);
  if (!Number.isSafeInteger(tranStateTableOffset) || !Number.isSafeInteger(commitLogOffset)) return undefined;
  const brokerName = Buffer.from(name, 'base64url').toString('utf8');
  const brokerTransactionId = Buffer.from(brokerId, 'base64url').toString('utf8');
  // Reject text that only decodes lossily (not what encodeTransactionId wrote).
  if (Buffer.from(brokerName, 'utf8').toString('base64url') !== name) return undefined;
  if (Buffer.from(brokerTransactionId, 'utf8').toString('base64url') !== brokerId) return undefined;
  return { brokerName, tranStateTableOffset, commitLogOffset, brokerTransactionId };
}
