/**
 * `rocketmq-proxy serve`: wires configuration, TLS material, the proxy core, the ingresses on top of
 * it (the gRPC port), metrics and the admin port. The one place that knows every ingress.
 */
import type { ProxyConfig } from '../config/schema.ts';
import { maxReceiveMessageBytes, parseHostPort } from '../config/schema.ts';
import { createGrpcIngress, type GrpcIngress } from '../grpc/handlers.ts';
import { metricsInterceptor } from '../grpc/metrics-interceptor.ts';
import { type RunningGrpcServer, startGrpcServer } from '../grpc/server.ts';
import { generateSelfSigned, loadTlsMaterial, type TlsMaterial } from '../grpc/tls.ts';
import { type RunningAdminServer, startAdminServer } from '../observability/admin-server.ts';
import type { Logger } from '../observability/logger.ts';
import { createMetrics, type ProxyMetrics } from '../observability/metrics.ts';
import { anyReachable, cached } from '../observability/probes.ts';
import { createProxyCore, type ProxyCore } from '../proxy.ts';

export interface RunningProxy {
  readonly grpc: RunningGrpcServer;
  readonly admin: RunningAdminServer;
  readonly metrics: ProxyMetrics;
  /** Routes, metadata, client registry, the Remoting pool and every core service. */
  readonly core: ProxyCore;
  readonly ingress: GrpcIngress;
  /** Undefined when tls.mode is disabled. */
  readonly tls: TlsMaterial | undefined;
  /** Graceful: stops accepting, lets calls finish within timeouts.shutdownGraceMs. */
  close(): Promise<void>;
}

export async function resolveTlsMaterial(config: ProxyConfig): Promise<TlsMaterial | undefined> {
  if (config.tls.mode === 'disabled') return undefined;
  if (config.tls.certFile !== undefined && config.tls.keyFile !== undefined) {
    return loadTlsMaterial(config.tls.certFile, config.tls.keyFile);
  }
  const advertised =
    config.advertise.address === undefined ? undefined : parseHostPort(config.advertise.address);
  return generateSelfSigned({ names: [config.listen.host, ...(advertised ? [advertised.host] : [])] });
}

export async function startProxy(config: ProxyConfig, logger: Logger): Promise<RunningProxy> {
  const tls = await resolveTlsMaterial(config);
  if (tls?.selfSigned)
    logger.info(
      'TLS: using a self-signed certificate generated at start (set tls.certFile/keyFile to use your own)',
    );
  const metrics = createMetrics();
  let boundPort = config.listen.port;
  const core = createProxyCore(config, logger);
  const ingress = createGrpcIngress(core, {
    advertised: config.advertise.address,
    listenPort: () => boundPort,
  });
  const closeCore = async (): Promise<void> => {
    await ingress.close();
    await core.close();
  };
  let grpc: RunningGrpcServer;
  try {
    grpc = await startGrpcServer({
      host: config.listen.host,
      port: config.listen.port,
      tlsMode: config.tls.mode,
      ...(tls ? { tls } : {}),
      handlers: ingress.handlers,
      maxReceiveMessageBytes: maxReceiveMessageBytes(config),
      idleTimeoutMs: config.timeouts.clientIdleMs,
      interceptors: [metricsInterceptor(metrics)],
      logger,
    });
  } catch (error) {
    await closeCore();
    throw error;
  }
  boundPort = grpc.port;
  let admin: RunningAdminServer;
  try {
    admin = await startAdminServer({
      host: config.admin.host,
      port: config.admin.port,
      registry: metrics.registry,
      readiness: {
        'grpc-listening': () => grpc.isListening(),
        'nameserver-reachable': cached(() => anyReachable(config.namesrv.addresses, 1000), 5000),
      },
      logger,
    });
  } catch (error) {
    await grpc.close(0);
    await closeCore();
    throw error;
  }
  return {
    grpc,
    admin,
    metrics,
    tls,
    core,
    ingress,
    async close() {
      await grpc.close(config.timeouts.shutdownGraceMs);
      await closeCore();
      await admin.close();
    },
  };
}
