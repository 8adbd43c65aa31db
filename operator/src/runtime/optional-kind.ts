/**
 * A kind that exists only when another project's CRD is installed (the Prometheus Operator's PodMonitor,
 * cert-manager's Certificate). Presence is watched, not polled: one informer on that single CRD (field
 * selector metadata.name=<plural>.<group>) says when it is Established and serves our version. While it
 * is, one informer per watched namespace follows our labelled objects of that kind (their changes
 * re-enqueue the owner); when presence flips, onPresenceChange lets the controller re-reconcile all.
 * A forbidden or failing CRD watch counts as "absent" and never blocks the operator's start.
 */
import type { KubeClient } from './client.ts';
import { type Handler, Informer, type KubeObject } from './informer.ts';
import { crdNameOf, type Kind, Kinds } from './kinds.ts';

interface CrdObject extends KubeObject {
  spec?: { versions?: { name: string; served?: boolean }[] };
  status?: { conditions?: { type: string; status: string }[] };
}

export interface OptionalKindOptions {
  kind: Kind;
  /** Namespaces to follow objects in; [undefined] = all. */
  namespaces: readonly (string | undefined)[];
  labelSelector: string;
  log: (level: 'info' | 'warn' | 'error', message: string) => void;
  onPresenceChange: (available: boolean) => void;
  onObject: Handler<KubeObject>;
  /** Informer restarts (errors, 410s) of the CRD watch and of the object watches, for metrics. */
  onRestart?: (kind: string, reason: string) => void;
}

/** Established, not being deleted, and serving the version of `kind`. */
export function crdServes(crd: CrdObject | undefined, kind: Kind): boolean {
  if (!crd || crd.metadata.deletionTimestamp) return false;
  const version = kind.apiVersion.split('/')[1];
  const established = crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
  const served = crd.spec?.versions?.some((v) => v.name === version && v.served !== false);
  return Boolean(established && served);
}

export class OptionalKind {
  readonly #client: KubeClient;
  readonly #o: OptionalKindOptions;
  readonly #crd: Informer<CrdObject>;
  #objects: Informer<KubeObject>[] = [];
  #available = false;
  #hasAnswered = false;
  #answered: () => void = () => {};
  /** Resolves on the first answer about the CRD: listed (present or not) or the first error. */
  readonly answered: Promise<void>;

  constructor(client: KubeClient, options: OptionalKindOptions) {
    this.#client = client;
    this.#o = options;
    this.answered = new Promise((resolvePromise) => {
      this.#answered = () => {
        this.#hasAnswered = true;
        resolvePromise();
      };
    });
    this.#crd = new Informer<CrdObject>(client, {
      kind: Kinds.CustomResourceDefinition,
      fieldSelector: `metadata.name=${crdNameOf(options.kind)}`,
      // Only presence and conditions matter: drop the (large) schema and managedFields.
      transform: (object) => {
        delete object.metadata.managedFields;
        const crd = object as CrdObject & { spec?: { versions?: { schema?: unknown }[] } };
        for (const version of crd.spec?.versions ?? []) delete version.schema;
      },
      log: options.log,
      onRestart: (reason) => {
        this.#answered();
        options.onRestart?.(Kinds.CustomResourceDefinition.kind, reason);
      },
    });
    this.#crd.on(() => this.#update());
    void this.#crd.synced.then(() => this.#answered());
  }

  get kind(): Kind {
    return this.#o.kind;
  }

  /** True once `answered` has resolved (for readiness). */
  get hasAnswered(): boolean {
    return this.#hasAnswered;
  }

  get available(): boolean {
    return this.#available;
  }

  start(): void {
    this.#crd.start();
  }

  async stop(): Promise<void> {
    await this.#crd.stop();
    await this.#stopObjects();
  }

  /** Our object of this kind from the cache (undefined while absent or not yet listed). */
  get(namespace: string, name: string): KubeObject | undefined {
    for (const informer of this.#objects) {
      const found = informer.get(namespace, name);
      if (found) return found;
    }
    return undefined;
  }

  #update(): void {
    const available = crdServes(this.#crd.get(undefined, crdNameOf(this.#o.kind)), this.#o.kind);
    if (available === this.#available) return;
    this.#available = available;
    this.#o.log('info', `${this.#o.kind.kind} (${this.#o.kind.apiVersion}) ${available ? 'served' : 'gone'}`);
    if (available) {
      this.#objects = this.#o.namespaces.map((namespace) => {
        const informer = new Informer<KubeObject>(this.#client, {
          kind: this.#o.kind,
          namespace,
          labelSelector: this.#o.labelSelector,
          log: this.#o.log,
          onRestart: (reason) => this.#o.onRestart?.(this.#o.kind.kind, reason),
          transform: (object) => {
            delete object.metadata.managedFields;
          },
        });
        informer.on(this.#o.onObject);
        informer.start();
        return informer;
      });
    } else void this.#stopObjects();
    this.#o.onPresenceChange(available);
  }

  async #stopObjects(): Promise<void> {
    const objects = this.#objects;
    this.#objects = [];
    await Promise.all(objects.map((informer) => informer.stop()));
  }
}
