/** REST paths of the kinds the operator reads and writes (no discovery needed for these fixed kinds). */
import { GROUP, PLURAL, VERSION } from '../api/constants.ts';

export interface Kind {
  apiVersion: string;
  kind: string;
  plural: string;
}

export const Kinds = {
  RocketMQProxy: { apiVersion: `${GROUP}/${VERSION}`, kind: 'RocketMQProxy', plural: PLURAL },
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
  /** Optional: served only when the Prometheus Operator CRDs are installed. */
  PodMonitor: { apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor', plural: 'podmonitors' },
  /** Optional: served only when cert-manager's CRDs are installed. */
  Certificate: { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', plural: 'certificates' },
  CustomResourceDefinition: {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    plural: 'customresourcedefinitions',
  },
  Lease: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', plural: 'leases' },
  Event: { apiVersion: 'events.k8s.io/v1', kind: 'Event', plural: 'events' },
} as const satisfies Record<string, Kind>;

/** /api/v1/namespaces/ns/services[/name] or /apis/apps/v1/deployments (all namespaces). */
export function resourcePath(kind: Kind, namespace?: string, name?: string): string {
  const base = kind.apiVersion.includes('/') ? `/apis/${kind.apiVersion}` : `/api/${kind.apiVersion}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${kind.plural}${name ? `/${encodeURIComponent(name)}` : ''}`;
}

/** The CRD that serves an optional kind: <plural>.<group>. */
export function crdNameOf(kind: Kind): string {
  return `${kind.plural}.${kind.apiVersion.split('/')[0]}`;
}

export function kindOf(apiVersion: string, kind: string): Kind | undefined {
  return Object.values(Kinds).find((k) => k.apiVersion === apiVersion && k.kind === kind);
}
