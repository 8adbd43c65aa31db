/**
 * Optional integrations on a REAL control plane: the Prometheus Operator's PodMonitor and cert-manager's
 * Certificate exist only when their CRDs are installed. Neither project runs here: the test installs
 * minimal CRDs (group, version, kind as upstream; permissive schema) and, for cert-manager, plays the
 * issuer itself by writing the Secret a real cert-manager would write (labels from the Certificate's
 * secretTemplate, the cert-manager.io/certificate-name annotation, a certificate for its dnsNames).
 *
 * Own control plane (not operator.test.ts's): installing these CRDs changes what every proxy gets.
 */
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { PodAnnotation } from '../../operator/src/api/constants.ts';
import type { RocketMQProxy, RocketMQProxySpec } from '../../operator/src/api/types.ts';
import { Kinds } from '../../operator/src/controllers/kinds.ts';
import type { RunningOperator } from '../../operator/src/operator.ts';
import { issueCertificate } from '../../operator/src/resources/x509.ts';
import { ContentType, isNotFound, type KubeClient } from '../../operator/src/runtime/client.ts';
import { crdNameOf, type Kind, resourcePath } from '../../operator/src/runtime/kinds.ts';
import { type ControlPlane, startControlPlane } from '../harness/kube/controlplane.ts';
import { eventually, sleep } from '../support/wait.ts';
import {
  clientFor,
  createNamespace,
  installCrd,
  proxyObject,
  runOperator,
  SETUP_TIMEOUT_MS,
  WAIT_MS,
} from './support.ts';

interface Obj {
  metadata: {
    name: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { uid: string; controller?: boolean; kind: string }[];
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  data?: Record<string, string>;
}

interface CertificateSpec {
  secretName: string;
  secretTemplate?: { labels?: Record<string, string> };
  dnsNames: string[];
  issuerRef: { name: string; kind: string; group: string };
  duration: string;
  privateKey: { algorithm: string; size: number };
}

/** A minimal CRD as the upstream project names it: enough for the API server to serve the kind. */
function minimalCrd(kind: Kind, statusSubresource: boolean) {
  const [group, version] = kind.apiVersion.split('/') as [string, string];
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: crdNameOf(kind) },
    spec: {
      group,
      scope: 'Namespaced',
      names: {
        kind: kind.kind,
        plural: kind.plural,
        singular: kind.kind.toLowerCase(),
        listKind: `${kind.kind}List`,
      },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } },
          ...(statusSubresource ? { subresources: { status: {} } } : {}),
        },
      ],
    },
  };
}

const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

