/**
 * Controller self-metrics (Prometheus, prom-client) on the manager's registry. Names carry the operator's
 * prefix (passed in); anything a particular reconciler measures it registers on the same registry itself.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface ControllerMetricsOptions {
  /** e.g. rocketmq_proxy_operator → rocketmq_proxy_operator_reconcile_total. */
  prefix: string;
  /** Node process metrics too (only when something serves /metrics). */
  processMetrics?: boolean;
}

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly reconciles: Counter<'result'>;
  readonly reconcileSeconds: Histogram;
  readonly conflicts: Counter;
  readonly watchRestarts: Counter<'kind' | 'reason'>;
  readonly queueDepth: Gauge;

  constructor(options: ControllerMetricsOptions) {
    const registers = [this.registry];
    const { prefix } = options;
    this.reconciles = new Counter({
      name: `${prefix}_reconcile_total`,
      help: 'Reconciliations by result: error, or the outcome the reconciler reported (success by default).',
      labelNames: ['result'] as const,
      registers,
    });
    this.reconcileSeconds = new Histogram({
      name: `${prefix}_reconcile_duration_seconds`,
      help: 'Duration of one reconciliation.',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.conflicts = new Counter({
      name: `${prefix}_conflicts_total`,
      help: 'HTTP 409 conflicts that were retried.',
      registers,
    });
    this.watchRestarts = new Counter({
      name: `${prefix}_watch_restarts_total`,
      help: 'Informer re-lists after errors or 410 Gone.',
      labelNames: ['kind', 'reason'] as const,
      registers,
    });
    this.queueDepth = new Gauge({
      name: `${prefix}_workqueue_depth`,
      help: 'Keys waiting in the work queue.',
      registers,
    });
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
