/**
 * The queue the Apache Java proxy picks for a FIFO message group: Guava's consistent hash of the group's
 * Java String.hashCode() (sign-extended to 64 bits) over the topic's writable queues. Written here as a
 * test oracle from the algorithm's description (Lamping & Veach's jump hash as Guava implements it), so
 * the scenario can assert that a proxy chooses exactly as the Java proxy does (mixed fleets keep order).
 */
import { javaStringHashCode } from '../../../proxy/src/remoting/message/java-hash.ts';

const LCG_MULTIPLIER = 2862933555777941757n;
const INT_MAX = 2 ** 31 - 1;

export function guavaConsistentHash(input: number, buckets: number): number {
  let state = BigInt.asUintN(64, BigInt(input));
  let candidate = 0;
  for (;;) {
    state = BigInt.asUintN(64, state * LCG_MULTIPLIER + 1n);
    const gap = (Number(state >> 33n) + 1) / 2 ** 31;
    const next = Math.min(Math.trunc((candidate + 1) / gap), INT_MAX);
    if (next < 0 || next >= buckets) return candidate;
    candidate = next;
  }
}

/** The queue index (within the writable queues) for a message group. */
export function fifoQueueOf(messageGroup: string, writeQueues: number): number {
  return guavaConsistentHash(javaStringHashCode(messageGroup), writeQueues);
}