describe('optional integrations on a real API server', { timeout: SETUP_TIMEOUT_MS + 10 * 60_000 }, () => {
  let kube: ControlPlane;
  let client: KubeClient;
  let operator: RunningOperator;

  const tryGet = async <T = Obj>(kind: Kind, ns: string, name: string): Promise<T | undefined> => {
    try {
      return await client.request<T>('GET', resourcePath(kind, ns, name));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };
  const create = (ns: string, name: string, spec: RocketMQProxySpec) =>
    client.request<RocketMQProxy & Obj>('POST', resourcePath(Kinds.RocketMQProxy, ns), {
      body: proxyObject(ns, name, spec),
    });
  const getProxy = (ns: string, name: string) =>
    client.request<RocketMQProxy>('GET', resourcePath(Kinds.RocketMQProxy, ns, name));
  const condition = (proxy: RocketMQProxy, type: string) =>
    proxy.status?.conditions?.find((c) => c.type === type);
  const proxyWhere = (ns: string, name: string, what: string, ok: (p: RocketMQProxy) => boolean) =>
    eventually(`${ns}/${name}: ${what}`, { timeoutMs: WAIT_MS }, async () => {
      const p = await getProxy(ns, name);
      return ok(p) ? p : undefined;
    });
  const installOptionalCrd = async (kind: Kind, statusSubresource: boolean) => {
    await client.request('POST', resourcePath(Kinds.CustomResourceDefinition), {
      body: minimalCrd(kind, statusSubresource),
    });
    await eventually(`${kind.kind} served`, { timeoutMs: WAIT_MS }, async () =>
      (await client.request('GET', resourcePath(kind, 'default'))) ? true : undefined,
    );
  };
  const spec = (extra: Partial<RocketMQProxySpec> = {}): RocketMQProxySpec => ({
    nameServers: { addresses: ['rocketmq-namesrv.mq.svc:9876'] },
    image: 'example.invalid/rocketmq-proxy:1',
    replicas: 1,
    ...extra,
  });

  before(
    async () => {
      kube = await startControlPlane({ log: (line) => process.stderr.write(`[kube] ${line}\n`) });
      client = clientFor(kube.kubeconfigPath);
      await installCrd(client);
      await createNamespace(client, 'mon');
      await createNamespace(client, 'cm');
      operator = await runOperator(kube.kubeconfigPath);
    },
    { timeout: SETUP_TIMEOUT_MS },
  );

  after(async () => {
    await operator?.stop();
    await kube?.stop();
  });

  test('PodMonitor: none without the CRD (and no failure); appears with an owner reference once the CRD is installed; removed when turned off', async () => {
    const created = await create('mon', 'a', spec());
    await create('mon', 'off', spec({ monitoring: { podMonitor: false } }));
    const ready = await proxyWhere('mon', 'a', 'Ready', (p) => condition(p, 'Ready')?.status === 'True');
    assert.equal(condition(ready, 'Degraded')?.status, 'False', 'a missing monitoring CRD is not a problem');
    await assert.rejects(
      client.request('GET', resourcePath(Kinds.PodMonitor, 'mon')),
      (error: unknown) => isNotFound(error),
      'PodMonitor is not served yet',
    );
    const reconcilesBefore = (await operator.metrics.registry.getSingleMetricAsString(
      'rocketmq_proxy_operator_reconcile_total',
    )) as string;
    assert.doesNotMatch(reconcilesBefore, /result="error"/, 'no reconcile failed for lack of the CRD');

    // Installing the CRD alone (no change to any RocketMQProxy) must bring the PodMonitor: the CRD is watched.
    await installOptionalCrd(Kinds.PodMonitor, false);
    type PodMonitor = Obj & {
      spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: unknown[] };
    };
    const podMonitor = await eventually<PodMonitor>('PodMonitor mon/a', { timeoutMs: WAIT_MS }, () =>
      tryGet<PodMonitor>(Kinds.PodMonitor, 'mon', 'a'),
    );
    const owner = podMonitor.metadata.ownerReferences?.find((ref) => ref.controller);
    assert.equal(
      owner?.uid,
      created.metadata.uid,
      'controlled by the RocketMQProxy (garbage-collected with it)',
    );
    assert.deepEqual(podMonitor.spec.selector.matchLabels, {
      'app.kubernetes.io/name': 'rocketmq-proxy',
      'app.kubernetes.io/instance': 'a',
    });
    assert.deepEqual(podMonitor.spec.podMetricsEndpoints, [
      { port: 'admin', path: '/metrics', interval: '30s', scheme: 'http' },
    ]);
    await sleep(1000);
    assert.equal(
      await tryGet(Kinds.PodMonitor, 'mon', 'off'),
      undefined,
      'monitoring.podMonitor false: none',
    );

    // A user deleting it gets it back (our labelled PodMonitors are watched).
    await client.request('DELETE', resourcePath(Kinds.PodMonitor, 'mon', 'a'));
    await eventually('PodMonitor mon/a re-created', { timeoutMs: WAIT_MS }, async () => {
      const again = await tryGet(Kinds.PodMonitor, 'mon', 'a');
      return again && again.metadata.uid !== podMonitor.metadata.uid ? again : undefined;
    });

    await client.request('PATCH', resourcePath(Kinds.RocketMQProxy, 'mon', 'a'), {
      body: { spec: { monitoring: { podMonitor: false } } },
      contentType: ContentType.MERGE_PATCH,
    });
    await eventually('PodMonitor mon/a deleted', { timeoutMs: WAIT_MS }, async () =>
      (await tryGet(Kinds.PodMonitor, 'mon', 'a')) === undefined ? true : undefined,
    );
  });

  test('cert-manager issuerRef: Degraded without cert-manager; a Certificate for the proxy names; the issued Secret is mounted and its expiry reported; a renewal rolls the pods', async () => {
    const tls = { source: 'CertManager' as const, issuerRef: { name: 'corp-ca', kind: 'ClusterIssuer' } };
    await create('cm', 'c', spec({ tls, monitoring: { podMonitor: false } }));
    const missing = await proxyWhere(
      'cm',
      'c',
      'Degraded (CertManagerMissing)',
      (p) => condition(p, 'Degraded')?.reason === 'CertManagerMissing',
    );
    assert.equal(condition(missing, 'Ready')?.status, 'False');
    assert.equal(await tryGet(Kinds.Deployment, 'cm', 'c'), undefined, 'no pods that could not start');

    await installOptionalCrd(Kinds.Certificate, true);
    const certificate = await eventually('Certificate cm/c', { timeoutMs: WAIT_MS }, () =>
      tryGet<Obj & { spec: CertificateSpec }>(Kinds.Certificate, 'cm', 'c'),
    );
    const proxy = await getProxy('cm', 'c');
    assert.equal(
      certificate.metadata.ownerReferences?.find((ref) => ref.controller)?.uid,
      proxy.metadata.uid,
    );
    assert.deepEqual(certificate.spec.issuerRef, {
      name: 'corp-ca',
      kind: 'ClusterIssuer',
      group: 'cert-manager.io',
    });
    assert.equal(certificate.spec.secretName, 'c-tls');
    assert.deepEqual(certificate.spec.privateKey, {
      algorithm: 'ECDSA',
      size: 256,
      rotationPolicy: 'Always',
    });
    for (const name of ['c', 'c.cm', 'c.cm.svc', 'c-headless.cm.svc'])
      assert.ok(certificate.spec.dnsNames.includes(name), `SAN ${name}`);
    const waiting = await proxyWhere(
      'cm',
      'c',
      'WaitingForCertificate',
      (p) => condition(p, 'Ready')?.reason === 'WaitingForCertificate',
    );
    assert.equal(condition(waiting, 'Degraded')?.status, 'False', 'waiting for the issuer is not Degraded');
    assert.equal(await tryGet(Kinds.Deployment, 'cm', 'c'), undefined);

    // Play cert-manager: issue for the Certificate's names into its secretName with its secretTemplate.
    const ca = issueCertificate({
      commonName: 'corp CA',
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      isCa: true,
    });
    const issue = async (validMs: number, renewalTime: string) => {
      const server = issueCertificate({
        commonName: 'c.cm.svc',
        notBefore: new Date(Date.now() - 60_000),
        notAfter: new Date(Date.now() + validMs),
        isCa: false,
        dnsNames: certificate.spec.dnsNames,
        issuer: ca,
      });
      await client.request('PATCH', resourcePath(Kinds.Secret, 'cm', certificate.spec.secretName), {
        body: {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: {
            name: certificate.spec.secretName,
            namespace: 'cm',
            labels: certificate.spec.secretTemplate?.labels ?? {},
            annotations: {
              'cert-manager.io/certificate-name': 'c',
              'cert-manager.io/issuer-name': 'corp-ca',
              'cert-manager.io/issuer-kind': 'ClusterIssuer',
            },
          },
          type: 'kubernetes.io/tls',
          data: { 'tls.crt': b64(server.certPem), 'tls.key': b64(server.keyPem), 'ca.crt': b64(ca.certPem) },
        },
        contentType: ContentType.APPLY_PATCH,
        query: { fieldManager: 'cert-manager-certificates-issuing', force: true },
      });
      await client.request('PATCH', `${resourcePath(Kinds.Certificate, 'cm', 'c')}/status`, {
        body: { status: { renewalTime, notAfter: new X509Certificate(server.certPem).validTo } },
        contentType: ContentType.MERGE_PATCH,
      });
      return {
        notAfter: new Date(new X509Certificate(server.certPem).validTo).toISOString(),
        hash: createHash('sha256').update(b64(server.certPem)).digest('hex').slice(0, 16),
      };
    };

    const first = await issue(40 * 86_400_000, '2099-01-01T00:00:00Z');
    // The Secret and the Certificate status change separately; each change enqueues the RocketMQProxy.
    const ready = await proxyWhere(
      'cm',
      'c',
      'Ready with the issued certificate and its renewal time',
      (p) =>
        condition(p, 'Ready')?.status === 'True' &&
        p.status?.tls?.notAfter === first.notAfter &&
        p.status.tls.renewAt === '2099-01-01T00:00:00Z',
    );
    assert.deepEqual(ready.status?.tls, {
      secretName: 'c-tls',
      certificateName: 'c',
      notAfter: first.notAfter,
      renewAt: '2099-01-01T00:00:00Z',
    });
    type Deploy = {
      spec: {
        template: {
          metadata: { annotations: Record<string, string> };
          spec: { volumes: { name: string; secret?: { secretName: string } }[] };
        };
      };
    };
    const deployment = await tryGet<Deploy>(Kinds.Deployment, 'cm', 'c');
    assert.ok(deployment);
    const volume = deployment.spec.template.spec.volumes.find((v) => v.name === 'tls');
    assert.equal(volume?.secret?.secretName, 'c-tls', 'the issued Secret is mounted');
    assert.equal(deployment.spec.template.metadata.annotations[PodAnnotation.CERT_HASH], first.hash);
    assert.equal(await tryGet(Kinds.Secret, 'cm', 'c-ca'), undefined, 'no operator CA with cert-manager');

    // cert-manager renews: the new Secret content rolls the pods and the status follows.
    const second = await issue(80 * 86_400_000, '2099-02-01T00:00:00Z');
    await eventually(
      'pod template carries the renewed certificate hash',
      { timeoutMs: WAIT_MS },
      async () => {
        const d = await tryGet<Deploy>(Kinds.Deployment, 'cm', 'c');
        return d?.spec.template.metadata.annotations[PodAnnotation.CERT_HASH] === second.hash ? d : undefined;
      },
    );
    await proxyWhere(
      'cm',
      'c',
      'status shows the renewed expiry',
      (p) => p.status?.tls?.notAfter === second.notAfter,
    );

    // Back to the operator CA: our Certificate goes away (it is ours), the operator issues its own.
    await client.request('PATCH', resourcePath(Kinds.RocketMQProxy, 'cm', 'c'), {
      body: { spec: { tls: { source: 'Operator', issuerRef: null } } },
      contentType: ContentType.MERGE_PATCH,
    });
    await eventually('Certificate cm/c deleted', { timeoutMs: WAIT_MS }, async () =>
      (await tryGet(Kinds.Certificate, 'cm', 'c')) === undefined ? true : undefined,
    );
    await proxyWhere('cm', 'c', 'operator CA in use', (p) => p.status?.tls?.caSecretName === 'c-ca');
  });

  test('TLS ipAddresses: an IPv6 SAN does not re-issue (or roll) on every pass; a malformed address is Degraded, nothing applied', async () => {
    await createNamespace(client, 'v6');
    await create('v6', 'six', spec({ tls: { ipAddresses: ['fd00::1', '10.0.0.1'] } }));
    await proxyWhere('v6', 'six', 'Ready', (p) => condition(p, 'Ready')?.status === 'True');
    const secret = await tryGet(Kinds.Secret, 'v6', 'six-tls');
    const rv = (secret?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
    assert.ok(rv);
    // Two more passes (annotation changes enqueue without a new generation).
    for (const value of ['1', '2']) {
      await client.request('PATCH', resourcePath(Kinds.RocketMQProxy, 'v6', 'six'), {
        body: { metadata: { annotations: { poke: value } } },
        contentType: ContentType.MERGE_PATCH,
      });
      await sleep(1000);
    }
    const after = await tryGet(Kinds.Secret, 'v6', 'six-tls');
    assert.equal(
      (after?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion,
      rv,
      'the serving certificate with fd00::1 was kept',
    );

    await create('v6', 'bad', spec({ tls: { ipAddresses: ['10.0.0.300'] } }));
    const bad = await proxyWhere('v6', 'bad', 'Degraded', (p) => condition(p, 'Degraded')?.status === 'True');
    assert.equal(condition(bad, 'Degraded')?.reason, 'InvalidConfig');
    assert.match(condition(bad, 'Degraded')?.message ?? '', /10\.0\.0\.300/);
    assert.equal(await tryGet(Kinds.Deployment, 'v6', 'bad'), undefined, 'nothing half-applied');
    assert.equal(await tryGet(Kinds.Secret, 'v6', 'bad-tls'), undefined);
  });
});
