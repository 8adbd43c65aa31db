/**
 * The retry policies the proxy tells clients when they register: producers get the configured
 * exponential backoff; consumers get their group's policy from the broker (`retryMaxTimes` + 1
 * attempts, customized delays by default, exponential when the group says so).
 */
import type { GroupConfig } from '../remoting/requests/admin.ts';

export interface ExponentialBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
}

export interface RetryPolicy {
  readonly maxAttempts: number;
  /** Exactly one of the two strategies is set. */
  readonly exponential?: ExponentialBackoff | undefined;
  readonly customizedMs?: readonly number[] | undefined;
}

/** The broker's default `CustomizedRetryPolicy` (the delay levels 1s … 2h). */
export const DEFAULT_CUSTOMIZED_DELAYS_MS: readonly number[] = [
  1, 5, 10, 30, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600, 1200, 1800, 3600, 7200,
].map((seconds) => seconds * 1000);

/** The broker's default `ExponentialRetryPolicy`. */
export const DEFAULT_EXPONENTIAL: ExponentialBackoff = { initialMs: 5000, maxMs: 7_200_000, multiplier: 2 };

/** The broker's default `retryMaxTimes`. */
export const DEFAULT_RETRY_MAX_TIMES = 16;

export interface ProducerRetryConfig {
  readonly maxAttempts: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly backoffMultiplier: number;
}

export function producerRetryPolicy(config: ProducerRetryConfig): RetryPolicy {
  return {
    maxAttempts: config.maxAttempts,
    exponential: {
      initialMs: config.backoffInitialMs,
      maxMs: config.backoffMaxMs,
      multiplier: config.backoffMultiplier,
    },
  };
}

export function consumerRetryPolicy(group: GroupConfig | undefined): RetryPolicy {
  const maxAttempts = (group?.retryMaxTimes ?? DEFAULT_RETRY_MAX_TIMES) + 1;
  const policy = group?.groupRetryPolicy;
  if (policy !== undefined && String(policy['type']).toUpperCase() === 'EXPONENTIAL') {
    const exponential = asRecord(policy['exponentialRetryPolicy']);
    return {
      maxAttempts,
      exponential: {
        initialMs: positiveNumber(exponential?.['initial'], DEFAULT_EXPONENTIAL.initialMs),
        maxMs: positiveNumber(exponential?.['max'], DEFAULT_EXPONENTIAL.maxMs),
        multiplier: positiveNumber(exponential?.['multiplier'], DEFAULT_EXPONENTIAL.multiplier),
      },
    };
  }
  const next = asRecord(policy?.['customizedRetryPolicy'])?.['next'];
  const delays = Array.isArray(next)
    ? next.filter((value): value is number => typeof value === 'number' && value >= 0)
    : [];
  return { maxAttempts, customizedMs: delays.length > 0 ? delays : DEFAULT_CUSTOMIZED_DELAYS_MS };
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function positiveNumber(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}
