/**
 * Kinds and their REST paths. No discovery: an operator addresses a fixed set of kinds, so it names them
 * once. The runtime knows only Kubernetes' own kinds; an operator registers its own and other projects'
 * (CRD-served) kinds at start-up, so server-side apply can find the path of any object it builds from
 * that object's apiVersion and kind.
 */

export interface Kind {
  apiVersion: string;
  kind: string;
  plural: string;
  /** No namespace in the path; one cluster-wide informer however many namespaces are watched. */
  clusterScoped?: boolean;
}

/** Built-in kinds; every KindRegistry starts with them. */
export const CoreKinds = {
  Deployment: { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  Service: { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  ConfigMap: { apiVersion: 'v1', kind: 'ConfigMap', plural: 'configmaps' },
  Secret: { apiVersion: 'v1', kind: 'Secret', plural: 'secrets' },
  HorizontalPodAutoscaler: {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
  },
  PodDisruptionBudget: {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    plural: 'poddisruptionbudgets',
  },
  NetworkPolicy: { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', plural: 'networkpolicies' },
  CustomResourceDefinition: {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
    clusterScoped: true,
  },
  MutatingWebhookConfiguration: {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    plural: 'mutatingwebhookconfigurations',
    clusterScoped: true,
  },
  Lease: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases' },
  Event: { apiVersion: 'events.k8s.io/v1', kind: 'Event', plural: 'events' },
} as const satisfies Record<string, Kind>;

/** /api/v1/namespaces/ns/services[/name], /apis/apps/v1/deployments (all namespaces), or a cluster-scoped path. */
export function resourcePath(kind: Kind, namespace?: string, name?: string): string {
  const base = kind.apiVersion.includes('/') ? `/apis/${kind.apiVersion}` : `/api/${kind.apiVersion}`;
  const ns = namespace && !kind.clusterScoped ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${kind.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

/** The CRD that serves a kind: <plural>.<group>. */
export function crdNameOf(kind: Kind): string {
  return `${kind.plural}.${kind.apiVersion.split('/')[0]}`;
}

export class KindRegistry {
  readonly #kinds = new Map<string, Kind>();

  constructor() {
    this.register(...Object.values(CoreKinds));
  }

  /** Adds kinds; registering one apiVersion/kind twice with another plural or scope is a programming error. */
  register(...kinds: readonly Kind[]): this {
    for (const kind of kinds) {
      const key = `${kind.apiVersion}|${kind.kind}`;
      const known = this.#kinds.get(key);
      if (
        known &&
        (known.plural !== kind.plural || Boolean(known.clusterScoped) !== Boolean(kind.clusterScoped))
      )
        throw new Error(`kind ${kind.apiVersion}/${kind.kind} is already registered as ${known.plural}`);
      this.#kinds.set(key, kind);
    }
    return this;
  }

  lookup(apiVersion: string, kind: string): Kind | undefined {
    return this.#kinds.get(`${apiVersion}|${kind}`);
  }
}
