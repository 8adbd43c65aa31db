/**
 * Prometheus metrics of one proxy: default process metrics, `rocketmq_proxy_up` (the one metric the
 * Java proxy exports in cluster mode) and per-request counts and latency, which each ingress records
 * (the gRPC ingress with a server interceptor, so every handler is covered without code of its own).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface ProxyMetrics {
  readonly registry: Registry;
  /** Finished gRPC calls by method, gRPC status and the v2 Code of the first response status. */
  readonly requests: Counter<'method' | 'grpc_code' | 'code'>;
  readonly latency: Histogram<'method' | 'grpc_code'>;
}

/** Long-polling receives last up to ~30 s, hence the upper buckets. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30];

export function createMetrics(options: { defaultMetrics?: boolean } = {}): ProxyMetrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  new Gauge({ name: 'rocketmq_proxy_up', help: 'Always 1 while the proxy runs.', registers: [registry] }).set(
    1,
  );
  const requests = new Counter({
    name: 'rocketmq_proxy_grpc_requests_total',
    help: 'Finished gRPC calls by method, gRPC status and the apache.rocketmq.v2 Code of the first response status ("none" without one).',
    labelNames: ['method', 'grpc_code', 'code'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'rocketmq_proxy_grpc_request_duration_seconds',
    help: 'gRPC call duration from the request headers to the final status, by method and gRPC status.',
    labelNames: ['method', 'grpc_code'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  return { registry, requests, latency };
}
