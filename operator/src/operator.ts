/**
 * Wires the operator together: kubeconfig → client, leader election, the RocketMQProxy controller, and an
 * HTTP port for /healthz, /readyz and /metrics.
 *
 * Why our own small runtime instead of a framework: the TypeScript operator frameworks on
 * @kubernetes/client-node (dot-i/k8s-operator, Pepr) process events through one global or per-kind queue
 * without per-key de-duplication or backoff, restart watches without a resourceVersion, and have no
 * leader election; client-node itself offers no work queue, leader election or event recorder, and its
 * informer stops on errors other than 410. The pieces we need (informer, keyed queue, server-side apply,
 * Lease, Events) are a few hundred lines that we can test against a real API server and reason about.
 */
import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { type Logger, RocketMQProxyController } from './controllers/rocketmqproxy.ts';
import { HttpsKubeClient, type KubeClient } from './runtime/client.ts';
import { KubeEventRecorder } from './runtime/events.ts';
import { LeaderElector } from './runtime/leader.ts';
import { OperatorMetrics } from './runtime/metrics.ts';

export interface OperatorOptions {
  /** Path of a kubeconfig; undefined: in-cluster service account, else the default kubeconfig. */
  kubeconfig?: string | undefined;
  /** Or a ready client (tests). */
  client?: KubeClient;
  namespaces?: readonly string[];
  workers?: number;
  /** Port for /healthz, /readyz, /metrics; undefined: no HTTP server; 0: any free port. */
  httpPort?: number | undefined;
  httpHost?: string;
  leaderElection?: { namespace: string; name?: string; identity?: string } | undefined;
  log: Logger;
  now?: () => Date;
}

export interface RunningOperator {
  controller: RocketMQProxyController;
  metrics: OperatorMetrics;
  /** Bound HTTP port, when one was asked for. */
  httpPort: number | undefined;
  stop(): Promise<void>;
}

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const config = new KubeConfig();
  if (path) config.loadFromFile(path);
  else if (process.env['KUBERNETES_SERVICE_HOST']) config.loadFromCluster();
  else config.loadFromDefault();
  return config;
}

export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const client = options.client ?? new HttpsKubeClient(loadKubeConfig(options.kubeconfig));
  const metrics = new OperatorMetrics({ processMetrics: options.httpPort !== undefined });
  const identity =
    options.leaderElection?.identity ??
    `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const events = new KubeEventRecorder(client, 'rmqproxy.io/rocketmq-proxy-operator', identity, (m) =>
    options.log.warn(m),
  );
  const controller = new RocketMQProxyController({
    client,
    events,
    metrics,
    log: options.log,
    namespaces: options.namespaces ?? [],
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(options.now ? { now: options.now } : {}),
  });

  let server: Server | undefined;
  let httpPort: number | undefined;
  let elector: LeaderElector | undefined;
  if (options.httpPort !== undefined) {
    server = createServer((req, res) => {
      if (req.url === '/healthz') {
        res.writeHead(200).end('ok\n');
      } else if (req.url === '/readyz') {
        // Ready = caches synced; a standby (not leader) is ready too, so rolling the operator never stalls.
        const ready = controller.synced || (elector !== undefined && !elector.isLeader);
        res.writeHead(ready ? 200 : 503).end(ready ? 'ok\n' : 'informers not synced\n');
      } else if (req.url === '/metrics') {
        metrics.registry.metrics().then(
          (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
          (error: unknown) => res.writeHead(500).end(String(error)),
        );
      } else res.writeHead(404).end();
    });
    await new Promise<void>((resolvePromise) =>
      server!.listen(options.httpPort, options.httpHost ?? '0.0.0.0', resolvePromise),
    );
    const address = server.address();
    httpPort = typeof address === 'object' && address ? address.port : undefined;
  }

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await controller.stop();
      await elector?.release();
      await new Promise<void>((resolvePromise) =>
        server ? server.close(() => resolvePromise()) : resolvePromise(),
      );
    })();
    return stopped;
  };

  if (options.leaderElection) {
    elector = new LeaderElector(client, {
      namespace: options.leaderElection.namespace,
      name: options.leaderElection.name ?? 'rocketmq-proxy-operator',
      identity,
      log: (level, message) => options.log[level](message),
    });
    await elector.run(() => {
      options.log.error('leadership lost: stopping so a restart rejoins the election');
      void stop().then(() => process.exit(1));
    });
  }
  await controller.start();
  return { controller, metrics, httpPort, stop };
}
