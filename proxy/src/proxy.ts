/**
 * The composition root of the proxy's core: one Remoting pool, the NameServer client, route and
 * metadata caches, the client registry with its broker registrar and expiry sweep, and every
 * protocol-neutral service built on them. Ingresses (gRPC today) are given this core and adapt
 * their wire format to its services; nothing here knows a wire format besides Remoting.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Clock } from './cluster/clock.ts';
import { MetadataService } from './cluster/metadata-service.ts';
import { NameServerClient } from './cluster/nameserver.ts';
import { RouteService } from './cluster/route-service.ts';
import type { ProxyConfig } from './config/schema.ts';
import { AutoRenewer } from './consumer/auto-renew.ts';
import { ConsumerBroker } from './consumer/broker-client.ts';
import { PullService } from './consumer/pull.ts';
import { ReceiveService } from './consumer/receive.ts';
import { SettleService } from './consumer/settle.ts';
import { Publisher } from './producer/publisher.ts';
import { RequestCode } from './remoting/codes.ts';
import { RemotingPool } from './remoting/pool.ts';
import { RouteQueries } from './routing/route-queries.ts';
import { BrokerRegistrar } from './session/broker-registrar.ts';
import { ClientRegistry } from './session/registry.ts';
import { consumerRetryPolicy } from './session/retry-policy.ts';
import { SessionService } from './session/session-service.ts';
import type { SettingsPolicy } from './session/settings.ts';
import { createCheckRelay, type TransactionCheckRelay } from './transaction/check-relay.ts';
import { TransactionService } from './transaction/end-transaction.ts';

export interface ProxyCoreOptions {
  clock?: Clock | undefined;
  /** Client expiry (default 120 s) and sweep period (default 10 s). */
  clientExpireMs?: number | undefined;
  sweepIntervalMs?: number | undefined;
}

export interface ProxyCore {
  readonly logger: Logger;
  readonly clock: Clock | undefined;
  readonly pool: RemotingPool;
  readonly namesrv: NameServerClient;
  readonly routes: RouteService;
  readonly metadata: MetadataService;
  readonly registry: ClientRegistry;
  readonly registrar: BrokerRegistrar;
  /** The id this proxy registers under at the brokers. */
  readonly proxyClientId: string;
  readonly sessions: SessionService;
  readonly routing: RouteQueries;
  /** Sends and recalls messages. */
  readonly publisher: Publisher;
  /** Ends transactions. */
  readonly transactions: TransactionService;
  /** Relays brokers' transaction checks to producers (wired to the pool's CHECK_TRANSACTION_STATE). */
  readonly checkRelay: TransactionCheckRelay;
  /** Receives messages over broker POP. */
  readonly receiver: ReceiveService;
  /** Acks, changes of invisible time and forwards to the DLQ. */
  readonly settler: SettleService;
  /** Offset-managed consumption: pulls and consumer/queue offsets. */
  readonly puller: PullService;
  /** Renews the invisible time of auto-renewed receives while their client lives. */
  readonly renewer: AutoRenewer;
  /** Releases held messages, unregisters from the brokers and closes every Remoting connection. */
  close(): Promise<void>;
}

/** Long polling batch size the Java proxy tells consumers (`grpcClientConsumerLongPollingBatchSize`). */
const RECEIVE_BATCH_SIZE = 32;

export function settingsPolicy(config: ProxyConfig): SettingsPolicy {
  return {
    producer: config.producer,
    maxBodyBytes: config.limits.maxBodyBytes,
    receiveBatchSize: RECEIVE_BATCH_SIZE,
    longPollingTimeoutMs: config.consumer.longPollingMaxMs,
  };
}

