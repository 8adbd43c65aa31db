import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { PodAnnotation } from '../../../operator/src/api/constants.ts';
import {
  type ResolvedRocketMQProxy,
  type RocketMQProxySpec,
  resolve,
} from '../../../operator/src/api/types.ts';
import { parseDuration, planCertificates } from '../../../operator/src/resources/certificates.ts';
import { InvalidConfigError, renderConfig } from '../../../operator/src/resources/config.ts';
import { serviceDnsNames } from '../../../operator/src/resources/meta.ts';
import {
  buildDeployment,
  buildHpa,
  buildNetworkPolicy,
  buildPdb,
  buildService,
  RPC_METRIC,
} from '../../../operator/src/resources/workload.ts';

function proxy(
  spec: Partial<RocketMQProxySpec> = {},
  annotations?: Record<string, string>,
): ResolvedRocketMQProxy {
  return resolve({
    apiVersion: 'rmqproxy.io/v1alpha1',
    kind: 'RocketMQProxy',
    metadata: {
      name: 'p1',
      namespace: 'mq',
      uid: 'uid-1',
      generation: 1,
      ...(annotations ? { annotations } : {}),
    },
    spec: { nameServers: { addresses: ['namesrv.mq.svc:9876'] }, ...spec },
  });
}

const deploy = (p: ResolvedRocketMQProxy) =>
  buildDeployment(p, { configHash: renderConfig(p.spec).hash, certificateHash: 'c1' });

describe('proxy configuration', () => {
  test('managed keys come from the spec and user keys are nested by their dotted path', () => {
    const rendered = renderConfig(
      proxy({ config: { 'limits.maxBodyBytes': 8388608, 'log.level': 'debug' } }).spec,
    );
    const tree = parse(rendered.yaml);
    assert.deepEqual(tree.namesrv, { addresses: ['namesrv.mq.svc:9876'] });
    assert.deepEqual(tree.listen, { host: '0.0.0.0', port: 8081 });
    assert.equal(tree.admin.port, 8082);
    assert.equal(tree.tls.mode, 'permissive');
    assert.equal(tree.tls.certFile, '/etc/rocketmq-proxy/tls/tls.crt');
    assert.equal(tree.limits.maxBodyBytes, 8388608);
    assert.equal(tree.log.level, 'debug');
  });

  test('the hash ignores key order and changes with any value', () => {
    const a = renderConfig(proxy({ config: { 'log.level': 'warn', 'routes.refreshMs': 1000 } }).spec);
    const b = renderConfig(proxy({ config: { 'routes.refreshMs': 1000, 'log.level': 'warn' } }).spec);
    const c = renderConfig(proxy({ config: { 'routes.refreshMs': 1001, 'log.level': 'warn' } }).spec);
    assert.equal(a.hash, b.hash);
    assert.notEqual(a.hash, c.hash);
  });

  test('values the proxy would refuse are refused with the key named (the proxy validator decides)', () => {
    assert.throws(
      () => renderConfig(proxy({ config: { 'limits.maxBodyBytes': 64 * 1024 * 1024 } }).spec),
      (error: unknown) => error instanceof InvalidConfigError && /limits\.maxBodyBytes/.test(error.message),
    );
  });
});

