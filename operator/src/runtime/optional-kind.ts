/**
 * A kind that exists only when another project's CRD is installed (the Prometheus Operator's PodMonitor,
 * cert-manager's Certificate). Presence is watched, not polled: one informer on that single CRD (field
 * selector metadata.name=<plural>.<group>) says when it is Established and serves our version. While it
 * is, informers follow our objects of that kind; when presence flips, the listeners hear of it (a
 * controller re-reconciles everything then). A forbidden or failing CRD watch counts as "absent" and
 * never blocks the operator's start.
 */
import type { KubeClient } from './client.ts';
import { type Handler, Informer, type KubeObject } from './informer.ts';
import { KindInformers, type KindInformersOptions } from './kind-informers.ts';
import { CoreKinds, crdNameOf, type Kind } from './kinds.ts';
import type { CachedKind, CacheLifecycle } from './source.ts';

interface CrdObject extends KubeObject {
  spec?: { versions?: { name: string; served?: boolean }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

/** Established, not being deleted, and serving the version of `kind`. */
export function crdServes(crd: CrdObject | undefined, kind: Kind): boolean {
  if (!crd || crd.metadata.deletionTimestamp) return false;
  const version = kind.apiVersion.split('/')[1];
  const established = crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  const served = crd.spec?.versions?.some((v) => v.name === version && v.served !== false);
  return Boolean(established && served);
}

export class OptionalKind<T extends KubeObject = KubeObject> implements CachedKind<T>, CacheLifecycle {
  readonly #client: KubeClient;
  readonly #o: KindInformersOptions;
  readonly #crd: Informer<CrdObject>;
  readonly #handlers: Handler<T>[] = [];
  readonly #presenceListeners: ((available: boolean) => void)[] = [];
  #objects: KindInformers<T> | undefined;
  #hasSynced = false;
  #answered: () => void = () => {};
  readonly synced: Promise<void>;

  constructor(client: KubeClient, options: KindInformersOptions) {
    this.#client = client;
    this.#o = options;
    this.synced = new Promise((resolvePromise) => {
      this.#answered = () => {
        this.#hasSynced = true;
        resolvePromise();
      };
    });
    this.#crd = new Informer<CrdObject>(client, {
      kind: CoreKinds.CustomResourceDefinition,
      fieldSelector: `metadata.name=${crdNameOf(options.kind)}`,
      // Only presence and conditions matter: drop the (large) schema and managedFields.
      transform: (object) => {
        delete object.metadata.managedFields;
        const crd = object as CrdObject & { spec?: { versions?: { schema?: unknown }[] } };
        for (const version of crd.spec?.versions ?? []) delete version.schema;
      },
      ...(options.log ? { log: options.log } : {}),
      onRestart: (reason) => {
        this.#answered();
        options.onRestart?.(CoreKinds.CustomResourceDefinition.kind, reason);
      },
    });
    this.#crd.on(() => this.#update());
    void this.#crd.synced.then(() => this.#answered());
  }

  get kind(): Kind {
    return this.#o.kind;
  }

  /** True once the CRD was listed (present or not) or its watch failed once: for readiness. */
  get hasSynced(): boolean {
    return this.#hasSynced;
  }

  get available(): boolean {
    return this.#objects !== undefined;
  }

  start(): void {
    this.#crd.start();
  }

  async stop(): Promise<void> {
    await this.#crd.stop();
    await this.#stopObjects();
  }

  /** Our object of this kind from the cache (undefined while absent or not yet listed). */
  get(namespace: string | undefined, name: string): T | undefined {
    return this.#objects?.get(namespace, name);
  }

  list(): T[] {
    return this.#objects?.list() ?? [];
  }

  on(handler: Handler<T>): void {
    this.#handlers.push(handler);
    this.#objects?.on(handler);
  }

  onPresenceChange(listener: (available: boolean) => void): void {
    this.#presenceListeners.push(listener);
  }

  #update(): void {
    const kind = this.#o.kind;
    const available = crdServes(this.#crd.get(undefined, crdNameOf(kind)), kind);
    if (available === this.available) return;
    this.#o.log?.('info', `${kind.kind} (${kind.apiVersion}) ${available ? 'served' : 'gone'}`);
    if (available) {
      const objects = new KindInformers<T>(this.#client, this.#o);
      for (const handler of this.#handlers) objects.on(handler);
      objects.start();
      this.#objects = objects;
    } else void this.#stopObjects();
    for (const listener of this.#presenceListeners) listener(available);
  }

  async #stopObjects(): Promise<void> {
    const objects = this.#objects;
    this.#objects = undefined;
    await objects?.stop();
  }
}
