import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LoadingCache } from '../../../proxy/src/cluster/loading-cache.ts';

/** A loader whose answers the test controls, counting calls per key. */
function fakeLoader() {
  const calls: string[] = [];
  let version = 0;
  let failWith: Error | undefined;
  return {
    calls,
    bump: () => version++,
    fail: (error: Error | undefined) => {
      failWith = error;
    },
    load: async (key: string) => {
      calls.push(key);
      if (failWith) throw failWith;
      return `${key}@${version}`;
    },
  };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('LoadingCache', () => {
  test('serves the cached value until refreshAfterMs, then refreshes in the background', async () => {
    let now = 0;
    const loader = fakeLoader();
    const cache = new LoadingCache({
      load: loader.load,
      refreshAfterMs: 100,
      expireAfterAccessMs: 1000,
      clock: () => now,
    });
    assert.equal(await cache.get('t'), 't@0');
    loader.bump();
    now = 99;
    assert.equal(await cache.get('t'), 't@0');
    assert.equal(loader.calls.length, 1);
    now = 100;
    assert.equal(await cache.get('t'), 't@0', 'the stale value is served while refreshing');
    await flush();
    assert.equal(await cache.get('t'), 't@1');
    assert.equal(loader.calls.length, 2);
  });

  test('a failed refresh keeps the old value and is retried only after another refresh period', async () => {
    let now = 0;
    const loader = fakeLoader();
    const errors: unknown[] = [];
    const cache = new LoadingCache({
      load: loader.load,
      refreshAfterMs: 100,
      expireAfterAccessMs: 10_000,
      clock: () => now,
      onRefreshError: (_key, error) => errors.push(error),
    });
    await cache.get('t');
    loader.fail(new Error('namesrv down'));
    now = 150;
    assert.equal(await cache.get('t'), 't@0');
    await flush();
    assert.equal(errors.length, 1);
    now = 200;
    assert.equal(await cache.get('t'), 't@0');
    await flush();
    assert.equal(loader.calls.length, 2, 'no retry within the refresh period after the failure');
    now = 260;
    loader.fail(undefined);
    loader.bump();
    await cache.get('t');
    await flush();
    assert.equal(await cache.get('t'), 't@1');
  });

  test('an entry not read for expireAfterAccessMs is dropped and loaded afresh', async () => {
    let now = 0;
    const loader = fakeLoader();
    const cache = new LoadingCache({
      load: loader.load,
      refreshAfterMs: 10_000,
      expireAfterAccessMs: 300,
      clock: () => now,
    });
    await cache.get('t');
    now = 299;
    await cache.get('t');
    now = 598; // read at 299 keeps it alive until 599
    assert.equal(cache.peek('t'), 't@0');
    now = 599;
    assert.equal(cache.peek('t'), undefined);
    loader.bump();
    assert.equal(await cache.get('t'), 't@1');
    assert.equal(loader.calls.length, 2);
  });

  test('prune drops expired entries without a read', async () => {
    let now = 0;
    const loader = fakeLoader();
    const cache = new LoadingCache({
      load: loader.load,
      refreshAfterMs: 10_000,
      expireAfterAccessMs: 300,
      clock: () => now,
    });
    await cache.get('a');
    await cache.get('b');
    now = 200;
    await cache.get('b');
    now = 350;
    cache.prune();
    assert.equal(cache.size, 1);
    assert.equal(cache.peek('b'), 'b@0');
  });

  test('concurrent first reads share one load; a failed load is not cached', async () => {
    const loader = fakeLoader();
    const cache = new LoadingCache({ load: loader.load, refreshAfterMs: 100, expireAfterAccessMs: 1000 });
    loader.fail(new Error('boom'));
    const results = await Promise.allSettled([cache.get('t'), cache.get('t'), cache.get('t')]);
    assert.deepEqual(
      results.map((result) => result.status),
      ['rejected', 'rejected', 'rejected'],
    );
    assert.equal(loader.calls.length, 1);
    loader.fail(undefined);
    assert.equal(await cache.get('t'), 't@0');
    assert.equal(loader.calls.length, 2);
  });

  test('short-lived values (e.g. "no such topic") are reloaded synchronously after their lifetime', async () => {
    let now = 0;
    const loader = fakeLoader();
    const cache = new LoadingCache({
      load: loader.load,
      refreshAfterMs: 20_000,
      expireAfterAccessMs: 300_000,
      shortLivedMs: (value: string) => (value.endsWith('@0') ? 1000 : undefined),
      clock: () => now,
    });
    assert.equal(await cache.get('t'), 't@0');
    loader.bump();
    now = 999;
    assert.equal(await cache.get('t'), 't@0');
    now = 1000;
    assert.equal(await cache.get('t'), 't@1', 'reloaded before answering');
  });

  test('beyond maxEntries the least recently read entry goes first', async () => {
    const loader = fakeLoader();
    const cache = new LoadingCache({
      load: loader.load,
      refreshAfterMs: 1000,
      expireAfterAccessMs: 1000,
      maxEntries: 2,
    });
    await cache.get('a');
    await cache.get('b');
    await cache.get('a');
    await cache.get('c');
    assert.equal(cache.peek('b'), undefined);
    assert.equal(cache.peek('a'), 'a@0');
    assert.equal(cache.peek('c'), 'c@0');
  });
});
