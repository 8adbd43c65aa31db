/**
 * The RocketMQProxy reconciler with its collaborators faked at their interfaces: one way to fail (Event +
 * Degraded status + return), waiting without Degraded, the TLS strategy chosen by spec.tls.source while
 * the others clean up, and the user-Secret strategy's answers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type RocketMQProxy,
  type RocketMQProxySpec,
  type RocketMQProxyStatus,
  resolve,
} from '../../../operator/src/api/types.ts';
import { Kinds } from '../../../operator/src/controllers/kinds.ts';
import { RocketMQProxyReconciler } from '../../../operator/src/controllers/rocketmqproxy.ts';
import type { TlsOutcome, TlsSource, TlsSourceName } from '../../../operator/src/controllers/tls/source.ts';
import { UserSecretSource } from '../../../operator/src/controllers/tls/user-secret.ts';
import { KubeApiError, type KubeClient } from '../../../operator/src/runtime/client.ts';
import type { KubeObject } from '../../../operator/src/runtime/informer.ts';
import { FakeCachedKind, RecordingEvents } from './fakes.ts';

type Proxy = RocketMQProxy & KubeObject;

const NOW = new Date('2030-01-01T00:00:00Z');
const READY_TLS: TlsOutcome = {
  state: 'ready',
  hash: 'cert-hash',
  status: { secretName: 'p-tls' },
  requeueAfterMs: 60_000,
};

function proxyWith(spec: Partial<RocketMQProxySpec> = {}, annotations?: Record<string, string>): Proxy {
  return {
    apiVersion: 'rmqproxy.io/v1alpha1',
    kind: 'RocketMQProxy',
    metadata: {
      name: 'p',
      namespace: 'ns',
      uid: 'uid-p',
      generation: 3,
      resourceVersion: '7',
      ...(annotations ? { annotations } : {}),
    },
    spec: { nameServers: { addresses: ['namesrv:9876'] }, ...spec },
  };
}

class FakeTls implements TlsSource {
  readonly prepared: string[] = [];
  readonly retired: string[] = [];
  readonly outcome: TlsOutcome;
  constructor(outcome: TlsOutcome) {
    this.outcome = outcome;
  }
  async prepare({ proxy }: Parameters<TlsSource['prepare']>[0]): Promise<TlsOutcome> {
    this.prepared.push(proxy.metadata.name);
    return this.outcome;
  }
  async retire(proxy: Parameters<NonNullable<TlsSource['retire']>>[0]): Promise<void> {
    this.retired.push(proxy.metadata.name);
  }
}

function harness(proxy: Proxy, tls: Partial<Record<TlsSourceName, TlsOutcome>> = {}, applyError?: Error) {
  const written: RocketMQProxyStatus[] = [];
  const applied: (string | undefined)[] = [];
  const events = new RecordingEvents();
  const sources = {
    Operator: new FakeTls(tls.Operator ?? READY_TLS),
    Secret: new FakeTls(tls.Secret ?? READY_TLS),
    CertManager: new FakeTls(tls.CertManager ?? READY_TLS),
  };
  const reconciler = new RocketMQProxyReconciler({
    proxies: new FakeCachedKind<Proxy>(Kinds.RocketMQProxy, [proxy]),
    children: {
      apply: async (_proxy, _config, certificateHash) => {
        if (applyError) throw applyError;
        applied.push(certificateHash);
        return { metadata: { generation: 1 }, spec: { replicas: 2 }, status: { observedGeneration: 1 } };
      },
    },
    tls: sources,
    status: {
      write: async (_proxy, status) => {
        written.push(status);
      },
    },
    events,
    now: () => NOW,
  });
  const condition = (type: string) => written.at(-1)?.conditions?.find((c) => c.type === type);
  return { reconciler, written, applied, events, sources, condition };
}

describe('RocketMQProxyReconciler', () => {
  const failures: [string, Proxy, Partial<Record<TlsSourceName, TlsOutcome>>, string, number | undefined][] =
    [
      ['Local mode', proxyWith({ mode: 'Local' }), {}, 'LocalModeUnsupported', undefined],
      [
        'a malformed IP SAN',
        proxyWith({ tls: { ipAddresses: ['10.0.0.300'] } }),
        {},
        'InvalidConfig',
        undefined,
      ],
      [
        'a TLS source that cannot deliver',
        proxyWith({ tls: { source: 'Secret', secretName: 'mine' } }),
        {
          Secret: {
            state: 'failed',
            problem: { reason: 'TLSSecretInvalid', message: 'gone', requeueAfterMs: 30_000 },
          },
        },
        'TLSSecretInvalid',
        30_000,
      ],
    ];
  for (const [what, proxy, tls, reason, requeueAfterMs] of failures)
    test(`${what}: a Warning Event, Ready=False and Degraded=True with reason ${reason}, nothing applied`, async () => {
      const h = harness(proxy, tls);
      const result = await h.reconciler.reconcile('ns/p');
      assert.deepEqual(
        result,
        requeueAfterMs === undefined ? { outcome: 'invalid' } : { outcome: 'invalid', requeueAfterMs },
      );
      assert.deepEqual(
        h.events.recorded.map((e) => [e.type, e.reason]),
        [['Warning', reason]],
      );
      assert.equal(h.condition('Ready')?.status, 'False');
      assert.equal(h.condition('Degraded')?.status, 'True');
      assert.equal(h.condition('Degraded')?.reason, reason);
      assert.equal(
        h.condition('Degraded')?.message,
        h.events.recorded[0]?.note,
        'the Event says what the status says',
      );
      assert.equal(h.written.at(-1)?.observedGeneration, 3);
      assert.deepEqual(h.applied, []);
    });

  test('the API server rejecting a generated object is ApplyRejected, looked at again in 5 minutes', async () => {
    const h = harness(
      proxyWith(),
      {},
      new KubeApiError('PATCH', '/apis/apps/v1/x', 422, { reason: 'Invalid' }, ''),
    );
    assert.deepEqual(await h.reconciler.reconcile('ns/p'), { outcome: 'invalid', requeueAfterMs: 300_000 });
    assert.equal(h.events.recorded[0]?.reason, 'ApplyRejected');
    assert.equal(h.condition('Degraded')?.reason, 'ApplyRejected');
    const other = harness(
      proxyWith(),
      {},
      new KubeApiError('PATCH', '/x', 500, { reason: 'InternalError' }, ''),
    );
    await assert.rejects(other.reconciler.reconcile('ns/p'), /500/, 'other errors are retried with backoff');
  });

  test('waiting for cert-manager is Ready=False but not Degraded, without an Event', async () => {
    const proxy = proxyWith({ tls: { source: 'CertManager', issuerRef: { name: 'ca' } } });
    const h = harness(proxy, {
      CertManager: { state: 'waiting', reason: 'WaitingForCertificate', message: 'soon' },
    });
    assert.deepEqual(await h.reconciler.reconcile('ns/p'), { outcome: 'waiting' });
    assert.deepEqual(h.events.recorded, []);
    assert.equal(h.condition('Ready')?.reason, 'WaitingForCertificate');
    assert.equal(h.condition('Degraded')?.status, 'False');
    assert.deepEqual(h.sources.Operator.retired, [], 'nothing is cleaned up before the new source delivers');
  });

  test('the selected source prepares, the others retire; its hash reaches the pods and its status the status', async () => {
    const h = harness(proxyWith({ tls: { source: 'CertManager', issuerRef: { name: 'ca' } } }));
    assert.deepEqual(await h.reconciler.reconcile('ns/p'), { requeueAfterMs: 60_000 });
    assert.deepEqual(
      [h.sources.CertManager.prepared, h.sources.Operator.prepared, h.sources.Secret.prepared],
      [['p'], [], []],
    );
    assert.deepEqual([h.sources.CertManager.retired, h.sources.Operator.retired], [[], ['p']]);
    assert.deepEqual(h.applied, ['cert-hash']);
    assert.deepEqual(h.written.at(-1)?.tls, { secretName: 'p-tls' });
    assert.equal(h.written.at(-1)?.endpoint, 'p.ns.svc:8081');
  });

  test('TLS off: no source prepares, every one retires, no certificate hash, no timed look', async () => {
    const h = harness(proxyWith({ tls: { enabled: false } }));
    assert.deepEqual(await h.reconciler.reconcile('ns/p'), {});
    assert.deepEqual(h.sources.Operator.prepared, []);
    assert.deepEqual(h.sources.CertManager.retired, ['p']);
    assert.deepEqual(h.applied, [undefined]);
    assert.equal(h.written.at(-1)?.tls, undefined);
  });

  test('paused: only the paused condition is written; an object gone from the cache is nothing to do', async () => {
    const h = harness(proxyWith({}, { 'rmqproxy.io/pause-reconciliation': 'true' }));
    assert.deepEqual(await h.reconciler.reconcile('ns/p'), { outcome: 'paused' });
    assert.equal(h.condition('ReconciliationPaused')?.status, 'True');
    assert.deepEqual(h.applied, []);
    assert.deepEqual(await h.reconciler.reconcile('ns/gone'), {});
    assert.equal(h.written.length, 1);
  });
});

describe('TLS source Secret', () => {
  const secretClient = (answer: () => unknown): KubeClient => ({
    request: async <T>() => answer() as T,
    watch: async () => {},
  });
  const cached = proxyWith({ tls: { source: 'Secret', secretName: 'mine' } });
  const pass = { proxy: resolve(cached), regarding: cached, now: NOW };

  test('absent, incomplete or unreadable: TLSSecretInvalid, retried in 30 s', async () => {
    const notFound = () => {
      throw new KubeApiError('GET', '/api/v1/namespaces/ns/secrets/mine', 404, { reason: 'NotFound' }, '');
    };
    const forbidden = () => {
      throw new KubeApiError('GET', '/api/v1/namespaces/ns/secrets/mine', 403, { reason: 'Forbidden' }, '');
    };
    const cases: [() => unknown, RegExp][] = [
      [notFound, /^spec\.tls\.secretName mine: Secret not found$/],
      [() => ({ metadata: { name: 'mine' }, data: { 'tls.crt': 'Y3J0' } }), /missing tls\.crt or tls\.key/],
      [forbidden, /403/],
    ];
    for (const [answer, message] of cases) {
      const outcome = await new UserSecretSource(secretClient(answer)).prepare(pass);
      assert.equal(outcome.state, 'failed');
      if (outcome.state !== 'failed') continue;
      assert.equal(outcome.problem.reason, 'TLSSecretInvalid');
      assert.match(outcome.problem.message, message);
      assert.equal(outcome.problem.requeueAfterMs, 30_000);
    }
  });

  test('complete: mounted, hashed from tls.crt, checked again every minute', async () => {
    const secret = (crt: string) => () => ({
      metadata: { name: 'mine' },
      data: { 'tls.crt': crt, 'tls.key': 'a2V5' },
    });
    const first = await new UserSecretSource(secretClient(secret('Y3J0MQ=='))).prepare(pass);
    const second = await new UserSecretSource(secretClient(secret('Y3J0Mg=='))).prepare(pass);
    assert.equal(first.state, 'ready');
    assert.equal(second.state, 'ready');
    if (first.state !== 'ready' || second.state !== 'ready') return;
    assert.deepEqual(first.status, { secretName: 'mine' });
    assert.equal(first.requeueAfterMs, 60_000);
    assert.notEqual(first.hash, second.hash, 'a rotated certificate rolls the pods');
  });
});
