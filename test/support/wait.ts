/**
 * Waiting in tests and in the harness: a fixed pause, a deadline on one promise, polling until a probe
 * answers, waiting for a condition on in-process state, and polling a peer's readiness until it answers,
 * the deadline passes or the peer exits.
 */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolvePromise) => setTimeout(resolvePromise, ms));

/** Rejects when `promise` has not settled within `ms`; the work behind it keeps running. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface EventuallyOptions {
  timeoutMs: number;
  intervalMs?: number | undefined;
}

/**
 * Calls `probe` until it returns something other than undefined, at most until the deadline; throws
 * `what` (with the last error, if any) when time runs out. Errors from `probe` count as "not yet".
 */
export function eventually<T>(
  what: string,
  options: EventuallyOptions,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  return poll(probe, {
    deadline: Date.now() + options.timeoutMs,
    intervalMs: options.intervalMs ?? 200,
    timedOut: `timed out after ${options.timeoutMs} ms waiting for ${what}`,
  });
}

export interface UntilOptions {
  /** Default 5 s. */
  timeoutMs?: number | undefined;
  /** The pause between checks; default 2 ms. */
  intervalMs?: number | undefined;
}

/**
 * Waits until the synchronous `condition` holds: for state of this process (a counter, a flag a callback
 * set) that the pending promise, I/O and timer callbacks change, so it is checked at once and then every few
 * milliseconds. Throws, naming `what`, when it still does not hold after the timeout; what `condition` throws
 * ends the wait at once. For a probe that asks over the network, use `eventually`.
 */
export async function until(
  what: string,
  condition: () => boolean,
  options: UntilOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(options.intervalMs ?? 2);
  }
}

/** A harness peer: a named child process (the harness's ManagedProcess fits). */
export interface WatchedPeer {
  readonly name: string;
  readonly process: {
    /** Set once the process has exited. */
    readonly exit: { code: number | null; signal: string | null } | undefined;
    readonly exited: Promise<unknown>;
  };
}

/**
 * Polls `probe` until it returns true; fails at `deadline` (a `Date.now()` time) or as soon as the peer
 * exits, without waiting out the interval. Errors from `probe` count as "not yet".
 */
export async function waitFor(
  peer: WatchedPeer,
  deadline: number,
  what: string,
  probe: () => Promise<boolean>,
  intervalMs = 250,
): Promise<void> {
  await poll(async () => ((await probe()) ? true : undefined), {
    deadline,
    intervalMs,
    timedOut: `timed out waiting for ${what}`,
    wake: peer.process.exited,
    check: () => {
      const exit = peer.process.exit;
      if (exit) {
        throw new Error(
          `${peer.name} exited (${exit.signal ?? `code ${exit.code}`}) while waiting for ${what}`,
        );
      }
    },
  });
}

interface PollOptions {
  deadline: number;
  intervalMs: number;
  /** The error message at the deadline; the last error of `probe` is appended and kept as the cause. */
  timedOut: string;
  /** Ends the pause between probes early. */
  wake?: Promise<unknown> | undefined;
  /** Runs before every probe; what it throws ends the wait at once. */
  check?: (() => void) | undefined;
}

async function poll<T>(probe: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  let lastError: unknown;
  for (;;) {
    options.check?.();
    try {
      const value = await probe();
      if (value !== undefined) return value;
      lastError = undefined;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= options.deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(
        `${options.timedOut}${why}`,
        lastError === undefined ? undefined : { cause: lastError },
      );
    }
    const pause = sleep(options.intervalMs);
    await (options.wake === undefined ? pause : Promise.race([pause, options.wake]));
  }
}
