/**
 * EndTransaction (proxy-grpc.md §8.9): commit or roll back a half message at the broker that holds it.
 * Everything END_TRANSACTION needs comes from the transaction id this proxy issued (transaction-id.ts),
 * so any replica can serve the call. COMMIT/ROLLBACK are sent two-way so a refusal (wrong offsets, a
 * foreign producer group) reaches the client; UNKNOWN (which brokers never answer) goes oneway.
 */
import type { RouteService } from '../cluster/route-service.ts';
import type { apache } from '../grpc/protocol.ts';
import { v2 } from '../grpc/protocol.ts';
import { Code, ProxyStatusError } from '../grpc/status.ts';
import { validateTopic } from '../grpc/validation.ts';
import { isJavaBlank } from '../producer/text-rules.ts';
import type { RemotingPool } from '../remoting/pool.ts';
import {
  type EndTransactionRequestSpec,
  endTransactionRequest,
  parseEndTransaction,
  type TransactionResolution,
} from '../remoting/requests/transaction.ts';
import { decodeTransactionId } from './transaction-id.ts';

type EndTransactionRequest = apache.rocketmq.v2.IEndTransactionRequest;

export interface EndTransactionOptions {
  pool: Pick<RemotingPool, 'request' | 'oneway'>;
  routes: Pick<RouteService, 'brokerAddress'>;
  timeoutMs: number;
}

const RESOLUTION: ReadonlyMap<number, TransactionResolution> = new Map([
  [v2.TransactionResolution.TRANSACTION_RESOLUTION_UNSPECIFIED, 'UNKNOWN'],
  [v2.TransactionResolution.COMMIT, 'COMMIT'],
  [v2.TransactionResolution.ROLLBACK, 'ROLLBACK'],
]);

const SOURCES: ReadonlySet<number> = new Set(
  Object.values(v2.TransactionSource).filter((value): value is number => typeof value === 'number'),
);

/** What END_TRANSACTION to send for a request; throws ProxyStatusError for invalid input. */
export function endTransactionSpec(request: EndTransactionRequest): {
  spec: EndTransactionRequestSpec;
  brokerName: string;
} {
  const topic = validateTopic(request.topic);
  const transactionId = request.transactionId ?? '';
  if (isJavaBlank(transactionId)) {
    throw new ProxyStatusError(Code.INVALID_TRANSACTION_ID, 'transaction id cannot be empty');
  }
  const handle = decodeTransactionId(transactionId);
  if (handle === undefined) {
    throw new ProxyStatusError(
      Code.INVALID_TRANSACTION_ID,
      `transaction id ${JSON.stringify(transactionId.slice(0, 200))} was not issued by a proxy of this kind`,
    );
  }
  const resolution = RESOLUTION.get(request.resolution ?? 0);
  if (resolution === undefined) {
    throw new ProxyStatusError(Code.BAD_REQUEST, `unknown resolution value ${request.resolution}`);
  }
  const source = request.source ?? v2.TransactionSource.SOURCE_UNSPECIFIED;
  if (!SOURCES.has(source)) throw new ProxyStatusError(Code.BAD_REQUEST, `unknown source value ${source}`);
  const messageId = request.messageId ?? '';
  const spec = endTransactionRequest({
    producerGroup: topic,
    tranStateTableOffset: handle.tranStateTableOffset,
    commitLogOffset: handle.commitLogOffset,
    commitOrRollback: resolution,
    fromTransactionCheck: source === v2.TransactionSource.SOURCE_SERVER_CHECK,
    msgId: isJavaBlank(messageId) ? handle.brokerTransactionId : messageId,
    transactionId: handle.brokerTransactionId,
    topic,
  });
  return { spec, brokerName: handle.brokerName };
}

export async function endTransaction(
  options: EndTransactionOptions,
  request: EndTransactionRequest,
): Promise<void> {
  const { spec, brokerName } = endTransactionSpec(request);
  const address = await options.routes.brokerAddress(brokerName);
  if (spec.expectsResponse) {
    parseEndTransaction(await options.pool.request(address, spec, { timeoutMs: options.timeoutMs }));
  } else {
    await options.pool.oneway(address, spec, { timeoutMs: options.timeoutMs });
  }
}
