/**
 * Children of other projects' kinds, created only when their CRDs are installed: a Prometheus Operator
 * PodMonitor scraping the admin port, and a cert-manager Certificate for the proxy's names. Raw JSON
 * shapes (no client-node models exist for them); pure functions of the defaulted RocketMQProxy.
 */
import type { ResolvedRocketMQProxy } from '../api/types.ts';
import {
  type ChildMeta,
  childMeta,
  childNames,
  commonLabels,
  selectorLabels,
  serviceDnsNames,
} from './meta.ts';

export interface PodMonitorObject {
  apiVersion: 'monitoring.coreos.com/v1';
  kind: 'PodMonitor';
  metadata: ChildMeta;
  spec: {
    selector: { matchLabels: Record<string, string> };
    podMetricsEndpoints: { port: string; path: string; interval: string; scheme: 'http' }[];
  };
}

/** Undefined when spec.monitoring.podMonitor is off (the reconciler also skips it while the CRD is absent). */
export function buildPodMonitor(proxy: ResolvedRocketMQProxy): PodMonitorObject | undefined {
  const monitoring = proxy.spec.monitoring;
  if (!monitoring.podMonitor) return undefined;
  const meta = childMeta(proxy, childNames(proxy.metadata.name).podMonitor);
  // User labels first: they must not replace the labels that select and own the object.
  meta.labels = { ...(monitoring.labels ?? {}), ...meta.labels };
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PodMonitor',
    metadata: meta,
    spec: {
      selector: { matchLabels: selectorLabels(proxy.metadata.name) },
      podMetricsEndpoints: [
        { port: 'admin', path: '/metrics', interval: monitoring.interval, scheme: 'http' },
      ],
    },
  };
}

export interface CertificateObject {
  apiVersion: 'cert-manager.io/v1';
  kind: 'Certificate';
  metadata: ChildMeta;
  spec: {
    secretName: string;
    secretTemplate: { labels: Record<string, string> };
    dnsNames: string[];
    ipAddresses?: string[];
    duration: string;
    renewBefore: string;
    privateKey: { algorithm: 'ECDSA'; size: 256; rotationPolicy: 'Always' };
    usages: string[];
    issuerRef: { name: string; kind: string; group: string };
  };
}

/**
 * The cert-manager Certificate for source CertManager. secretTemplate labels the issued Secret like our
 * own children, so the operator's Secret informer sees issuance and renewals (and maps them back to the
 * RocketMQProxy by its instance label) without polling.
 */
export function buildCertificate(proxy: ResolvedRocketMQProxy): CertificateObject | undefined {
  const { tls } = proxy.spec;
  if (!tls.enabled || tls.source !== 'CertManager' || !tls.issuerRef) return undefined;
  const names = childNames(proxy.metadata.name);
  const ipAddresses = tls.ipAddresses ?? [];
  return {
    apiVersion: 'cert-manager.io/v1',
    kind: 'Certificate',
    metadata: childMeta(proxy, names.certificate),
    spec: {
      secretName: names.tlsSecret,
      secretTemplate: { labels: commonLabels(proxy.metadata.name) },
      dnsNames: serviceDnsNames(proxy),
      ...(ipAddresses.length > 0 ? { ipAddresses: [...ipAddresses] } : {}),
      duration: tls.certificateValidity,
      renewBefore: tls.renewBefore,
      privateKey: { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' },
      usages: ['server auth', 'digital signature'],
      issuerRef: { name: tls.issuerRef.name, kind: tls.issuerRef.kind, group: tls.issuerRef.group },
    },
  };
}
