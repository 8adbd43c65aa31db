/**
 * An informer: list, then watch from the list's resourceVersion, keeping a cache and calling handlers on
 * every change. It never dies: a watch that ends is resumed from the last resourceVersion seen (bookmarks
 * keep it fresh), a 410 Gone (history compacted) triggers a re-list that reports the differences, and any
 * other error (API server down, network) is retried with exponential backoff (0.5 s → 30 s). Handlers
 * must be cheap and synchronous (compute a key, enqueue); an exception in one is logged, not fatal.
 */
import type { KubeClient, WatchEvent } from './client.ts';
import { isGone, KubeApiError } from './client.ts';
import { type Kind, resourcePath } from './kinds.ts';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
    deletionTimestamp?: string;
    managedFields?: { manager?: string; operation?: string; subresource?: string; fieldsV1?: unknown }[];
  };
}

export type ChangeType = 'added' | 'updated' | 'deleted';
export type Handler<T> = (type: ChangeType, object: T) => void;

export interface InformerOptions {
  kind: Kind;
  /** Undefined: all namespaces. */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  /** e.g. metadata.name=foo: one object by name (a CRD whose presence matters). */
  fieldSelector?: string | undefined;
  log?: (level: 'info' | 'warn' | 'error', message: string) => void;
  /**
   * Trims each object before it is cached (e.g. drop metadata.managedFields, often the largest part of
   * an object): the cache holds every watched object for the operator's lifetime.
   */
  transform?: ((object: KubeObject) => void) | undefined;
  /** Called each time the informer starts over after an error or a 410 (for metrics). */
  onRestart?: (reason: string) => void;
}

export const objectKey = (object: KubeObject): string =>
  object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name}` : object.metadata.name;

interface List<T> {
  metadata: { resourceVersion: string; continue?: string };
  items: T[];
}

export class Informer<T extends KubeObject> {
  readonly #client: KubeClient;
  readonly #options: InformerOptions;
  readonly #cache = new Map<string, T>();
  readonly #handlers: Handler<T>[] = [];
  readonly #abort = new AbortController();
  #resourceVersion = '';
  #synced = false;
  #syncedResolve: () => void = () => {};
  readonly synced: Promise<void>;
  #running: Promise<void> | undefined;

  constructor(client: KubeClient, options: InformerOptions) {
    this.#client = client;
    this.#options = options;
    this.synced = new Promise((resolvePromise) => {
      this.#syncedResolve = resolvePromise;
    });
  }

  get hasSynced(): boolean {
    return this.#synced;
  }

  on(handler: Handler<T>): void {
    this.#handlers.push(handler);
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.#cache.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): T[] {
    return [...this.#cache.values()];
  }

  start(): void {
    this.#running ??= this.#run();
  }

  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#running;
  }

  #emit(type: ChangeType, object: T): void {
    for (const handler of this.#handlers) {
      try {
        handler(type, object);
      } catch (error) {
        this.#options.log?.('error', `${this.#options.kind.kind} handler failed: ${String(error)}`);
      }
    }
  }

  #path(): string {
    return resourcePath(this.#options.kind, this.#options.namespace);
  }

  async #run(): Promise<void> {
    let failures = 0;
    let needList = true;
    const signal = this.#abort.signal;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.#list();
          needList = false;
        }
        await this.#watch();
        failures = 0;
      } catch (error) {
        if (signal.aborted) break;
        if (isGone(error)) {
          this.#options.onRestart?.('gone');
          needList = true;
          continue;
        }
        failures++;
        needList = true;
        const delay = Math.min(500 * 2 ** (failures - 1), 30_000);
        this.#options.log?.(
          'warn',
          `${this.#options.kind.kind} informer: ${String(error)}; retrying in ${delay} ms`,
        );
        this.#options.onRestart?.('error');
        await new Promise<void>((resolvePromise) => {
          const timer = setTimeout(resolvePromise, delay);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolvePromise();
          });
        });
      }
    }
  }

  /** Lists (paginated) and reconciles the cache with what the server has, emitting the differences. */
  async #list(): Promise<void> {
    const items: T[] = [];
    let continueToken: string | undefined;
    let resourceVersion = '';
    do {
      const page = await this.#client.request<List<T>>('GET', this.#path(), {
        query: {
          labelSelector: this.#options.labelSelector,
          fieldSelector: this.#options.fieldSelector,
          limit: 500,
          continue: continueToken,
        },
      });
      items.push(...page.items);
      resourceVersion = page.metadata.resourceVersion;
      continueToken = page.metadata.continue || undefined;
    } while (continueToken);
    const seen = new Set<string>();
    for (const item of items) {
      this.#options.transform?.(item);
      const key = objectKey(item);
      seen.add(key);
      const previous = this.#cache.get(key);
      this.#cache.set(key, item);
      if (!previous) this.#emit('added', item);
      else if (previous.metadata.resourceVersion !== item.metadata.resourceVersion)
        this.#emit('updated', item);
    }
    for (const [key, item] of this.#cache) {
      if (!seen.has(key)) {
        this.#cache.delete(key);
        this.#emit('deleted', item);
      }
    }
    this.#resourceVersion = resourceVersion;
    if (!this.#synced) {
      this.#synced = true;
      this.#syncedResolve();
    }
  }

  async #watch(): Promise<void> {
    await this.#client.watch(
      this.#path(),
      {
        labelSelector: this.#options.labelSelector,
        fieldSelector: this.#options.fieldSelector,
        resourceVersion: this.#resourceVersion,
        allowWatchBookmarks: true,
        // Jittered server-side timeout: the stream ends cleanly and is resumed from the last version.
        timeoutSeconds: 240 + Math.floor(Math.random() * 120),
      },
      (event) => this.#apply(event),
      this.#abort.signal,
    );
  }

  #apply(event: WatchEvent): void {
    if (event.type === 'ERROR') {
      const status = event.object as { code?: number; reason?: string; message?: string };
      throw new KubeApiError('WATCH', this.#path(), status.code ?? 500, status, '');
    }
    const object = event.object as unknown as T;
    if (event.type !== 'BOOKMARK' && object.metadata) this.#options.transform?.(object);
    const rv = object.metadata?.resourceVersion;
    if (rv) this.#resourceVersion = rv;
    if (event.type === 'BOOKMARK') return;
    const key = objectKey(object);
    if (event.type === 'DELETED') {
      this.#cache.delete(key);
      this.#emit('deleted', object);
      return;
    }
    const existed = this.#cache.has(key);
    this.#cache.set(key, object);
    this.#emit(existed ? 'updated' : 'added', object);
  }
}
