/**
 * The informers of one kind: one per watched namespace (a namespaced operator may not list cluster-wide),
 * or a single one for all namespaces and for cluster-scoped kinds, read as one cache.
 */
import type { KubeClient } from './client.ts';
import { type Handler, Informer, type KubeObject } from './informer.ts';
import type { Kind } from './kinds.ts';
import type { LogLevel } from './log.ts';
import type { CachedKind, CacheLifecycle } from './source.ts';

export interface KindInformersOptions {
  kind: Kind;
  /** Namespaces to follow objects in; [undefined] = all. */
  namespaces: readonly (string | undefined)[];
  labelSelector?: string | undefined;
  /** Trims each object before it is cached (see InformerOptions.transform). */
  transform?: ((object: KubeObject) => void) | undefined;
  log?: (level: LogLevel, message: string) => void;
  /** Informer restarts (errors, 410s), for metrics. */
  onRestart?: (kind: string, reason: string) => void;
}

export class KindInformers<T extends KubeObject> implements CachedKind<T>, CacheLifecycle {
  readonly kind: Kind;
  readonly available = true;
  readonly #informers: Informer<T>[];
  readonly synced: Promise<void>;

  constructor(client: KubeClient, options: KindInformersOptions) {
    this.kind = options.kind;
    const namespaces = options.kind.clusterScoped ? [undefined] : options.namespaces;
    this.#informers = namespaces.map(
      (namespace) =>
        new Informer<T>(client, {
          kind: options.kind,
          namespace,
          labelSelector: options.labelSelector,
          transform: options.transform,
          ...(options.log ? { log: options.log } : {}),
          onRestart: (reason) => options.onRestart?.(options.kind.kind, reason),
        }),
    );
    this.synced = Promise.all(this.#informers.map((informer) => informer.synced)).then(() => {});
  }

  get hasSynced(): boolean {
    return this.#informers.every((informer) => informer.hasSynced);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    for (const informer of this.#informers) {
      const found = informer.get(this.kind.clusterScoped ? undefined : namespace, name);
      if (found) return found;
    }
    return undefined;
  }

  list(): T[] {
    return this.#informers.flatMap((informer) => informer.list());
  }

  on(handler: Handler<T>): void {
    for (const informer of this.#informers) informer.on(handler);
  }

  onPresenceChange(): void {
    // Always served: presence never changes.
  }

  start(): void {
    for (const informer of this.#informers) informer.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.#informers.map((informer) => informer.stop()));
  }
}
