/**
 * A controller in the controller-runtime sense: changes of the watched kinds become keys in a work queue,
 * and workers hand each key to a Reconciler — never one key to two workers at once. Level-based: the key
 * says which object to look at, not what happened, so a burst of events is one pass. A reconcile that
 * throws is retried with per-key exponential backoff; one that asks for it is looked at again later.
 * The controller knows nothing of what it reconciles.
 */
import type { KubeObject } from './informer.ts';
import { objectKey } from './informer.ts';
import type { Kind } from './kinds.ts';
import type { Logger } from './log.ts';
import type { ControllerMetrics } from './metrics.ts';
import { WorkQueue } from './queue.ts';
import type { CachedKind } from './source.ts';

export interface ReconcileResult {
  /** Look at the key again after this long even without an event (e.g. at a certificate's renewal time). */
  requeueAfterMs?: number;
  /** The `result` label counted for this pass; default success. */
  outcome?: string;
}

/** Brings the world in line with the object named by `key` (namespace/name); throws to be retried. */
export interface Reconciler {
  reconcile(key: string): Promise<ReconcileResult>;
}

/** Maps a changed object to the key of the object to reconcile, or none. */
export type KeyOf<T> = (object: T) => string | undefined;

export interface ControllerOptions {
  name: string;
  reconciler: Reconciler;
  metrics: ControllerMetrics;
  log: Logger;
  /** Concurrent reconciles (of different keys); default 4. */
  workers?: number;
  queue?: WorkQueue;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return slash < 0
    ? { namespace: '', name: key }
    : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The key of the object of `owner`'s kind that controls the changed one (its controller owner reference). */
export function keyOfControllerOwner(owner: Kind): KeyOf<KubeObject> {
  const group = owner.apiVersion.includes('/') ? owner.apiVersion.split('/')[0] : '';
  return (object) => {
    const ref = object.metadata.ownerReferences?.find(
      (r) =>
        r.controller &&
        r.kind === owner.kind &&
        (r.apiVersion.includes('/') ? r.apiVersion.split('/')[0] : '') === group,
    );
    if (!ref) return undefined;
    return object.metadata.namespace ? `${object.metadata.namespace}/${ref.name}` : ref.name;
  };
}

export class Controller {
  readonly name: string;
  readonly queue: WorkQueue;
  readonly #o: ControllerOptions;
  #workers: Promise<void>[] = [];
  #stopping = false;

  constructor(options: ControllerOptions) {
    this.name = options.name;
    this.#o = options;
    this.queue = options.queue ?? new WorkQueue();
  }

  /** Each change of `source` enqueues the key `keyOf` maps it to (by default the object's own). */
  watch<T extends KubeObject>(source: CachedKind<T>, keyOf: KeyOf<T> = objectKey): this {
    source.on((_type, object) => {
      const key = keyOf(object);
      if (key !== undefined) this.queue.add(key);
    });
    return this;
  }

  /**
   * When an optional kind comes or goes (its CRD installed or removed), every object of `primary` is
   * looked at again: what each needs of that kind has changed, yet none of them changed.
   */
  watchPresence(source: CachedKind, primary: CachedKind): this {
    source.onPresenceChange(() => {
      for (const object of primary.list()) this.queue.add(objectKey(object));
    });
    return this;
  }

  /** Starts the workers; the manager calls this once the cache has synced. */
  start(): void {
    const workers = this.#o.workers ?? 4;
    this.#workers = Array.from({ length: workers }, () => this.#work());
  }

  /** Stops taking work and lets running reconciles finish. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.queue.shutDown();
    await Promise.all(this.#workers);
  }

  async #work(): Promise<void> {
    const { metrics, log, reconciler } = this.#o;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      metrics.queueDepth.set(this.queue.length);
      const end = metrics.reconcileSeconds.startTimer();
      try {
        const result = await reconciler.reconcile(key);
        metrics.reconciles.inc({ result: result.outcome ?? 'success' });
        this.queue.forget(key);
        if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
      } catch (error) {
        metrics.reconciles.inc({ result: 'error' });
        if (!this.#stopping) {
          const delay = this.queue.addRateLimited(key);
          log.warn(`${this.name}: reconcile ${key} failed (retry in ${delay} ms): ${String(error)}`);
        }
      } finally {
        end();
        this.queue.done(key);
      }
    }
  }
}
