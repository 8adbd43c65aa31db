/**
 * The FIFO queue choice of the Java proxy, bit for bit: Guava's `Hashing.consistentHash` fed with the
 * message group's Java `String.hashCode()` (an int, widened to long with its sign). Proxies of both
 * implementations in front of one cluster must put a message group on the same queue, or a mixed
 * fleet would break per-group order.
 */
import { javaStringHashCode } from '../remoting/message/java-hash.ts';

const MASK_64 = (1n << 64n) - 1n;
const LCG_MULTIPLIER = 2862933555777941757n;
const TWO_POW_31 = 2 ** 31;
const INT_MAX = 2 ** 31 - 1;

/** Guava's linear congruential generator step: the next state and its double in (0, 1]. */
function nextDouble(state: bigint): { state: bigint; value: number } {
  const next = (state * LCG_MULTIPLIER + 1n) & MASK_64;
  // (int)(state >>> 33): the top 31 bits, always non-negative.
  const top = Number(next >> 33n);
  return { state: next, value: (top + 1) / TWO_POW_31 };
}

/** Java's `(int) double`: truncation toward zero, saturating at the int range. */
function toJavaInt(value: number): number {
  if (Number.isNaN(value)) return 0;
  if (value >= INT_MAX) return INT_MAX;
  if (value <= -TWO_POW_31) return -TWO_POW_31;
  return Math.trunc(value);
}

/**
 * `Hashing.consistentHash(long input, int buckets)`: a bucket in [0, buckets) that changes for only
 * about 1/n of the inputs when the bucket count grows from n-1 to n.
 */
export function consistentHash(input: bigint, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets <= 0) {
    throw new RangeError(`buckets must be a positive integer, got ${buckets}`);
  }
  let state = BigInt.asUintN(64, input);
  let candidate = 0;
  for (;;) {
    const step = nextDouble(state);
    state = step.state;
    const next = toJavaInt((candidate + 1) / step.value);
    if (next >= 0 && next < buckets) candidate = next;
    else return candidate;
  }
}

/** Index into the sorted write queues of a topic for a FIFO message group. */
export function fifoQueueIndex(messageGroup: string, queueCount: number): number {
  return consistentHash(BigInt(javaStringHashCode(messageGroup)), queueCount);
}
