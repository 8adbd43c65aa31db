/** Names, labels and owner references shared by every child object of a RocketMQProxy. */
import { API_VERSION, KIND } from '../api/constants.ts';
import type { ResolvedRocketMQProxy } from '../api/types.ts';

export const APP_NAME = 'rocketmq-proxy';
export const MANAGED_BY = 'rocketmq-proxy-operator';
export const LABEL_INSTANCE = 'app.kubernetes.io/instance';
export const LABEL_NAME = 'app.kubernetes.io/name';

export const childNames = (name: string) => ({
  deployment: name,
  service: name,
  headless: `${name}-headless`,
  config: `${name}-config`,
  hpa: name,
  pdb: name,
  networkPolicy: name,
  caSecret: `${name}-ca`,
  tlsSecret: `${name}-tls`,
  podMonitor: name,
  certificate: name,
});

/** Pod selector: stable for the object's life (Deployment selectors are immutable). */
export function selectorLabels(name: string): Record<string, string> {
  return { [LABEL_NAME]: APP_NAME, [LABEL_INSTANCE]: name };
}

export function selectorString(name: string): string {
  return Object.entries(selectorLabels(name))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

export function commonLabels(name: string): Record<string, string> {
  return {
    ...selectorLabels(name),
    'app.kubernetes.io/component': 'proxy',
    'app.kubernetes.io/managed-by': MANAGED_BY,
  };
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

export function ownerReference(proxy: ResolvedRocketMQProxy): OwnerReference {
  if (!proxy.metadata.uid)
    throw new Error(`${proxy.metadata.namespace}/${proxy.metadata.name} has no uid yet`);
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: proxy.metadata.name,
    uid: proxy.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export interface ChildMeta {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences: OwnerReference[];
}

export function childMeta(
  proxy: ResolvedRocketMQProxy,
  name: string,
  annotations?: Record<string, string>,
): ChildMeta {
  return {
    name,
    namespace: proxy.metadata.namespace,
    labels: commonLabels(proxy.metadata.name),
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
    ownerReferences: [ownerReference(proxy)],
  };
}

/** The in-cluster DNS names the serving certificate must cover. */
export function serviceDnsNames(proxy: ResolvedRocketMQProxy): string[] {
  const { name, namespace } = proxy.metadata;
  const names = childNames(name);
  const out = [names.service, `${names.service}.${namespace}`, `${names.service}.${namespace}.svc`];
  if (proxy.spec.service.headless) {
    out.push(`${names.headless}.${namespace}.svc`, `*.${names.headless}.${namespace}.svc`);
  }
  return [...new Set([...out, ...(proxy.spec.tls.dnsNames ?? [])])];
}
