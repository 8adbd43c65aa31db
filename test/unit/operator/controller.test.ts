/** The generic controller: watches → keys, workers → Reconciler, requeue and backoff, graceful stop. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  Controller,
  keyOfControllerOwner,
  type ReconcileResult,
  type Reconciler,
  splitKey,
} from '../../../operator/src/runtime/controller.ts';
import type { KubeObject } from '../../../operator/src/runtime/informer.ts';
import type { Kind } from '../../../operator/src/runtime/kinds.ts';
import { ControllerMetrics } from '../../../operator/src/runtime/metrics.ts';
import { WorkQueue } from '../../../operator/src/runtime/queue.ts';
import { until } from '../../support/wait.ts';
import { FakeCachedKind, FakeTimers } from './fakes.ts';

const Widget: Kind = { apiVersion: 'example.com/v1', kind: 'Widget', plural: 'widgets' };
const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const object = (
  namespace: string,
  name: string,
  owner?: { kind: string; apiVersion: string; name: string },
) => ({
  metadata: {
    name,
    namespace,
    ...(owner ? { ownerReferences: [{ ...owner, uid: 'u', controller: true }] } : {}),
  },
});

class ScriptedReconciler implements Reconciler {
  readonly calls: string[] = [];
  readonly steps: ((key: string) => Promise<ReconcileResult>)[] = [];
  async reconcile(key: string): Promise<ReconcileResult> {
    this.calls.push(key);
    return (await this.steps.shift()?.(key)) ?? {};
  }
}

async function counted(metrics: ControllerMetrics): Promise<Record<string, number>> {
  const values = (await metrics.reconciles.get()).values;
  return Object.fromEntries(values.map((v) => [String(v.labels.result), v.value]));
}

describe('Controller', () => {
  test('a primary change enqueues its own key, an owned one its owner, a presence flip every primary', async () => {
    const controller = new Controller({
      name: 'widgets',
      reconciler: new ScriptedReconciler(),
      metrics: new ControllerMetrics({ prefix: 't1' }),
      log: quiet,
    });
    const widgets = new FakeCachedKind<KubeObject>(Widget, [object('a', 'w1'), object('b', 'w2')]);
    const owned = new FakeCachedKind<KubeObject>();
    const optional = new FakeCachedKind<KubeObject>();
    controller.watch(widgets).watch(owned, keyOfControllerOwner(Widget)).watchPresence(optional, widgets);
    widgets.emit('updated', object('a', 'w1'));
    owned.emit('added', object('a', 'child', { kind: 'Widget', apiVersion: 'example.com/v2', name: 'w9' }));
    owned.emit('added', object('a', 'stray', { kind: 'Widget', apiVersion: 'other.io/v1', name: 'nope' }));
    owned.emit('added', object('a', 'orphan'));
    assert.equal(controller.queue.length, 2, 'another group is not our owner, an orphan maps to nothing');
    const take = async (): Promise<string | undefined> => {
      const key = await controller.queue.get();
      if (key !== undefined) controller.queue.done(key);
      return key;
    };
    assert.deepEqual([await take(), await take()], ['a/w1', 'a/w9']);
    optional.setAvailable(false);
    assert.deepEqual([await take(), await take()], ['a/w1', 'b/w2']);
  });

  test('a throw is retried with per-key backoff and counted; requeueAfter looks again; outcomes are the label', async () => {
    const timers = new FakeTimers();
    const metrics = new ControllerMetrics({ prefix: 't2' });
    const reconciler = new ScriptedReconciler();
    reconciler.steps.push(
      async () => {
        throw new Error('API server away');
      },
      async () => ({ requeueAfterMs: 5000, outcome: 'waiting' }),
      async () => ({}),
    );
    const queue = new WorkQueue({ timers, baseDelayMs: 100 });
    const controller = new Controller({
      name: 'widgets',
      reconciler,
      metrics,
      log: quiet,
      queue,
      workers: 2,
    });
    controller.start();
    queue.add('ns/w');
    await until('the first reconcile', () => reconciler.calls.length === 1);
    await until('the failure to be counted', () => queue.failures('ns/w') === 1);
    timers.advance(99);
    await new Promise((r) => setImmediate(r));
    assert.equal(reconciler.calls.length, 1, 'not before the backoff');
    timers.advance(1);
    await until('the retry after the backoff', () => reconciler.calls.length === 2);
    await until('the failure count back to 0', () => queue.failures('ns/w') === 0);
    timers.advance(4999);
    await new Promise((r) => setImmediate(r));
    assert.equal(reconciler.calls.length, 2);
    timers.advance(1);
    await until('the requeue after 5 s', () => reconciler.calls.length === 3);
    await controller.stop();
    assert.deepEqual(await counted(metrics), { error: 1, waiting: 1, success: 1 });
  });

  test('never one key in two workers; stop lets a running reconcile finish and takes no more work', async () => {
    const reconciler = new ScriptedReconciler();
    let release: () => void = () => {};
    let running = 0;
    let most = 0;
    const slow = async (): Promise<ReconcileResult> => {
      running++;
      most = Math.max(most, running);
      await new Promise<void>((r) => {
        release = r;
      });
      running--;
      return {};
    };
    reconciler.steps.push(slow, slow);
    const controller = new Controller({
      name: 'widgets',
      reconciler,
      metrics: new ControllerMetrics({ prefix: 't3' }),
      log: quiet,
      workers: 4,
    });
    controller.start();
    controller.queue.add('ns/w');
    await until('the first reconcile to start', () => running === 1);
    controller.queue.add('ns/w'); // while it runs: comes back after, not in parallel
    await new Promise((r) => setImmediate(r));
    assert.equal(most, 1);
    release();
    await until('the second reconcile to start', () => reconciler.calls.length === 2 && running === 1);
    const stopped = controller.stop();
    let done = false;
    void stopped.then(() => {
      done = true;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false, 'waits for the running reconcile');
    release();
    await stopped;
    controller.queue.add('ns/other');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(reconciler.calls, ['ns/w', 'ns/w']);
    assert.equal(most, 1);
  });

  test('splitKey', () => {
    assert.deepEqual(splitKey('ns/name'), { namespace: 'ns', name: 'name' });
    assert.deepEqual(splitKey('cluster-scoped'), { namespace: '', name: 'cluster-scoped' });
  });
});
