/**
 * A small async cache with the Java proxy's cache semantics (Caffeine/Guava there): entries are
 * refreshed in the background once older than `refreshAfterMs` (the old value keeps being served, and
 * a failed refresh keeps it), dropped after `expireAfterAccessMs` without a read, and evicted least
 * recently used beyond `maxEntries`. Concurrent loads of one key share a single loader call. A failed
 * first load is not cached, so the next caller tries again.
 */
import type { Clock } from './clock.ts';
import { systemClock } from './clock.ts';

export interface LoadingCacheOptions<V> {
  load(key: string): Promise<V>;
  refreshAfterMs: number;
  expireAfterAccessMs: number;
  /** Default 20 000, as the Java proxy. */
  maxEntries?: number | undefined;
  /**
   * For values that must not live long (e.g. "topic does not exist"): milliseconds after loading when
   * the value is reloaded synchronously instead of being served. Undefined keeps the normal rules.
   */
  shortLivedMs?: ((value: V) => number | undefined) | undefined;
  /** Called when a background refresh fails (the old value stays). */
  onRefreshError?: ((key: string, error: unknown) => void) | undefined;
  clock?: Clock | undefined;
}

interface Entry<V> {
  value: V;
  loadedAt: number;
  accessedAt: number;
  refreshing: boolean;
}

const DEFAULT_MAX_ENTRIES = 20_000;

export class LoadingCache<V> {
  readonly #options: LoadingCacheOptions<V>;
  readonly #clock: Clock;
  readonly #maxEntries: number;
  /** Map order is access order: a read moves its key to the end, so the first key is the LRU one. */
  readonly #entries = new Map<string, Entry<V>>();
  readonly #loading = new Map<string, Promise<V>>();
  #lastPrune = 0;

  constructor(options: LoadingCacheOptions<V>) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
  }

  get size(): number {
    return this.#entries.size;
  }

  async get(key: string): Promise<V> {
    const now = this.#clock();
    this.#pruneOccasionally(now);
    const entry = this.#entries.get(key);
    if (entry !== undefined && this.#usable(entry, now)) {
      entry.accessedAt = now;
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      if (now - entry.loadedAt >= this.#options.refreshAfterMs) this.#refresh(key, entry);
      return entry.value;
    }
    if (entry !== undefined) this.#entries.delete(key);
    return this.#load(key);
  }

  /** The cached value without loading, refreshing or touching it. */
  peek(key: string): V | undefined {
    const entry = this.#entries.get(key);
    return entry !== undefined && this.#usable(entry, this.#clock()) ? entry.value : undefined;
  }

  invalidate(key: string): void {
    this.#entries.delete(key);
  }

  /** Drops every entry not read for `expireAfterAccessMs`. */
  prune(now: number = this.#clock()): void {
    this.#lastPrune = now;
    for (const [key, entry] of this.#entries) {
      if (!this.#usable(entry, now)) this.#entries.delete(key);
    }
  }

  #usable(entry: Entry<V>, now: number): boolean {
    if (now - entry.accessedAt >= this.#options.expireAfterAccessMs) return false;
    const shortLived = this.#options.shortLivedMs?.(entry.value);
    return shortLived === undefined || now - entry.loadedAt < shortLived;
  }

  #pruneOccasionally(now: number): void {
    if (now - this.#lastPrune >= this.#options.expireAfterAccessMs) this.prune(now);
  }

  #load(key: string): Promise<V> {
    const pending = this.#loading.get(key);
    if (pending !== undefined) return pending;
    const promise = this.#options.load(key).then(
      (value) => {
        this.#loading.delete(key);
        this.#store(key, value);
        return value;
      },
      (error: unknown) => {
        this.#loading.delete(key);
        throw error;
      },
    );
    this.#loading.set(key, promise);
    return promise;
  }

  #refresh(key: string, entry: Entry<V>): void {
    if (entry.refreshing || this.#loading.has(key)) return;
    entry.refreshing = true;
    this.#options.load(key).then(
      (value) => {
        // Keep the read time of the entry being replaced: a refresh is not an access.
        if (this.#entries.get(key) === entry) {
          this.#entries.set(key, {
            value,
            loadedAt: this.#clock(),
            accessedAt: entry.accessedAt,
            refreshing: false,
          });
        }
      },
      (error: unknown) => {
        entry.refreshing = false;
        // Try again at the next read rather than on every read in between.
        entry.loadedAt = this.#clock();
        this.#options.onRefreshError?.(key, error);
      },
    );
  }

  #store(key: string, value: V): void {
    const now = this.#clock();
    this.#entries.delete(key);
    this.#entries.set(key, { value, loadedAt: now, accessedAt: now, refreshing: false });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }
}
