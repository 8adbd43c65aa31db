/**
 * Works around a @grpc/grpc-js server bug (present up to 1.14.7): it turns the `grpc-timeout` header
 * into milliseconds with `| 0`, so a deadline beyond 2^31 ms (~24.8 days) wraps to a negative number
 * and the call fails at once with DEADLINE_EXCEEDED. The official Java client opens its Telemetry
 * stream with a deadline of years, so without this no Java client can start.
 *
 * grpc-js looks `getServerInterceptingCall` up on its module's exports for every call, so wrapping
 * that export lets us clamp the header to the largest deadline a timer can hold before grpc-js reads
 * it. If a grpc-js release changes that shape, the fix reports itself as not applied (and the unit
 * test of long deadlines fails) rather than breaking the server.
 *
 * The same hook runs registered raw-header filters (`addRawHeaderFilter`): the server strips
 * proxy-internal headers there, before grpc-js parses them, instead of in an interceptor, which
 * costs a ServerInterceptingCall layer on every call.
 */
import { createRequire } from 'node:module';

/** The longest timer Node can arm (2^31 − 1 ms), in seconds. */
const MAX_DEADLINE_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
const TIMEOUT_HEADER = 'grpc-timeout';
const TIMEOUT_PATTERN = /^(\d{1,8})\s*([HMSmun])$/;
const UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 1e-3,
  n: 1e-6,
};

type Headers = Record<string, string | string[] | undefined>;
type GetServerInterceptingCall = (
  interceptors: unknown,
  stream: unknown,
  headers: Headers,
  ...rest: unknown[]
) => unknown;

interface InterceptorsModule {
  getServerInterceptingCall?: GetServerInterceptingCall & { deadlineClamped?: true };
}

/** A `grpc-timeout` value a server timer can hold: values over 2^31 − 1 ms become that bound. */
export function clampGrpcTimeout(value: string): string {
  const match = TIMEOUT_PATTERN.exec(value.trim());
  if (match === null) return value;
  const ms = Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? 0);
  return ms > MAX_DEADLINE_SECONDS * 1000 ? `${MAX_DEADLINE_SECONDS}S` : value;
}

let applied: boolean | undefined;
/** Run on the raw HTTP/2 request headers of every call, after the clamp, before grpc-js reads them. */
const rawHeaderFilters = new Set<(headers: Headers) => void>();

/**
 * Registers `filter` (once, however often it is added) for every gRPC server in this process.
 * Returns false when the hook cannot be installed: the caller must then filter some other way.
 */
export function addRawHeaderFilter(filter: (headers: Headers) => void): boolean {
  if (!applyDeadlineFix()) return false;
  rawHeaderFilters.add(filter);
  return true;
}

/** Installs the clamp once per process; returns whether it is in place. */
export function applyDeadlineFix(): boolean {
  if (applied !== undefined) return applied;
  const require = createRequire(import.meta.url);
  const module = require('@grpc/grpc-js/build/src/server-interceptors.js') as InterceptorsModule;
  const original = module.getServerInterceptingCall;
  if (typeof original !== 'function') {
    applied = false;
    return applied;
  }
  if (original.deadlineClamped !== true) {
    const wrapped: GetServerInterceptingCall & { deadlineClamped?: true } = (
      interceptors,
      stream,
      headers,
      ...rest
    ) => {
      const timeout = headers[TIMEOUT_HEADER];
      if (typeof timeout === 'string') headers[TIMEOUT_HEADER] = clampGrpcTimeout(timeout);
      for (const filter of rawHeaderFilters) filter(headers);
      return original(interceptors, stream, headers, ...rest);
    };
    wrapped.deadlineClamped = true;
    module.getServerInterceptingCall = wrapped;
  }
  applied = true;
  return applied;
}