describe('Deployment', () => {
  test('surge-only rolling update, probes on the admin port, preStop sleep, restricted security', () => {
    const d = deploy(proxy());
    assert.equal(d.spec?.replicas, 2);
    assert.deepEqual(d.spec?.strategy?.rollingUpdate, { maxSurge: '25%', maxUnavailable: 0 });
    const pod = d.spec!.template.spec!;
    const c = pod.containers[0]!;
    assert.equal(c.readinessProbe?.httpGet?.path, '/readyz');
    assert.equal(c.livenessProbe?.httpGet?.path, '/livez');
    assert.equal(c.lifecycle?.preStop?.sleep?.seconds, 10);
    assert.equal(pod.terminationGracePeriodSeconds, 60);
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.equal(c.securityContext?.readOnlyRootFilesystem, true);
    assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL']);
    assert.ok(pod.volumes?.some((v) => v.secret?.secretName === 'p1-tls'));
    assert.equal(d.metadata?.ownerReferences?.[0]?.uid, 'uid-1');
    assert.equal(d.metadata?.ownerReferences?.[0]?.controller, true);
  });

  test('replicas are left out while autoscaling is on (the HPA owns them)', () => {
    const d = deploy(proxy({ autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 5 } }));
    assert.equal(d.spec && 'replicas' in d.spec, false);
  });

  test('only image, config, certificate and restart requests change the pod template', () => {
    const base = deploy(proxy()).spec!.template;
    assert.deepEqual(deploy(proxy({ replicas: 7 })).spec!.template, base, 'scaling does not roll');
    assert.deepEqual(
      deploy(proxy({ podDisruptionBudget: { enabled: false } })).spec!.template,
      base,
      'PDB changes do not roll',
    );
    assert.notDeepEqual(deploy(proxy({ image: 'x/proxy:2' })).spec!.template, base);
    const configChanged = deploy(proxy({ config: { 'log.level': 'debug' } })).spec!.template;
    assert.notEqual(
      configChanged.metadata?.annotations?.[PodAnnotation.CONFIG_HASH],
      base.metadata?.annotations?.[PodAnnotation.CONFIG_HASH],
    );
    const restarted = deploy(proxy({}, { 'rmqproxy.io/restart': '2026-01-01T00:00:00Z' })).spec!.template;
    assert.equal(restarted.metadata?.annotations?.[PodAnnotation.RESTART], '2026-01-01T00:00:00Z');
  });
});

describe('Service, HPA, PDB, NetworkPolicy', () => {
  test('Service selects the pods and names the gRPC port', () => {
    const s = buildService(proxy());
    assert.deepEqual(s.spec?.selector, {
      'app.kubernetes.io/name': 'rocketmq-proxy',
      'app.kubernetes.io/instance': 'p1',
    });
    assert.equal(s.spec?.ports?.[0]?.port, 8081);
  });

  test('HPA: CPU by default, the RPC Pods metric when asked, default behavior, none when disabled', () => {
    assert.equal(buildHpa(proxy()), undefined);
    const cpuOnly = buildHpa(proxy({ autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 6 } }))!;
    assert.equal(cpuOnly.spec?.metrics?.[0]?.resource?.target.averageUtilization, 70);
    assert.equal(cpuOnly.spec?.behavior?.scaleDown?.stabilizationWindowSeconds, 300);
    const both = buildHpa(
      proxy({
        autoscaling: {
          enabled: true,
          minReplicas: 2,
          maxReplicas: 6,
          targetCPUUtilizationPercentage: 50,
          targetRPCPerPod: 800,
        },
      }),
    )!;
    assert.equal(both.spec?.metrics?.length, 2);
    assert.equal(both.spec?.metrics?.[1]?.pods?.metric.name, RPC_METRIC);
    assert.equal(both.spec?.scaleTargetRef.kind, 'Deployment');
  });

  test('PDB: maxUnavailable 1 by default, none below two pods, minAvailable when given', () => {
    assert.equal(buildPdb(proxy())?.spec?.maxUnavailable, 1);
    assert.equal(buildPdb(proxy({ replicas: 1 })), undefined);
    assert.equal(
      buildPdb(proxy({ podDisruptionBudget: { enabled: true, minAvailable: '50%' } }))?.spec?.minAvailable,
      '50%',
    );
  });

  test('NetworkPolicy only when enabled; gRPC and admin rules', () => {
    assert.equal(buildNetworkPolicy(proxy()), undefined);
    const np = buildNetworkPolicy(proxy({ networkPolicy: { enabled: true, from: [{ podSelector: {} }] } }))!;
    assert.equal(np.spec?.ingress?.length, 2);
    assert.deepEqual(np.spec.ingress[0]?.from, [{ podSelector: {} }]);
    assert.equal(np.spec.ingress[1]?.from, undefined, 'admin open to all when metricsFrom is empty');
  });
});

