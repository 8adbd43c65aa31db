/**
 * Records every gRPC call into the proxy's request metrics: method, gRPC status, the v2 Code of the
 * first response status, and the duration from the request headers to the final status.
 */
import { status as grpcStatus, ServerInterceptingCall, type ServerInterceptor } from '@grpc/grpc-js';
import type { ProxyMetrics } from '../observability/metrics.ts';
import { codeName } from './status.ts';

export function metricsInterceptor(metrics: Pick<ProxyMetrics, 'requests' | 'latency'>): ServerInterceptor {
  const { requests, latency } = metrics;
  // Per call: the method name from a cache and a float clock (no string slicing, no BigInt).
  const names = new Map<string, string>();
  return (method, call) => {
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
}

function responseStatusCode(message: unknown): number | undefined {
  if (typeof message !== 'object' || message === null || !('status' in message)) return undefined;
  const status = (message as { status?: { code?: unknown } | null }).status;
  return typeof status?.code === 'number' ? status.code : undefined;
}
