import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type ResolvedRocketMQProxy,
  type RocketMQProxySpec,
  resolve,
} from '../../../operator/src/api/types.ts';
import { Kinds } from '../../../operator/src/controllers/kinds.ts';
import { buildCertificate, buildPodMonitor } from '../../../operator/src/resources/integrations.ts';
import { crdServes } from '../../../operator/src/runtime/optional-kind.ts';

function proxy(spec: Partial<RocketMQProxySpec> = {}): ResolvedRocketMQProxy {
  return resolve({
    apiVersion: 'rmqproxy.io/v1alpha1',
    kind: 'RocketMQProxy',
    metadata: { name: 'p1', namespace: 'mq', uid: 'uid-1', generation: 1 },
    spec: { nameServers: { addresses: ['namesrv.mq.svc:9876'] }, ...spec },
  });
}

describe('PodMonitor', () => {
  test('on by default: scrapes /metrics on the admin port of exactly our pods, owned by the proxy', () => {
    const pm = buildPodMonitor(proxy());
    assert.ok(pm);
    assert.deepEqual(pm.spec.selector.matchLabels, {
      'app.kubernetes.io/name': 'rocketmq-proxy',
      'app.kubernetes.io/instance': 'p1',
    });
    assert.deepEqual(pm.spec.podMetricsEndpoints, [
      { port: 'admin', path: '/metrics', interval: '30s', scheme: 'http' },
    ]);
    assert.equal(pm.metadata.ownerReferences[0]?.uid, 'uid-1');
  });

  test('user labels are added but cannot replace the labels that select and own it', () => {
    const pm = buildPodMonitor(
      proxy({
        monitoring: {
          interval: '15s',
          labels: { release: 'prometheus', 'app.kubernetes.io/managed-by': 'someone-else' },
        },
      }),
    );
    assert.equal(pm?.metadata.labels['release'], 'prometheus');
    assert.equal(pm?.metadata.labels['app.kubernetes.io/managed-by'], 'rocketmq-proxy-operator');
    assert.equal(pm?.spec.podMetricsEndpoints[0]?.interval, '15s');
  });

  test('off: nothing to build', () => {
    assert.equal(buildPodMonitor(proxy({ monitoring: { podMonitor: false } })), undefined);
  });
});

describe('cert-manager Certificate', () => {
  test('only for source CertManager with TLS on', () => {
    assert.equal(buildCertificate(proxy()), undefined);
    assert.equal(
      buildCertificate(
        proxy({ tls: { enabled: false, source: 'CertManager', issuerRef: { name: 'ca-issuer' } } }),
      ),
      undefined,
    );
  });

  test('covers the Service names and extra names, labels the Secret it issues, ECDSA P-256', () => {
    const cert = buildCertificate(
      proxy({
        tls: {
          source: 'CertManager',
          issuerRef: { name: 'corp', kind: 'ClusterIssuer' },
          dnsNames: ['mq.example.com'],
          ipAddresses: ['10.0.0.1', 'fd00::1'],
          certificateValidity: '720h',
          renewBefore: '240h',
        },
      }),
    );
    assert.ok(cert);
    assert.equal(cert.spec.secretName, 'p1-tls');
    assert.deepEqual(cert.spec.issuerRef, { name: 'corp', kind: 'ClusterIssuer', group: 'cert-manager.io' });
    for (const name of ['p1', 'p1.mq', 'p1.mq.svc', 'p1-headless.mq.svc', 'mq.example.com'])
      assert.ok(cert.spec.dnsNames.includes(name), name);
    assert.deepEqual(cert.spec.ipAddresses, ['10.0.0.1', 'fd00::1']);
    assert.equal(cert.spec.duration, '720h');
    assert.equal(cert.spec.renewBefore, '240h');
    assert.deepEqual(cert.spec.privateKey, { algorithm: 'ECDSA', size: 256, rotationPolicy: 'Always' });
    assert.equal(cert.spec.secretTemplate.labels['app.kubernetes.io/instance'], 'p1');
    assert.equal(cert.spec.secretTemplate.labels['app.kubernetes.io/managed-by'], 'rocketmq-proxy-operator');
  });
});

describe('optional kinds: is the CRD serving our version?', () => {
  const crd = (version: string, established: string, deleting = false) => ({
    metadata: {
      name: 'podmonitors.monitoring.coreos.com',
      ...(deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}),
    },
    spec: { versions: [{ name: version, served: true }] },
    status: { conditions: [{ type: 'Established', status: established }] },
  });
  test('established and serving v1 → yes; otherwise no', () => {
    assert.equal(crdServes(crd('v1', 'True'), Kinds.PodMonitor), true);
    assert.equal(crdServes(crd('v1', 'False'), Kinds.PodMonitor), false);
    assert.equal(crdServes(crd('v1alpha1', 'True'), Kinds.PodMonitor), false);
    assert.equal(crdServes(crd('v1', 'True', true), Kinds.PodMonitor), false);
    assert.equal(crdServes(undefined, Kinds.PodMonitor), false);
  });
});
