/**
 * Prometheus metrics of one proxy: default process metrics, `rocketmq_proxy_up` (the one metric the
 * Java proxy exports in cluster mode) and per-RPC counts and latency, recorded by a grpc-js server
 * interceptor so every handler is covered without code of its own.
 */
import { status as grpcStatus, ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { codeName } from '../grpc/status.ts';

export interface ProxyMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'method' | 'grpc_code' | 'code'>;
  readonly latency: Histogram<'method' | 'grpc_code'>;
  /** Records every RPC; add it to the gRPC server's interceptors. */
  readonly interceptor: ServerInterceptor;
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

  // Per call: the method name from a cache and a float clock (no string slicing, no BigInt).
  const names = new Map<string, string>();
  const interceptor: ServerInterceptor = (method, call) => {
    let name = names.get(method.path);
    if (name === undefined) {
      name = method.path.slice(method.path.lastIndexOf('/') + 1);
      names.set(method.path, name);
    }
    const started = performance.now();
    let code: string | undefined;
    let recorded = false;
    const record = (grpcCode: number) => {
      if (recorded) return;
      recorded = true;
      const grpcCodeName = grpcStatus[grpcCode] ?? String(grpcCode);
      requests.inc({ method: name, grpc_code: grpcCodeName, code: code ?? 'none' });
      latency.observe({ method: name, grpc_code: grpcCodeName }, (performance.now() - started) / 1000);
    };
    return new ServerInterceptingCall(call, {
      start: (next) => next({ onCancel: () => record(grpcStatus.CANCELLED) }),
      sendMessage: (message, next) => {
        if (code === undefined) {
          const inner = responseStatusCode(message);
          if (inner !== undefined) code = codeName(inner);
        }
        next(message);
      },
      sendStatus: (status, next) => {
        record(status.code);
        next(status);
      },
    });
  };

  return { registry, requests, latency, interceptor };
}

function responseStatusCode(message: unknown): number | undefined {
  if (typeof message !== 'object' || message === null || !('status' in message)) return undefined;
  const status = (message as { status?: { code?: unknown } | null }).status;
  return typeof status?.code === 'number' ? status.code : undefined;
}
