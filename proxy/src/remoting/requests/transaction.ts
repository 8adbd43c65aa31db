/**
 * Transactions: END_TRANSACTION (37) commits or rolls back a half message, and the
 * broker-initiated CHECK_TRANSACTION_STATE (39) asks the producer for a pending transaction's outcome.
 *
 * The Java client sends END_TRANSACTION **oneway**, both after the local transaction and in answer to a
 * check. A broker does answer a normal (two-way) END_TRANSACTION for COMMIT/ROLLBACK (SUCCESS, or an error
 * such as ILLEGAL_OPERATION / SYSTEM_ERROR "…offset wrong"), but never for UNKNOWN, so `expectsResponse`
 * tells the caller when awaiting a response makes sense. A 5.x Proxy answers every END_TRANSACTION.
 *
 * A check can arrive for a transaction that was already ended: brokers record ends as op messages
 * written in batches every `transactionOpBatchInterval` (3 s by default), and a half message whose end
 * is not written yet looks unresolved to the check scan. Answer checks from the producer's own record.
 *
 * How the Java producer fills END_TRANSACTION after a send and for a check is mirrored, for the tests, in
 * test/support/remoting/transaction-requests.ts.
 */
import { RequestCode } from '../codes.ts';
import type { RemotingCommand, RequestSpec } from '../command.ts';
import { RemotingError } from '../errors.ts';
import { MessageProperty } from '../message/properties.ts';
import { type DecodeOptions, decodeStoredMessage, type StoredMessage } from '../message/stored-message.ts';
import { TransactionType } from '../message/sysflag.ts';
import { expectSuccess } from '../response.ts';
import { extFields } from './ext-fields.ts';

export type TransactionResolution = 'COMMIT' | 'ROLLBACK' | 'UNKNOWN';

/** `commitOrRollback` values: the transaction-type bits of MessageSysFlag. */
const COMMIT_OR_ROLLBACK: Readonly<Record<TransactionResolution, number>> = {
  COMMIT: TransactionType.COMMIT, // 8
  ROLLBACK: TransactionType.ROLLBACK, // 12
  UNKNOWN: TransactionType.NOT, // 0
};

export interface EndTransactionParams {
  producerGroup: string;
  /** Half-queue offset: the send response's `queueOffset`, or the check's `tranStateTableOffset`. */
  tranStateTableOffset: number;
  /** Commit-log offset of the half record: from the send's offset msgId, or the check's `commitLogOffset`. */
  commitLogOffset: number;
  commitOrRollback: TransactionResolution;
  /** True when answering a CHECK_TRANSACTION_STATE (brokers skip the check-immunity rule then). */
  fromTransactionCheck: boolean;
  /** The message's UNIQ_KEY. */
  msgId: string;
  transactionId?: string | undefined;
  /** Used by brokers only for ACL checks. */
  topic?: string | undefined;
  /** Required by a 5.x Proxy to route the request. */
  brokerName?: string | undefined;
}

export interface EndTransactionRequestSpec extends RequestSpec {
  /** False for UNKNOWN: brokers never answer it, so send it oneway (Java sends every END_TRANSACTION oneway). */
  expectsResponse: boolean;
}

export function endTransactionRequest(params: EndTransactionParams): EndTransactionRequestSpec {
  if (params.producerGroup === '') throw new RangeError('END_TRANSACTION needs a producer group');
  if (params.msgId === '') throw new RangeError('END_TRANSACTION needs the message id (UNIQ_KEY)');
  for (const [name, value] of [
    ['tranStateTableOffset', params.tranStateTableOffset],
    ['commitLogOffset', params.commitLogOffset],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`END_TRANSACTION ${name} must be a non-negative integer, got ${value}`);
    }
  }
  const commitOrRollback = COMMIT_OR_ROLLBACK[params.commitOrRollback];
  if (commitOrRollback === undefined) {
    throw new RangeError(
      `commitOrRollback must be COMMIT, ROLLBACK or UNKNOWN, got ${params.commitOrRollback}`,
    );
  }
  return {
    code: RequestCode.END_TRANSACTION,
    extFields: extFields({
      producerGroup: params.producerGroup,
      tranStateTableOffset: params.tranStateTableOffset,
      commitLogOffset: params.commitLogOffset,
      commitOrRollback,
      fromTransactionCheck: params.fromTransactionCheck,
      msgId: params.msgId,
      transactionId: params.transactionId,
      topic: params.topic,
      bname: params.brokerName,
    }),
    expectsResponse: params.commitOrRollback !== 'UNKNOWN',
  };
}

/** For a two-way END_TRANSACTION: throws RemotingResponseError unless the broker answered SUCCESS. */
export function parseEndTransaction(response: RemotingCommand): void {
  expectSuccess(response, RequestCode.END_TRANSACTION);
}

/** A broker's (or proxy's) CHECK_TRANSACTION_STATE request. */
export interface TransactionCheck {
  /** Header `topic`: the half topic (RMQ_SYS_TRANS_HALF_TOPIC) from a broker. */
  topic: string | undefined;
  /** New half-queue offset of the re-appended half record (changes with every check). */
  tranStateTableOffset: number;
  /** New commit-log offset of the re-appended half record. */
  commitLogOffset: number;
  /** The message's UNIQ_KEY. */
  msgId: string | undefined;
  transactionId: string | undefined;
  /** Offset id of the re-appended record (absent when relayed by a proxy). */
  offsetMsgId: string | undefined;
  /** Header `bname` (absent when relayed by a proxy). */
  brokerName: string | undefined;
  /**
   * The half message with its real topic and queue restored. Its sysFlag transaction type is NOT (0):
   * brokers store half records as plain messages; TRAN_MSG is what marks them (5.4.0).
   */
  message: StoredMessage;
  /** PGROUP of the half message: the producer group that must answer. */
  producerGroup: string | undefined;
}

/** Reads a CHECK_TRANSACTION_STATE request; malformed headers or body throw RMQ_BAD_PAYLOAD. */
export function parseCheckTransactionState(
  command: RemotingCommand,
  options?: DecodeOptions,
): TransactionCheck {
  if (command.code !== RequestCode.CHECK_TRANSACTION_STATE) {
    throw bad(`expected request code ${RequestCode.CHECK_TRANSACTION_STATE}, got ${command.code}`);
  }
  const fields = command.extFields ?? {};
  const long = (key: string): number => {
    const text = fields[key];
    if (text === undefined) throw bad(`header lacks "${key}"`);
    const value = Number(text);
    if (!/^[+-]?\d+$/.test(text) || !Number.isSafeInteger(value)) {
      throw bad(`header "${key}" is ${JSON.stringify(text)}, expected an integer`);
    }
    return value;
  };
  const tranStateTableOffset = long('tranStateTableOffset');
  const commitLogOffset = long('commitLogOffset');
  if (command.body === undefined || command.body.length === 0) throw bad('has no message body');
  const message = decodeStoredMessage(command.body, options);
  return {
    topic: fields['topic'],
    tranStateTableOffset,
    commitLogOffset,
    msgId: fields['msgId'],
    transactionId: fields['transactionId'],
    offsetMsgId: fields['offsetMsgId'],
    brokerName: fields['bname'],
    message,
    producerGroup: message.properties.get(MessageProperty.PRODUCER_GROUP),
  };
}

function bad(message: string): RemotingError {
  return new RemotingError('RMQ_BAD_PAYLOAD', `CHECK_TRANSACTION_STATE ${message}`);
}