describe('certificates', () => {
  const hour = 3_600_000;
  const base = {
    dnsNames: ['p1', 'p1.mq.svc'],
    ipAddresses: ['10.0.0.7'],
    validityMs: 10 * hour,
    renewBeforeMs: 2 * hour,
    caValidityMs: 1000 * hour,
    commonName: 'p1.mq',
  };
  const data = (plan: ReturnType<typeof planCertificates>) => ({
    ca: { 'ca.crt': plan.ca.certPem, 'ca.key': plan.ca.keyPem },
    server: { 'tls.crt': plan.server.certPem, 'tls.key': plan.server.keyPem },
  });

  test('a fresh CA issues an ECDSA P-256 serving certificate with the SANs, verifiable by the CA', () => {
    const plan = planCertificates({ ...base, now: new Date(), ca: undefined, server: undefined });
    const ca = new X509Certificate(plan.ca.certPem);
    const leaf = new X509Certificate(plan.server.certPem);
    assert.ok(ca.ca);
    assert.equal(leaf.ca, false);
    assert.ok(leaf.checkIssued(ca));
    assert.ok(leaf.verify(ca.publicKey));
    assert.equal(leaf.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.match(leaf.subjectAltName ?? '', /DNS:p1\.mq\.svc/);
    assert.match(leaf.subjectAltName ?? '', /IP Address:10\.0\.0\.7/);
    assert.ok(Math.abs(Date.parse(leaf.validTo) - Date.now() - 10 * hour) < 120_000);
    assert.equal(plan.serverIssued, true);
  });

  test('kept while valid; renewed once inside renewBefore; re-issued when names change', () => {
    const t0 = new Date('2030-01-01T00:00:00Z');
    const first = planCertificates({ ...base, now: t0, ca: undefined, server: undefined });
    const later = planCertificates({ ...base, now: new Date(t0.getTime() + 7 * hour), ...data(first) });
    assert.equal(later.serverIssued, false);
    assert.equal(later.hash, first.hash);
    assert.equal(later.renewAt.getTime(), first.notAfter.getTime() - 2 * hour);
    const renewed = planCertificates({ ...base, now: new Date(t0.getTime() + 8.5 * hour), ...data(first) });
    assert.equal(renewed.serverIssued, true);
    assert.equal(renewed.reason, 'expiring');
    assert.equal(renewed.caIssued, false, 'the CA is kept');
    assert.notEqual(renewed.hash, first.hash);
    const renamed = planCertificates({ ...base, dnsNames: ['other'], now: t0, ...data(first) });
    assert.equal(renamed.reason, 'names changed');
  });

  test('a CA in the last third of its life is replaced and the serving certificate re-issued under it', () => {
    const t0 = new Date('2030-01-01T00:00:00Z');
    const first = planCertificates({ ...base, now: t0, ca: undefined, server: undefined });
    const late = planCertificates({ ...base, now: new Date(t0.getTime() + 700 * hour), ...data(first) });
    assert.equal(late.caIssued, true);
    assert.ok(new X509Certificate(late.server.certPem).checkIssued(new X509Certificate(late.ca.certPem)));
  });

  test('garbage in the Secrets is replaced, not trusted', () => {
    const plan = planCertificates({
      ...base,
      now: new Date(),
      ca: { 'ca.crt': 'junk', 'ca.key': 'junk' },
      server: { 'tls.crt': 'x' },
    });
    assert.equal(plan.caIssued, true);
    assert.equal(plan.serverIssued, true);
  });

  test('service DNS names include the headless wildcard and extra names', () => {
    const names = serviceDnsNames(proxy({ tls: { dnsNames: ['mq.example.com'] } }));
    assert.ok(names.includes('p1.mq.svc'));
    assert.ok(names.includes('*.p1-headless.mq.svc'));
    assert.ok(names.includes('mq.example.com'));
  });

  test('Go durations', () => {
    assert.equal(parseDuration('2160h'), 2160 * hour);
    assert.equal(parseDuration('1h30m'), 1.5 * hour);
    assert.equal(parseDuration('500ms'), 500);
    assert.throws(() => parseDuration('10d'), /invalid duration/);
    assert.throws(() => parseDuration(''), /invalid duration/);
  });
});
