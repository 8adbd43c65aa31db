/**
 * The manager with a scripted API: health and metrics over HTTP, readiness that waits for the cache, the
 * webhook server on its own port, controllers started after the cache and stopped before it; and the
 * kinds registry that lets its writer address any registered kind.
 */
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { describe, test } from 'node:test';
import { Applier } from '../../../operator/src/runtime/apply.ts';
import type { KubeClient, RequestInit, WatchEvent } from '../../../operator/src/runtime/client.ts';
import { Controller } from '../../../operator/src/runtime/controller.ts';
import { CoreKinds, KindRegistry, resourcePath } from '../../../operator/src/runtime/kinds.ts';
import { Manager } from '../../../operator/src/runtime/manager.ts';
import { loopbackCertificate } from '../../support/certificates.ts';
import { sleep, until } from '../../support/wait.ts';

/** Lists answer once `release` is called; watches wait for their abort; writes are recorded. */
class GatedClient implements KubeClient {
  readonly requests: { method: string; path: string; init?: RequestInit | undefined }[] = [];
  #open: () => void = () => {};
  readonly #gate = new Promise<void>((r) => {
    this.#open = r;
  });
  release(): void {
    this.#open();
  }
  async request<T>(method: string, path: string, init?: RequestInit): Promise<T> {
    this.requests.push({ method, path, init });
    if (method !== 'GET') return {} as T;
    await this.#gate;
    return { metadata: { resourceVersion: '1' }, items: [] } as T;
  }
  async watch(
    _path: string,
    _query: Record<string, string | number | boolean | undefined>,
    _onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    await new Promise((r) => signal.addEventListener('abort', r));
  }
}

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, body: await res.text() };
}

function webhookAnswers(port: number, ca: string): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/validate',
        method: 'POST',
        ca,
        agent: false,
        headers: { 'Content-Type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolvePromise(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(
      JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u' } }),
    );
  });
}

describe('Manager', () => {
  test('serves health, metrics and webhooks; ready once the cache synced; starts controllers after it, stops them first', async () => {
    const client = new GatedClient();
    const { ca, server } = loopbackCertificate();
    const manager = new Manager({
      client,
      log: quiet,
      fieldManager: 'test-manager',
      metricsPrefix: 'test_operator',
      eventSource: 'example.com/test',
      health: { port: 0, host: '127.0.0.1' },
      webhook: { port: 0, host: '127.0.0.1', certificate: { cert: server.certPem, key: server.keyPem } },
    });
    manager.cache.watch(CoreKinds.ConfigMap);
    manager.webhooks?.register('/validate', () => ({ allowed: true }));
    let reconciles = 0;
    const controller = new Controller({
      name: 'test',
      reconciler: {
        reconcile: async () => {
          reconciles++;
          return {};
        },
      },
      metrics: manager.metrics,
      log: quiet,
    });
    manager.add(controller);
    controller.queue.add('ns/a');

    const started = manager.start();
    await until('the health port', () => manager.httpPort !== undefined);
    const port = manager.httpPort!;
    assert.equal((await get(port, '/healthz')).status, 200);
    assert.deepEqual(await get(port, '/readyz'), { status: 503, body: 'informers not synced\n' });
    assert.equal(reconciles, 0, 'no worker before the cache has synced');
    assert.equal(
      await webhookAnswers(manager.webhooks!.port!, ca.certPem),
      200,
      'webhooks serve before sync',
    );

    client.release();
    await started;
    assert.equal((await get(port, '/readyz')).status, 200);
    await until('a reconcile after the sync', () => reconciles > 0);
    assert.equal(reconciles, 1);
    const metrics = await get(port, '/metrics');
    assert.match(metrics.body, /test_operator_reconcile_total\{result="success"\} 1/);
    assert.match(metrics.body, /process_cpu_seconds_total/, 'process metrics with an HTTP port');
    assert.equal((await get(port, '/nope')).status, 404);

    await Promise.all([manager.stop(), manager.stop()]);
    controller.queue.add('ns/b');
    await sleep(20);
    assert.equal(reconciles, 1, 'the controller stopped');
    await assert.rejects(fetch(`http://127.0.0.1:${port}/healthz`), 'the health port is closed');
    await assert.rejects(webhookAnswers(manager.webhooks!.port!, ca.certPem), 'the webhook port is closed');
  });
});

describe('KindRegistry and Applier', () => {
  test('MutatingWebhookConfiguration is registered and cluster-scoped; an operator adds its own kinds', async () => {
    const Widget = { apiVersion: 'example.com/v1', kind: 'Widget', plural: 'widgets' };
    const kinds = new KindRegistry().register(Widget);
    const hook = kinds.lookup('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration');
    assert.equal(hook, CoreKinds.MutatingWebhookConfiguration);
    assert.equal(
      resourcePath(CoreKinds.MutatingWebhookConfiguration, 'ignored', 'inject'),
      '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/inject',
    );
    assert.equal(resourcePath(CoreKinds.ConfigMap, 'ns', 'c'), '/api/v1/namespaces/ns/configmaps/c');
    assert.equal(kinds.lookup('example.com/v1', 'Widget'), Widget);
    kinds.register({ ...Widget }); // the same again is fine
    assert.throws(() => kinds.register({ ...Widget, plural: 'widgetz' }), /already registered/);

    const client = new GatedClient();
    const applier = new Applier(client, kinds, 'test-manager');
    await applier.apply({
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'MutatingWebhookConfiguration',
      metadata: { name: 'inject' },
    });
    await applier.apply({
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'ns' },
    });
    assert.deepEqual(
      client.requests.map((r) => [r.method, r.path, r.init?.contentType, r.init?.query?.['fieldManager']]),
      [
        [
          'PATCH',
          '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/inject',
          'application/apply-patch+yaml',
          'test-manager',
        ],
        [
          'PATCH',
          '/apis/example.com/v1/namespaces/ns/widgets/w',
          'application/apply-patch+yaml',
          'test-manager',
        ],
      ],
    );
    await assert.rejects(
      applier.apply({ apiVersion: 'example.com/v1', kind: 'Gadget', metadata: { name: 'g' } }),
      /not registered/,
    );
  });
});
