/** Operator self-metrics (Prometheus, prom-client) on the operator's own registry. */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'rocketmq_proxy_operator_reconcile_total',
    help: 'Reconciliations by result (success, error, invalid, paused).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly reconcileSeconds = new Histogram({
    name: 'rocketmq_proxy_operator_reconcile_duration_seconds',
    help: 'Duration of one reconciliation.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly conflicts = new Counter({
    name: 'rocketmq_proxy_operator_conflicts_total',
    help: 'HTTP 409 conflicts that were retried.',
    registers: [this.registry],
  });
  readonly watchRestarts = new Counter({
    name: 'rocketmq_proxy_operator_watch_restarts_total',
    help: 'Informer re-lists after errors or 410 Gone.',
    labelNames: ['kind', 'reason'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'rocketmq_proxy_operator_workqueue_depth',
    help: 'Keys waiting in the work queue.',
    registers: [this.registry],
  });
  readonly certificateExpiry = new Gauge({
    name: 'rocketmq_proxy_operator_certificate_expiry_timestamp_seconds',
    help: 'notAfter of each serving certificate the operator issued.',
    labelNames: ['namespace', 'name'] as const,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry });
  }
}
