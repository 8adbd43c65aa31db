/**
 * The publishing RPCs (proxy-grpc.md §8.3, §8.9, §8.10): SendMessage, EndTransaction and
 * RecallMessage, plus the relay of broker transaction checks to producers' Telemetry streams, all
 * built on the proxy core's pool, routes, metadata and client registry.
 */
import type { Logger } from 'pino';
import type { MetadataService } from '../cluster/metadata-service.ts';
import type { RouteService } from '../cluster/route-service.ts';
import type { ProducerLimits } from '../producer/conversion.ts';
import { type ProducerRetryPolicy, Publisher } from '../producer/publisher.ts';
import { recallMessage } from '../producer/recall.ts';
import type { RemotingPool } from '../remoting/pool.ts';
import type { ClientRegistry } from '../session/registry.ts';
import { TransactionCheckRelay } from '../transaction/check-relay.ts';
import { endTransaction } from '../transaction/end-transaction.ts';
import { unary } from './envelope.ts';
import type { apache } from './protocol.ts';
import type { MessagingHandlers } from './service-definition.ts';
import { OK_STATUS } from './status.ts';

export interface ProducerHandlerDeps {
  pool: RemotingPool;
  routes: RouteService;
  metadata: MetadataService;
  registry: ClientRegistry;
  limits: ProducerLimits;
  retry: ProducerRetryPolicy;
  /** Timeout of one broker request. */
  timeoutMs: number;
  logger: Logger;
}

/** Broker name of a broker address, from the cluster map (masters and slaves). */
export async function brokerNameOf(
  routes: Pick<RouteService, 'clusterInfo'>,
  address: string,
): Promise<string | undefined> {
  const info = await routes.clusterInfo();
  for (const broker of info.brokers.values()) {
    for (const brokerAddress of broker.brokerAddrs.values())
      if (brokerAddress === address) return broker.brokerName;
  }
  return undefined;
}

/** The check relay for `pool.onRequest(CHECK_TRANSACTION_STATE, relay.handle)`. */
export function createCheckRelay(
  deps: Pick<ProducerHandlerDeps, 'routes' | 'registry' | 'logger'>,
): TransactionCheckRelay {
  return new TransactionCheckRelay({
    registry: deps.registry,
    brokerNameOf: (address) => brokerNameOf(deps.routes, address),
    logger: deps.logger.child({ component: 'transaction-check' }),
  });
}

export function createProducerHandlers(
  deps: ProducerHandlerDeps,
): Pick<MessagingHandlers, 'SendMessage' | 'EndTransaction' | 'RecallMessage'> {
  const { logger } = deps;
  const publisher = new Publisher({
    pool: deps.pool,
    routes: deps.routes,
    metadata: deps.metadata,
    limits: deps.limits,
    retry: deps.retry,
    timeoutMs: deps.timeoutMs,
    logger: logger.child({ component: 'publisher' }),
  });
  return {
    SendMessage: unary('SendMessage', logger, (request: apache.rocketmq.v2.SendMessageRequest, context) =>
      publisher.send(request, context.peer),
    ),

    EndTransaction: unary(
      'EndTransaction',
      logger,
      async (request: apache.rocketmq.v2.EndTransactionRequest) => {
        await endTransaction(deps, request);
        return { status: OK_STATUS };
      },
    ),

    RecallMessage: unary(
      'RecallMessage',
      logger,
      async (request: apache.rocketmq.v2.RecallMessageRequest) => {
        const messageId = await recallMessage(deps, request);
        return { status: OK_STATUS, messageId };
      },
    ),
  };
}
