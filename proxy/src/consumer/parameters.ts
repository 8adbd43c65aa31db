/**
 * Pure derivations of the parameters of a receive and of a change of invisible time, with the Java
 * proxy's bounds: long-polling time within the configured bounds and the request's deadline,
 * invisible durations, batch sizes.
 */
import { ProxyError } from '../core/errors.ts';
import { POP_MAX_MSG_NUMS } from '../remoting/requests/pop.ts';

export const MIN_INVISIBLE_MS = 10_000;
export const MAX_INVISIBLE_MS = 12 * 3600_000;
/** Invisible time of auto-renewed pops (the proxy renews before it runs out). */
export const AUTO_RENEW_INVISIBLE_MS = 60_000;
/** Time kept back from the deadline for the answer to reach the client. */
export const DEADLINE_MARGIN_MS = 500;

export interface PollingInput {
  /** The long-polling time the client asked for (ms), if it said. */
  requestedMs: number | undefined;
  /** The client's request timeout from its settings (ms), if known. */
  clientRequestTimeoutMs: number | undefined;
  /** Milliseconds to the request's deadline (Infinity without one). */
  timeRemainingMs: number;
  minMs: number;
  maxMs: number;
}

/**
 * The broker pollTime: the client's wish clamped to [min, max], then cut to what the deadline leaves.
 * Too little time left for even the minimum is IllegalPollingTime (as the Java proxy answers
 * clients ≥ 5.0.3).
 */
export function longPollingTime(input: PollingInput): number {
  const fallback =
    Number.isFinite(input.timeRemainingMs) && input.clientRequestTimeoutMs !== undefined
      ? input.timeRemainingMs - input.clientRequestTimeoutMs / 2
      : input.maxMs;
  const wanted = input.requestedMs ?? fallback;
  const clamped = Math.min(input.maxMs, Math.max(input.minMs, wanted));
  const budget = input.timeRemainingMs - DEADLINE_MARGIN_MS;
  if (clamped <= budget) return clamped;
  if (budget >= input.minMs) return Math.floor(budget);
  throw new ProxyError(
    'IllegalPollingTime',
    'The deadline time remaining is not enough for polling, please check network condition',
  );
}

/** The invisible time of a pop that the client manages itself: within [10 s, 12 h]. */
export function receiveInvisibleTime(requestedMs: number | undefined): number {
  return invisibleTimeWithin(requestedMs ?? 0, MIN_INVISIBLE_MS);
}

/** ChangeInvisibleDuration accepts [0, 12 h]: 0 makes the message visible again at once (a nack). */
export function changedInvisibleTime(requestedMs: number | undefined): number {
  return invisibleTimeWithin(requestedMs ?? 0, 0);
}

/** The Java proxy's words first (clients match on them), then the value that was sent. */
function invisibleTimeWithin(ms: number, minMs: number): number {
  if (ms < minMs) {
    throw new ProxyError(
      'IllegalInvisibleTime',
      `the invisibleTime is too small. min is ${minMs} (got ${ms} ms)`,
    );
  }
  if (ms > MAX_INVISIBLE_MS) {
    throw new ProxyError(
      'IllegalInvisibleTime',
      `the invisibleTime is too large. max is ${MAX_INVISIBLE_MS} (got ${ms} ms)`,
    );
  }
  return ms;
}

/**
 * Batch sizes above the broker's 32 are cut to 32. A non-positive one asks for nothing, so it gets
 * "no new message" without a pop, as from the Java proxy (not an error code).
 */
export function popBatchSize(requested: number | undefined): number {
  const size = requested ?? 0;
  if (size <= 0) throw new ProxyError('MessageNotFound', `no new message (batch size ${size} asks for none)`);
  return Math.min(size, POP_MAX_MSG_NUMS);
}
