import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventually, until, waitFor, withTimeout } from '../../support/wait.ts';

describe('test/support/wait.ts', () => {
  test('withTimeout passes a result through and rejects a promise that takes too long', async () => {
    assert.equal(await withTimeout(Promise.resolve(7), 1000, 'fast'), 7);
    await assert.rejects(withTimeout(new Promise(() => undefined), 20, 'slow'), {
      message: 'slow did not finish within 20 ms',
    });
  });

  test('eventually retries through undefined and errors, then returns the value', async () => {
    let calls = 0;
    const value = await eventually('the third call', { timeoutMs: 2000, intervalMs: 1 }, async () => {
      calls += 1;
      if (calls === 1) throw new Error('not yet');
      return calls === 3 ? 'done' : undefined;
    });
    assert.equal(value, 'done');
    assert.equal(calls, 3);
  });

  test('eventually names what it waited for and the last error at the deadline', async () => {
    const last = new Error('still refused');
    await assert.rejects(
      eventually('the port', { timeoutMs: 30, intervalMs: 5 }, async () => {
        throw last;
      }),
      (error: Error) => {
        assert.equal(error.message, 'timed out after 30 ms waiting for the port (last error: still refused)');
        assert.equal(error.cause, last);
        return true;
      },
    );
  });

  test('until returns once the condition holds and names what it waited for at the deadline', async () => {
    let flag = false;
    setTimeout(() => {
      flag = true;
    }, 10);
    await until('the flag', () => flag);
    assert.equal(flag, true);
    await assert.rejects(
      until('nothing', () => false, { timeoutMs: 20, intervalMs: 1 }),
      {
        message: 'timed out after 20 ms waiting for nothing',
      },
    );
    const broken = new Error('broken condition');
    await assert.rejects(
      until(
        'a throwing condition',
        () => {
          throw broken;
        },
        { timeoutMs: 10_000 },
      ),
      (error: unknown) => error === broken,
    );
  });

  test('waitFor stops as soon as the peer exits, without waiting out the interval', async () => {
    const { promise: exited, resolve } = Promise.withResolvers<void>();
    const child = { exit: undefined as { code: number | null; signal: string | null } | undefined, exited };
    setTimeout(() => {
      child.exit = { code: 1, signal: null };
      resolve();
    }, 20);
    const started = Date.now();
    await assert.rejects(
      waitFor({ name: 'broker', process: child }, Date.now() + 10_000, 'its port', async () => false, 5000),
      { message: 'broker exited (code 1) while waiting for its port' },
    );
    assert.ok(Date.now() - started < 2000, 'woken by the exit, not by the 5 s interval');
  });

  test('waitFor returns once the probe says true and times out with the probe error', async () => {
    const peer = { name: 'etcd', process: { exit: undefined, exited: new Promise<void>(() => undefined) } };
    let calls = 0;
    await waitFor(peer, Date.now() + 2000, 'health', async () => ++calls === 2, 1);
    assert.equal(calls, 2);
    await assert.rejects(
      waitFor(
        peer,
        Date.now() + 20,
        'health',
        async () => {
          throw new Error('connection refused');
        },
        5,
      ),
      { message: 'timed out waiting for health (last error: connection refused)' },
    );
  });
});
