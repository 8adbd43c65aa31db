/**
 * The proxy's domain core, assembled from the configuration: one Remoting pool, the NameServer client,
 * route and metadata caches, the client registry with its broker registrar and expiry sweep, and the
 * gRPC handlers built on them. `serve` puts the handlers on the gRPC port; RPCs not implemented yet
 * keep their placeholder. Later domains (send, transactions, consume) take their dependencies from
 * here and add their handlers.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Clock } from './cluster/clock.ts';
import { MetadataService } from './cluster/metadata-service.ts';
import { NameServerClient } from './cluster/nameserver.ts';
import { RouteService } from './cluster/route-service.ts';
import type { ProxyConfig } from './config/schema.ts';
import { createConsumerService } from './grpc/consumer-service.ts';
import { createCheckRelay, createProducerHandlers } from './grpc/producer-service.ts';
import { createRouteHandlers } from './grpc/route-service.ts';
import type { MessagingHandlers } from './grpc/service-definition.ts';
import { createSessionHandlers } from './grpc/session-service.ts';
import type { SettingsPolicy } from './grpc/settings.ts';
import { SettingsNudge } from './grpc/settings-nudge.ts';
import { RequestCode } from './remoting/codes.ts';
import { RemotingPool } from './remoting/pool.ts';
import { BrokerRegistrar } from './session/broker-registrar.ts';
import { ClientRegistry } from './session/registry.ts';

export interface ProxyCoreOptions {
  /** The bound gRPC port (routes use it when the client's authority has none). */
  listenPort: () => number;
  clock?: Clock | undefined;
  /** Client expiry (default 120 s) and sweep period (default 10 s). */
  clientExpireMs?: number | undefined;
  sweepIntervalMs?: number | undefined;
}

export interface ProxyCore {
  readonly pool: RemotingPool;
  readonly namesrv: NameServerClient;
  readonly routes: RouteService;
  readonly metadata: MetadataService;
  readonly registry: ClientRegistry;
  readonly registrar: BrokerRegistrar;
  /** The id this proxy registers under at the brokers. */
  readonly proxyClientId: string;
  readonly handlers: Partial<MessagingHandlers>;
  /** Unregisters from the brokers and closes every Remoting connection. */
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

export function createProxyCore(config: ProxyConfig, logger: Logger, options: ProxyCoreOptions): ProxyCore {
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

  const nudge = new SettingsNudge({ registry, clock: options.clock });
  const consumer = createConsumerService({
    pool,
    routes,
    metadata,
    registry,
    timeoutMs,
    polling: { minMs: config.consumer.longPollingMinMs, maxMs: config.consumer.longPollingMaxMs },
    logger,
    clock: options.clock,
  });
  const handlers: Partial<MessagingHandlers> = {
    ...createRouteHandlers({
      routes,
      metadata,
      endpoints: { advertised: config.advertise.address, listenPort: options.listenPort },
      logger,
      afterRoute: (clientId) => nudge.afterRoute(clientId),
    }),
    ...createSessionHandlers({ registry, metadata, policy: settingsPolicy(config), logger }),
    ...createProducerHandlers({
      pool,
      routes,
      metadata,
      registry,
      limits: config.limits,
      retry: config.producer,
      timeoutMs,
      logger,
    }),
    ...consumer.handlers,
  };
  // Brokers send transaction checks on the connections the registrar registered producer groups on.
  pool.onRequest(RequestCode.CHECK_TRANSACTION_STATE, createCheckRelay({ routes, registry, logger }).handle);

  let closing: Promise<void> | undefined;
  return {
    pool,
    namesrv,
    routes,
    metadata,
    registry,
    registrar,
    proxyClientId,
    handlers,
    close() {
      closing ??= (async () => {
        clearInterval(sweep);
        nudge.close();
        await consumer.close();
        await registrar.stop();
        await pool.close(2000);
      })();
      return closing;
    },
  };
}
