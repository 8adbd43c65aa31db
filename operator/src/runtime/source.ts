/**
 * What a controller watches and a reconciler reads: the cached objects of one kind, across the watched
 * namespaces. An optional kind (served by another project's CRD) can come and go; the others are always
 * available.
 */
import type { Handler, KubeObject } from './informer.ts';
import type { Kind } from './kinds.ts';

export interface CachedKind<T extends KubeObject = KubeObject> {
  readonly kind: Kind;
  /** False while an optional kind's CRD is not installed (nothing is cached then). */
  readonly available: boolean;
  get(namespace: string | undefined, name: string): T | undefined;
  list(): T[];
  /** Handlers must be cheap and synchronous: map to a key and enqueue. */
  on(handler: Handler<T>): void;
  onPresenceChange(listener: (available: boolean) => void): void;
}

/** How the cache starts, stops and knows a kind is listed. */
export interface CacheLifecycle {
  start(): void;
  stop(): Promise<void>;
  readonly hasSynced: boolean;
  /** Resolves after the first list (for an optional kind: the first answer about its CRD). */
  readonly synced: Promise<void>;
}
