/**
 * The manager's shared cache: one watch per kind, over the namespaces the operator may see. Controllers
 * subscribe to the kinds they watch and reconcilers read from it, so a pass costs no API reads. Objects
 * are shared with the informers: readers must copy before they change one.
 */
import type { KubeClient } from './client.ts';
import type { KubeObject } from './informer.ts';
import { KindInformers } from './kind-informers.ts';
import type { Kind } from './kinds.ts';
import type { LogLevel } from './log.ts';
import { OptionalKind } from './optional-kind.ts';
import type { CachedKind, CacheLifecycle } from './source.ts';

export interface CacheOptions {
  /** Namespaces to watch; empty = all. */
  namespaces: readonly string[];
  log?: (level: LogLevel, message: string) => void;
  onRestart?: (kind: string, reason: string) => void;
}

export interface WatchOptions {
  labelSelector?: string;
  /** Trims objects before they are cached (e.g. drop managedFields: the cache lives as long as the process). */
  transform?: (object: KubeObject) => void;
  /** Served by another project's CRD that may be absent: watched for presence, never blocks start-up. */
  optional?: boolean;
}

export class Cache {
  readonly #client: KubeClient;
  readonly #o: CacheOptions;
  readonly #entries = new Map<string, CacheLifecycle>();
  #started = false;

  constructor(client: KubeClient, options: CacheOptions) {
    this.#client = client;
    this.#o = options;
  }

  /** Starts caching `kind` (at once if the cache is already running). One watch per kind. */
  watch<T extends KubeObject>(kind: Kind, options: WatchOptions = {}): CachedKind<T> {
    const key = `${kind.apiVersion}|${kind.kind}`;
    if (this.#entries.has(key)) throw new Error(`${kind.apiVersion}/${kind.kind} is already watched`);
    const settings = {
      kind,
      namespaces: this.#o.namespaces.length > 0 ? this.#o.namespaces : [undefined],
      labelSelector: options.labelSelector,
      transform: options.transform,
      ...(this.#o.log ? { log: this.#o.log } : {}),
      ...(this.#o.onRestart ? { onRestart: this.#o.onRestart } : {}),
    };
    const entry = options.optional
      ? new OptionalKind<T>(this.#client, settings)
      : new KindInformers<T>(this.#client, settings);
    this.#entries.set(key, entry);
    if (this.#started) entry.start();
    return entry;
  }

  get hasSynced(): boolean {
    return [...this.#entries.values()].every((entry) => entry.hasSynced);
  }

  /** Starts every watch and resolves once each has listed (optional kinds: once their CRD has answered). */
  async start(): Promise<void> {
    this.#started = true;
    for (const entry of this.#entries.values()) entry.start();
    await Promise.all([...this.#entries.values()].map((entry) => entry.synced));
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#entries.values()].map((entry) => entry.stop()));
  }
}
