/**
 * The manager's webhook server called by a REAL kube-apiserver: a MutatingWebhookConfiguration applied
 * through the manager's writer (the kind is addressable) and seen by its cache (a cluster-scoped watch)
 * sends every ConfigMap created in one namespace to our handler, whose JSON patch the API server applies.
 * Then the serving certificate is rotated while the server runs: a new CA in the caBundle, no restart.
 *
 * Run: node --test --test-concurrency=1 test/operator/ (make test-operator).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AdmissionRequest } from '../../operator/src/runtime/admission.ts';
import type { KubeClient } from '../../operator/src/runtime/client.ts';
import type { KubeObject } from '../../operator/src/runtime/informer.ts';
import { CoreKinds, resourcePath } from '../../operator/src/runtime/kinds.ts';
import { Manager } from '../../operator/src/runtime/manager.ts';
import type { CachedKind } from '../../operator/src/runtime/source.ts';
import { type ControlPlane, startControlPlane } from '../harness/kube/controlplane.ts';
import { loopbackCertificate } from '../support/certificates.ts';
import { eventually } from '../support/wait.ts';
import { clientFor, createNamespace, quietLog, SETUP_TIMEOUT_MS, WAIT_MS } from './support.ts';

const NS = `hook-${randomBytes(2).toString('hex')}`;
const HOOK = 'rmqp-test-label-configmaps';
const TEST_LABEL = { 'rmqproxy.io/test': 'webhook' };

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

describe('the manager webhook server behind a real API server', {
  timeout: SETUP_TIMEOUT_MS + 5 * 60_000,
}, () => {
  let kube: ControlPlane;
  let client: KubeClient;
  let manager: Manager;
  let hooks: CachedKind;
  const first = loopbackCertificate('webhook-1');
  const seen: AdmissionRequest[] = [];
  const watched: string[] = [];
  let count = 0;
  /** What the handler writes into the label: which certificate served the call. */
  let stamp = 'certificate-1';

  const hookConfiguration = (caPem: string, port: number) => ({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'MutatingWebhookConfiguration',
    metadata: { name: HOOK, labels: TEST_LABEL },
    webhooks: [
      {
        name: 'label.configmaps.rmqproxy.io',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Fail',
        timeoutSeconds: 5,
        clientConfig: {
          url: `https://127.0.0.1:${port}/label-configmaps`,
          caBundle: Buffer.from(caPem).toString('base64'),
        },
        rules: [
          {
            apiGroups: [''],
            apiVersions: ['v1'],
            operations: ['CREATE'],
            resources: ['configmaps'],
            scope: 'Namespaced',
          },
        ],
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': NS } },
      },
    ],
  });

  /** Creates ConfigMaps until one comes back mutated (a new webhook configuration takes a moment to load). */
  const mutatedConfigMap = (expected: string) =>
    eventually(`a ConfigMap mutated by the webhook (${expected})`, { timeoutMs: WAIT_MS }, async () => {
      const created = await client.request<ConfigMap>('POST', resourcePath(CoreKinds.ConfigMap, NS), {
        body: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `cm-${++count}`, labels: { app: 'x' } },
        },
      });
      return created.metadata.labels?.['injected-by'] === expected ? created : undefined;
    });

  before(
    async () => {
      kube = await startControlPlane({ log: (line) => process.stderr.write(`[kube] ${line}\n`) });
      client = clientFor(kube.kubeconfigPath);
      await createNamespace(client, NS);
      manager = new Manager({
        client,
        log: quietLog,
        fieldManager: 'rmqp-webhook-test',
        metricsPrefix: 'rmqp_webhook_test',
        eventSource: 'rmqproxy.io/webhook-test',
        webhook: {
          port: 0,
          host: '127.0.0.1',
          certificate: { cert: first.server.certPem, key: first.server.keyPem },
        },
      });
      hooks = manager.cache.watch(CoreKinds.MutatingWebhookConfiguration, {
        labelSelector: 'rmqproxy.io/test=webhook',
      });
      hooks.on((type, object) => watched.push(`${type}:${object.metadata.name}`));
      manager.webhooks?.register('/label-configmaps', (request) => {
        seen.push(request);
        return { allowed: true, patch: [{ op: 'add', path: '/metadata/labels/injected-by', value: stamp }] };
      });
      await manager.start();
    },
    { timeout: SETUP_TIMEOUT_MS },
  );

  after(async () => {
    await client
      ?.request('DELETE', resourcePath(CoreKinds.MutatingWebhookConfiguration, undefined, HOOK))
      .catch(() => {});
    await manager?.stop();
    await kube?.stop();
  });

  test('a MutatingWebhookConfiguration applied and watched like any kind; the API server calls the handler and applies its patch', async () => {
    const port = manager.webhooks!.port!;
    const applied = await manager.applier.apply(hookConfiguration(first.ca.certPem, port));
    assert.equal(applied.metadata.name, HOOK);
    await eventually('the configuration in the cache', { timeoutMs: WAIT_MS }, async () =>
      hooks.get(undefined, HOOK),
    );
    assert.deepEqual(watched, [`added:${HOOK}`]);
    const fetched = await client.request<KubeObject>(
      'GET',
      resourcePath(CoreKinds.MutatingWebhookConfiguration, undefined, HOOK),
    );
    assert.equal(fetched.metadata.uid, applied.metadata.uid);

    const mutated = await mutatedConfigMap('certificate-1');
    const request = seen.find((r) => r.name === mutated.metadata.name);
    assert.ok(request, 'the handler saw the ConfigMap it mutated');
    assert.equal(request.operation, 'CREATE');
    assert.deepEqual(request.kind, { group: '', version: 'v1', kind: 'ConfigMap' });
    assert.equal(request.namespace, NS);
    assert.match(request.uid, /^[0-9a-f-]{36}$/);
    assert.equal(mutated.metadata.labels?.['app'], 'x', 'the patch added to what the client sent');
  });

  test('the serving certificate rotates under a running server: a new CA in the caBundle, calls go on', async () => {
    const second = loopbackCertificate('webhook-2');
    manager.webhooks!.setCertificate({ cert: second.server.certPem, key: second.server.keyPem });
    stamp = 'certificate-2';
    await manager.applier.apply(hookConfiguration(second.ca.certPem, manager.webhooks!.port!));
    await eventually('the cache to see the new caBundle', { timeoutMs: WAIT_MS }, async () =>
      watched.includes(`updated:${HOOK}`) ? true : undefined,
    );
    const mutated = await mutatedConfigMap('certificate-2');
    assert.equal(mutated.metadata.labels?.['injected-by'], 'certificate-2');
  });
});
