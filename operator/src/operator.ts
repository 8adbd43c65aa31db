/**
 * The composition root: kubeconfig → client → a manager (health, metrics, leader election) with the
 * operator's kinds registered and the RocketMQProxy controller added.
 *
 * Why our own small runtime instead of a framework: the TypeScript operator frameworks on
 * @kubernetes/client-node (dot-i/k8s-operator, Pepr) process events through one global or per-kind queue
 * without per-key de-duplication or backoff, restart watches without a resourceVersion, and have no
 * leader election; client-node itself offers no work queue, leader election or event recorder, and its
 * informer stops on errors other than 410. The pieces we need (informer, keyed queue, server-side apply,
 * Lease, Events, an admission webhook server) are a few hundred lines that we can test against a real
 * API server and reason about.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { EVENT_SOURCE, FIELD_MANAGER, METRICS_PREFIX } from './api/constants.ts';
import { OwnKinds } from './controllers/kinds.ts';
import type { RocketMQProxyReconciler } from './controllers/rocketmqproxy.ts';
import { setUpRocketMQProxyController } from './controllers/setup.ts';
import { HttpsKubeClient, type KubeClient } from './runtime/client.ts';
import type { Logger } from './runtime/log.ts';
import { Manager } from './runtime/manager.ts';
import type { ControllerMetrics } from './runtime/metrics.ts';

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
  manager: Manager;
  reconciler: RocketMQProxyReconciler;
  metrics: ControllerMetrics;
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
  const election = options.leaderElection;
  const manager = new Manager({
    client: options.client ?? new HttpsKubeClient(loadKubeConfig(options.kubeconfig)),
    log: options.log,
    namespaces: options.namespaces ?? [],
    fieldManager: FIELD_MANAGER,
    metricsPrefix: METRICS_PREFIX,
    eventSource: EVENT_SOURCE,
    kinds: Object.values(OwnKinds),
    ...(election?.identity ? { identity: election.identity } : {}),
    ...(options.httpPort !== undefined
      ? { health: { port: options.httpPort, host: options.httpHost ?? '0.0.0.0' } }
      : {}),
    ...(election
      ? {
          leaderElection: { namespace: election.namespace, name: election.name ?? 'rocketmq-proxy-operator' },
        }
      : {}),
    // Exit so that the restarted process joins the election again instead of running as a standby forever.
    onLeadershipLost: () => process.exit(1),
  });
  const { reconciler } = setUpRocketMQProxyController(manager, {
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  await manager.start();
  return {
    manager,
    reconciler,
    metrics: manager.metrics,
    httpPort: manager.httpPort,
    stop: () => manager.stop(),
  };
}