export function createProxyCore(
  config: ProxyConfig,
  logger: Logger,
  options: ProxyCoreOptions = {},
): ProxyCore {
  const remotingLogger = logger.child({ component: 'remoting' });
  const timeoutMs = config.timeouts.brokerRequestMs;
  const pool = new RemotingPool({ connection: { requestTimeoutMs: timeoutMs }, logger: remotingLogger });
  const namesrv = new NameServerClient({ pool, addresses: config.namesrv.addresses, timeoutMs });
  const onRefreshError = (what: string, error: unknown): void =>
    logger.warn({ err: error }, `refreshing the ${what} failed; keeping the cached value`);
  const cacheTimes = {
    refreshMs: config.routes.refreshMs,
    expireMs: config.routes.expireMs,
    clock: options.clock,
  };
  const routes = new RouteService({ namesrv, ...cacheTimes, onRefreshError });
  const metadata = new MetadataService({ pool, routes, timeoutMs, ...cacheTimes, onRefreshError });
  const registry = new ClientRegistry({ expireMs: options.clientExpireMs, clock: options.clock });
  const proxyClientId = `rmqproxy@${hostname()}@${process.pid}@${Date.now().toString(36)}`;
  const registrar = new BrokerRegistrar({
    pool,
    routes,
    registry,
    proxyClientId,
    timeoutMs,
    logger: logger.child({ component: 'broker-registrar' }),
  });
  registrar.start();
  const sweep = setInterval(() => {
    for (const session of registry.sweep()) {
      logger.info({ clientId: session.clientId, kind: session.kind }, 'client expired');
    }
  }, options.sweepIntervalMs ?? 10_000);
  sweep.unref();

  const sessions = new SessionService({ registry, metadata, policy: settingsPolicy(config), logger });
  const routing = new RouteQueries({ routes, metadata, logger });

  const closers: (() => Promise<void>)[] = [];

  // Publishing and transactions.
  const publisher = new Publisher({
    pool,
    routes,
    metadata,
    limits: config.limits,
    retry: config.producer,
    timeoutMs,
    logger: logger.child({ component: 'publisher' }),
  });
  const transactions = new TransactionService({ pool, routes, timeoutMs });
  const checkRelay = createCheckRelay({ routes, registry, logger });
  pool.onRequest(RequestCode.CHECK_TRANSACTION_STATE, checkRelay.handle);

  // Consumption.
  const consumerLogger = logger.child({ component: 'consumer' });
  const consumerBroker = new ConsumerBroker({ pool, routes, timeoutMs, logger: consumerLogger });
  const renewer = new AutoRenewer({
    broker: consumerBroker,
    isClientAlive: (clientId) => registry.get(clientId) !== undefined,
    retryPolicyOf: async (group) => consumerRetryPolicy(await metadata.groupConfig(group)),
    logger: consumerLogger,
    clock: options.clock,
  });
  // A client that went away cannot settle what it holds: hand its messages to the rest of the group.
  registry.onChange((event) => {
    if (event.type === 'removed') void renewer.releaseClient(event.session.clientId);
  });
  const receiver = new ReceiveService({
    broker: consumerBroker,
    routes,
    metadata,
    registry,
    renewer,
    polling: { minMs: config.consumer.longPollingMinMs, maxMs: config.consumer.longPollingMaxMs },
    logger: consumerLogger,
    clock: options.clock,
  });
  const settler = new SettleService({
    broker: consumerBroker,
    renewer,
    metadata,
    logger: consumerLogger,
    clock: options.clock,
  });
  const puller = new PullService({
    pool,
    routes,
    timeoutMs,
    maxPollMs: config.consumer.longPollingMaxMs,
    logger: consumerLogger,
    clock: options.clock,
  });
  // Before the pool closes: releasing held messages needs the brokers.
  closers.push(() => renewer.close());

  let closing: Promise<void> | undefined;
  return {
    logger,
    clock: options.clock,
    pool,
    namesrv,
    routes,
    metadata,
    registry,
    registrar,
    proxyClientId,
    sessions,
    routing,
    publisher,
    transactions,
    checkRelay,
    receiver,
    settler,
    puller,
    renewer,
    close() {
      closing ??= (async () => {
        clearInterval(sweep);
        for (const close of closers) await close();
        await registrar.stop();
        await pool.close(2000);
      })();
      return closing;
    },
  };
}
