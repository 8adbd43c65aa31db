/**
 * Pieces shared by the benchmarks: a closed-loop load generator (N send loops for a fixed window,
 * latencies of the sends that finish inside it), nearest-rank percentiles, error tallies, peak RSS of
 * another process, and the peers (reused from the environment or started here).
 */
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { RemotingError, RemotingResponseError } from '../../../proxy/src/remoting/errors.ts';
import { type PeerInfo, peersFromEnv } from '../../harness/env.ts';
import { parsePortChoice } from '../../harness/ports.ts';
import { type RocketMQ, startRocketMQ } from '../../harness/rocketmq.ts';
import { createTopology } from '../../harness/topology.ts';

export const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

export function positiveNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}=${raw}: expected a positive number`);
  return value;
}

export function concurrencyList(name: string, fallback: string): number[] {
  return (process.env[name] || fallback).split(',').map((part) => {
    const n = Number(part.trim());
    if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: "${part}" is not a positive integer`);
    return n;
  });
}

/** Distinct error kinds with a count and the first message, so a failed run says what went wrong. */
export class ErrorTally {
  readonly kinds = new Map<string, { count: number; message: string }>();

  record(error: unknown): void {
    let kind = 'other';
    if (error instanceof RemotingResponseError) kind = `response ${error.responseCode} (${error.errorCode})`;
    else if (error instanceof RemotingError) kind = error.code;
    else if (error instanceof Error && 'kind' in error && typeof error.kind === 'string') kind = error.kind;
    const message = error instanceof Error ? error.message : String(error);
    const seen = this.kinds.get(kind);
    if (seen) seen.count++;
    else this.kinds.set(kind, { count: 1, message });
  }
}

export interface LoadResult {
  concurrency: number;
  sent: number;
  errors: number;
  elapsedMs: number;
  /** Latencies (ms) of the successful sends inside the window, ascending. */
  latencies: Float64Array;
}

/**
 * Runs `concurrency` loops of `sendOne` for `durationMs` (or until `maxSends`). Only sends finishing
 * inside the window count; those still in flight at its end are awaited but not counted.
 */
export async function runClosedLoop(options: {
  concurrency: number;
  durationMs: number;
  maxSends: number;
  sendOne: () => Promise<void>;
  errors?: ErrorTally | undefined;
}): Promise<LoadResult> {
  const { concurrency, durationMs, maxSends, sendOne } = options;
  let latencies = new Float64Array(Math.min(maxSends, 65_536));
  let sent = 0;
  let errors = 0;
  let open = true;
  const start = performance.now();
  const end = start + durationMs;
  let windowEnd = end;
  const stopTimer = setTimeout(() => {
    open = false;
  }, durationMs);
  const loop = async (): Promise<void> => {
    while (open) {
      const began = performance.now();
      try {
        await sendOne();
        const done = performance.now();
        if (done <= end && open) {
          if (sent === latencies.length) {
            const grown = new Float64Array(Math.min(maxSends, latencies.length * 2));
            grown.set(latencies);
            latencies = grown;
          }
          latencies[sent++] = done - began;
          if (sent >= maxSends) {
            open = false;
            windowEnd = done;
          }
        }
      } catch (error) {
        if (performance.now() <= end) errors++;
        options.errors?.record(error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  clearTimeout(stopTimer);
  return {
    concurrency,
    sent,
    errors,
    elapsedMs: windowEnd - start,
    latencies: latencies.subarray(0, sent).sort(),
  };
}

/** Nearest-rank percentile of an ascending array (exact: one of the recorded values). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export const mib = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1);

/** CPU seconds (user + system) a process has used, from /proc; undefined when unreadable. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    // Fields after the command name: state is field 3, utime 14 and stime 15 (in clock ticks of 10 ms).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** Peak resident set of a process (VmHWM), in bytes; undefined when it cannot be read. */
export function peakRssOf(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Reuses peers from the environment (left running) or starts our own (stopped by the caller). */
export async function acquirePeers(): Promise<{ peers: PeerInfo; started: RocketMQ | undefined }> {
  const external = peersFromEnv();
  if (external) {
    log(`using running peers: NameServer ${external.namesrvAddr}, broker ${external.brokerAddr}`);
    await createTopology(external);
    return { peers: external, started: undefined };
  }
  const rocketmq = await startRocketMQ({ ports: parsePortChoice(process.env['RMQP_PORTS'], 'auto'), log });
  try {
    await createTopology(rocketmq);
  } catch (error) {
    await rocketmq.stop({ graceMs: 2000 });
    throw error;
  }
  return { peers: rocketmq, started: rocketmq };
}
