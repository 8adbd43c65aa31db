/** Runtime pieces with fakes (unit tests only): work queue, informer, conflict retry, status conditions. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolve } from '../../../operator/src/api/types.ts';
import { computeStatus, mergeConditions, sameStatus } from '../../../operator/src/controllers/status.ts';
import { retryOnConflict } from '../../../operator/src/runtime/apply.ts';
import { KubeApiError, type KubeClient, type WatchEvent } from '../../../operator/src/runtime/client.ts';
import { Informer, type KubeObject } from '../../../operator/src/runtime/informer.ts';
import { CoreKinds } from '../../../operator/src/runtime/kinds.ts';
import { WorkQueue } from '../../../operator/src/runtime/queue.ts';
import { until } from '../../support/wait.ts';
import { FakeTimers } from './fakes.ts';

describe('WorkQueue', () => {
  test('de-duplicates waiting keys and never hands one key to two workers', async () => {
    const q = new WorkQueue({ timers: new FakeTimers() });
    q.add('a');
    q.add('a');
    q.add('b');
    assert.equal(q.length, 2);
    const first = await q.get();
    assert.equal(first, 'a');
    q.add('a'); // while processing: marked dirty, not queued
    assert.equal(q.length, 1);
    assert.equal(await q.get(), 'b');
    q.done('a'); // comes back once
    assert.equal(q.length, 1);
    assert.equal(await q.get(), 'a');
  });

  test('per-key exponential backoff, reset by forget; addAfter keeps the earliest schedule', async () => {
    const timers = new FakeTimers();
    const q = new WorkQueue({ baseDelayMs: 100, maxDelayMs: 1000, timers });
    assert.deepEqual(
      [1, 2, 3, 4, 5].map(() => q.addRateLimited('k')),
      [100, 200, 400, 800, 1000],
    );
    q.forget('k');
    assert.equal(q.addRateLimited('k'), 100);
    const q2 = new WorkQueue({ timers });
    q2.addAfter('x', 5000);
    q2.addAfter('x', 1000);
    timers.advance(999);
    assert.equal(q2.length, 0);
    timers.advance(1);
    assert.equal(q2.length, 1);
    timers.advance(5000);
    assert.equal(q2.length, 1, 'the later schedule was dropped');
  });

  test('get() waits for work and returns undefined after shutDown', async () => {
    const q = new WorkQueue({ timers: new FakeTimers() });
    const waiting = q.get();
    q.add('late');
    assert.equal(await waiting, 'late');
    const idle = q.get();
    q.shutDown();
    assert.equal(await idle, undefined);
  });
});

/** A scripted API: each list/watch call takes the next step. */
class ScriptedClient implements KubeClient {
  lists: { items: KubeObject[]; resourceVersion: string }[] = [];
  watches: ((emit: (e: WatchEvent) => void) => Promise<void>)[] = [];
  watchQueries: Record<string, unknown>[] = [];
  async request<T>(): Promise<T> {
    const page = this.lists.shift();
    if (!page) throw new Error('no more lists');
    return { metadata: { resourceVersion: page.resourceVersion }, items: page.items } as T;
  }
  async watch(
    _path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    this.watchQueries.push(query);
    const step = this.watches.shift();
    if (!step) {
      await new Promise((r) => signal.addEventListener('abort', r));
      return;
    }
    await step(onEvent);
  }
}

const obj = (name: string, rv: string): KubeObject => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
});

