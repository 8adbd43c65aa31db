/**
 * A keyed work queue in the client-go style: a key waits at most once (de-duplication), a key being
 * processed is never handed to a second worker (a new add marks it dirty and it comes back after done),
 * failures back off exponentially per key, and `addAfter` schedules a future look (e.g. certificate renewal).
 */

export interface Timers {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms);
    handle.unref();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface WorkQueueOptions {
  baseDelayMs?: number;
  maxDelayMs?: number;
  timers?: Timers;
}

export class WorkQueue {
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  readonly #delayed = new Map<string, { at: number; handle: unknown }>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #timers: Timers;
  #shutDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.#baseDelayMs = options.baseDelayMs ?? 200;
    this.#maxDelayMs = options.maxDelayMs ?? 300_000;
    this.#timers = options.timers ?? realTimers;
  }

  get length(): number {
    return this.#queue.length;
  }

  add(key: string): void {
    if (this.#shutDown) return;
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#processing.add(key);
      waiter(key);
      return;
    }
    this.#queued.add(key);
    this.#queue.push(key);
  }

  /** Adds `key` after `ms`; an earlier pending schedule for the key wins. */
  addAfter(key: string, ms: number): void {
    if (this.#shutDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = this.#timers.now() + ms;
    const pending = this.#delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) this.#timers.clearTimeout(pending.handle);
    const handle = this.#timers.setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, ms);
    this.#delayed.set(key, { at, handle });
  }

  /** Re-adds after a failure: base × 2^(failures-1), capped. Returns the delay used. */
  addRateLimited(key: string): number {
    const failures = (this.#failures.get(key) ?? 0) + 1;
    this.#failures.set(key, failures);
    const delay = Math.min(this.#baseDelayMs * 2 ** (failures - 1), this.#maxDelayMs);
    this.addAfter(key, delay);
    return delay;
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** Clears the failure history of `key` (call after a success). */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** The next key, or undefined once the queue is shut down. Call done(key) when finished. */
  get(): Promise<string | undefined> {
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#queued.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    if (this.#shutDown) return Promise.resolve(undefined);
    return new Promise((resolvePromise) => this.#waiters.push(resolvePromise));
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  shutDown(): void {
    this.#shutDown = true;
    for (const { handle } of this.#delayed.values()) this.#timers.clearTimeout(handle);
    this.#delayed.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }
}
