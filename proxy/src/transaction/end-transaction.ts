/**
 * Ending a transaction: commit or roll back a half message at the broker that holds it. Everything
 * END_TRANSACTION needs comes from the transaction id this proxy issued (core/transaction-id.ts), so
 * any replica can serve the call. COMMIT/ROLLBACK are sent two-way so a refusal (wrong offsets, a
 * foreign producer group) reaches the client; UNKNOWN (which brokers never answer) goes oneway.
 */
import type { RouteService } from '../cluster/route-service.ts';
import { ProxyError } from '../core/errors.ts';
import { validateTopic } from '../core/names.ts';
import { isJavaBlank } from '../core/text-rules.ts';
import { decodeTransactionId } from '../core/transaction-id.ts';
import { recognized, type Unrecognized } from '../core/unrecognized.ts';
import type { RemotingPool } from '../remoting/pool.ts';
import {
  type EndTransactionRequestSpec,
  endTransactionRequest,
  parseEndTransaction,
  type TransactionResolution,
} from '../remoting/requests/transaction.ts';

export type { TransactionResolution };

export interface EndTransactionInput {
  readonly topic: string;
  /** The id the send (or the broker's check) gave the producer. */
  readonly transactionId: string;
  readonly resolution: TransactionResolution | Unrecognized;
  /** The producer answers a broker's check rather than ending its own local transaction. */
  readonly fromCheck: boolean | Unrecognized;
  /** The producer's id of the half message; blank: the broker's, from the transaction id. */
  readonly messageId: string;
}

export interface EndTransactionOptions {
  pool: Pick<RemotingPool, 'request' | 'oneway'>;
  routes: Pick<RouteService, 'brokerAddress'>;
  timeoutMs: number;
}

/** What END_TRANSACTION to send, and to which broker; throws ProxyError for invalid input. */
export function endTransactionSpec(input: EndTransactionInput): {
  spec: EndTransactionRequestSpec;
  brokerName: string;
} {
  const topic = validateTopic(input.topic);
  const transactionId = input.transactionId;
  if (isJavaBlank(transactionId)) {
    throw new ProxyError('InvalidTransactionId', 'transaction id cannot be empty');
  }
  const handle = decodeTransactionId(transactionId);
  if (handle === undefined) {
    throw new ProxyError(
      'InvalidTransactionId',
      `transaction id ${JSON.stringify(transactionId.slice(0, 200))} was not issued by a proxy of this kind`,
    );
  }
  const resolution = recognized(input.resolution);
  const fromTransactionCheck = recognized(input.fromCheck);
  const spec = endTransactionRequest({
    producerGroup: topic,
    tranStateTableOffset: handle.tranStateTableOffset,
    commitLogOffset: handle.commitLogOffset,
    commitOrRollback: resolution,
    fromTransactionCheck,
    msgId: isJavaBlank(input.messageId) ? handle.brokerTransactionId : input.messageId,
    transactionId: handle.brokerTransactionId,
    topic,
  });
  return { spec, brokerName: handle.brokerName };
}

/** EndTransaction, whichever proxy issued the transaction id (as the Java proxy's transaction processor). */
export class TransactionService {
  readonly #options: EndTransactionOptions;

  constructor(options: EndTransactionOptions) {
    this.#options = options;
  }

  async end(input: EndTransactionInput): Promise<void> {
    const { spec, brokerName } = endTransactionSpec(input);
    const { pool, routes, timeoutMs } = this.#options;
    const address = await routes.brokerAddress(brokerName);
    if (spec.expectsResponse) {
      parseEndTransaction(await pool.request(address, spec, { timeoutMs }));
    } else {
      await pool.oneway(address, spec, { timeoutMs });
    }
  }
}