describe('Informer', () => {
  test('resumes from the last resourceVersion, re-lists on 410 and reports what vanished meanwhile', async () => {
    const client = new ScriptedClient();
    client.lists.push({ items: [obj('a', '1'), obj('b', '2')], resourceVersion: '10' });
    client.watches.push(async (emit) => {
      emit({ type: 'MODIFIED', object: obj('a', '11') as unknown as Record<string, unknown> });
      emit({ type: 'BOOKMARK', object: { metadata: { resourceVersion: '15' } } });
    });
    client.watches.push(async (emit) => {
      emit({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
    });
    client.lists.push({ items: [obj('a', '11'), obj('c', '20')], resourceVersion: '21' });
    const informer = new Informer<KubeObject>(client, { kind: CoreKinds.Deployment, namespace: 'ns' });
    const seen: string[] = [];
    informer.on((type, o) => seen.push(`${type}:${o.metadata.name}`));
    informer.on(() => {
      throw new Error('a broken handler must not stop the informer');
    });
    informer.start();
    await informer.synced;
    await until('the third watch', () => client.watchQueries.length >= 3);
    await informer.stop();
    assert.deepEqual(seen, ['added:a', 'added:b', 'updated:a', 'added:c', 'deleted:b']);
    assert.deepEqual(
      client.watchQueries.map((q) => q['resourceVersion']),
      ['10', '15', '21'],
      'resume from the list, then from the bookmark, then from the re-list',
    );
    assert.deepEqual(
      informer
        .list()
        .map((o) => o.metadata.name)
        .sort(),
      ['a', 'c'],
    );
  });
});

describe('retryOnConflict', () => {
  test('retries 409 with a fresh attempt, gives up on other errors and after the limit', async () => {
    let calls = 0;
    let conflicts = 0;
    const value = await retryOnConflict(
      async () => {
        calls++;
        if (calls < 3) throw new KubeApiError('PUT', '/x', 409, { reason: 'Conflict' }, '');
        return 'ok';
      },
      { onConflict: () => conflicts++ },
    );
    assert.equal(value, 'ok');
    assert.equal(conflicts, 2);
    await assert.rejects(
      retryOnConflict(async () => {
        throw new KubeApiError('PUT', '/x', 422, { reason: 'Invalid' }, '');
      }),
      /422/,
    );
    let tries = 0;
    await assert.rejects(
      retryOnConflict(
        async () => {
          tries++;
          throw new KubeApiError('PUT', '/x', 409, { reason: 'Conflict' }, '');
        },
        { attempts: 3 },
      ),
      /409/,
    );
    assert.equal(tries, 3);
  });
});

describe('status', () => {
  const proxy = resolve({
    apiVersion: 'rmqproxy.io/v1alpha1',
    kind: 'RocketMQProxy',
    metadata: { name: 'p', namespace: 'ns', generation: 4 },
    spec: { nameServers: { addresses: ['n:9876'] } },
  });
  const facts = (status: Record<string, number>, generation = 2) => ({
    deployment: {
      metadata: { generation },
      spec: { replicas: 3 },
      status: { observedGeneration: 2, ...status },
    },
    image: 'img:2',
    configHash: 'h',
    labelSelector: 'a=b',
    endpoint: 'p.ns.svc:8081',
    headlessEndpoint: undefined,
    tls: undefined,
    now: new Date('2030-01-01T00:00:00Z'),
  });

  test('Ready only when every replica is updated, available and ready; currentImage follows completion', () => {
    const rolling = computeStatus(
      proxy,
      facts({ replicas: 4, updatedReplicas: 2, readyReplicas: 3, availableReplicas: 3 }),
    );
    assert.equal(rolling.conditions?.find((c) => c.type === 'Ready')?.reason, 'RollingOut');
    assert.equal(rolling.conditions?.find((c) => c.type === 'Progressing')?.status, 'True');
    assert.equal(rolling.currentImage, undefined);
    assert.equal(rolling.observedGeneration, 4);
    const done = computeStatus(
      proxy,
      facts({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 }),
    );
    assert.equal(done.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    assert.equal(done.currentImage, 'img:2');
    const stale = computeStatus(
      proxy,
      facts({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 }, 3),
    );
    assert.equal(
      stale.conditions?.find((c) => c.type === 'Ready')?.status,
      'False',
      'Deployment controller not caught up',
    );
  });

  test('lastTransitionTime moves only when a condition flips', () => {
    const t1 = new Date('2030-01-01T00:00:00Z');
    const t2 = new Date('2030-01-01T01:00:00Z');
    const first = mergeConditions(
      undefined,
      [{ type: 'Ready', status: 'False', reason: 'RollingOut', message: '' }],
      1,
      t1,
    );
    const same = mergeConditions(
      first,
      [{ type: 'Ready', status: 'False', reason: 'Other', message: 'x' }],
      2,
      t2,
    );
    assert.equal(same[0]?.lastTransitionTime, '2030-01-01T00:00:00Z');
    const flipped = mergeConditions(
      same,
      [{ type: 'Ready', status: 'True', reason: 'AllReplicasReady', message: '' }],
      2,
      t2,
    );
    assert.equal(flipped[0]?.lastTransitionTime, '2030-01-01T01:00:00Z');
    assert.ok(sameStatus({ a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 }));
    assert.ok(!sameStatus({ a: 1 }, { a: 2 }));
  });
});
