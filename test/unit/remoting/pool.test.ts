import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { RequestCode, ResponseCode } from '../../../proxy/src/remoting/codes.ts';
import { FLAG_ONEWAY, FLAG_RESPONSE, type RemotingCommand } from '../../../proxy/src/remoting/command.ts';
import { RemotingError, type RemotingErrorCode } from '../../../proxy/src/remoting/errors.ts';
import { backoffDelay, type PoolOptions, RemotingPool } from '../../../proxy/src/remoting/pool.ts';
import {
  blackHole,
  closedPort,
  echo,
  FakePeer,
  type PeerConnection,
  type Responder,
  silent,
} from './fake-peer.ts';

async function startPeer(t: TestContext, respond: Responder = echo): Promise<FakePeer> {
  const peer = await FakePeer.start(respond);
  t.after(() => peer.stop());
  return peer;
}

function createPool(t: TestContext, options: PoolOptions = {}): RemotingPool {
  const pool = new RemotingPool(options);
  t.after(() => pool.close(100));
  return pool;
}

/** A real connect attempt that was refused (a fast failure while backing off only quotes one). */
const REFUSED = /^connect to \S+ failed: .*ECONNREFUSED/;

function rejectsWith(code: RemotingErrorCode, retriable?: boolean, message?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof RemotingError, `expected a RemotingError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (retriable !== undefined) assert.equal(error.retriable, retriable, `retriable of ${error.message}`);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  };
}

async function settle<T>(promise: Promise<T>): Promise<T | RemotingError> {
  try {
    return await promise;
  } catch (error) {
    assert.ok(error instanceof RemotingError);
    return error;
  }
}

describe('sharing and replacing connections', () => {
  test('concurrent users of an address share one connect and one connection', async (t) => {
    const peer = await startPeer(t);
    const pool = createPool(t);
    const [connections, responses] = await Promise.all([
      Promise.all(Array.from({ length: 20 }, () => pool.get(peer.address))),
      Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          pool.request(peer.address, { code: 11, extFields: { i: `${i}` } }),
        ),
      ),
    ]);
    assert.equal(new Set(connections).size, 1);
    assert.equal(peer.connections.length, 1);
    responses.forEach((response, i) => {
      assert.equal(response.extFields?.i, `${i}`);
    });
    assert.equal(await pool.get(peer.address), connections[0]);
    assert.deepEqual(pool.stats(), { open: 1, connecting: 0, draining: 0, inFlight: 0, backingOff: 0 });
  });

  test('different addresses get different connections', async (t) => {
    const [a, b] = [await startPeer(t), await startPeer(t)];
    const pool = createPool(t);
    const [ca, cb] = await Promise.all([pool.get(a.address), pool.get(b.address)]);
    assert.notEqual(ca, cb);
    assert.equal(ca.address, a.address);
    assert.equal(cb.address, b.address);
    assert.equal(pool.stats().open, 2);
  });

  test('a connection closed by the peer or locally is replaced on next use', async (t) => {
    const peer = await startPeer(t);
    const pool = createPool(t);
    const first = await pool.get(peer.address);
    (await peer.connection(0)).socket.destroy();
    await first.closed;
    assert.equal(pool.stats().open, 0);

    const response = await pool.request(peer.address, { code: 11 });
    assert.equal(response.code, 0);
    const second = await pool.get(peer.address);
    assert.notEqual(second, first);
    assert.equal(peer.connections.length, 2);

    await second.close();
    const third = await pool.get(peer.address);
    assert.notEqual(third, second);
    assert.equal(third.state, 'open');
    assert.equal(peer.connections.length, 3);
  });

  test('oneway requests go through the pool', async (t) => {
    const peer = await startPeer(t, silent);
    const pool = createPool(t);
    await pool.oneway(peer.address, {
      code: RequestCode.END_TRANSACTION,
      extFields: { commitOrRollback: '8' },
    });
    const frame = await (await peer.connection()).next();
    assert.equal(frame.flag & FLAG_ONEWAY, FLAG_ONEWAY);
    assert.deepEqual(frame.extFields, { commitOrRollback: '8' });
  });
});

describe('backoff', () => {
  test('backoffDelay grows exponentially to the cap, within its jitter range', () => {
    const options = { initialMs: 100, maxMs: 10_000, multiplier: 2 };
    const bounds = [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000];
    bounds.forEach((bound, i) => {
      const failures = i + 1;
      assert.equal(
        backoffDelay(failures, { ...options, jitter: 'full' }, () => 0),
        0,
      );
      assert.equal(
        backoffDelay(failures, { ...options, jitter: 'full' }, () => 0.5),
        bound / 2,
      );
      assert.equal(
        backoffDelay(failures, { ...options, jitter: 'equal' }, () => 0),
        bound / 2,
      );
      assert.equal(
        backoffDelay(failures, { ...options, jitter: 'equal' }, () => 0.5),
        (bound * 3) / 4,
      );
      for (let k = 0; k < 50; k++) {
        const full = backoffDelay(failures, { ...options, jitter: 'full' });
        const equal = backoffDelay(failures, options);
        assert.ok(full >= 0 && full < bound, `full jitter ${full} within [0, ${bound})`);
        assert.ok(
          equal >= bound / 2 && equal < bound,
          `equal jitter ${equal} within [${bound / 2}, ${bound})`,
        );
      }
    });
    // The defaults are 100 ms doubling to 10 s with equal jitter.
    assert.equal(
      backoffDelay(1, {}, () => 0),
      50,
    );
    assert.equal(
      backoffDelay(30, {}, () => 0.999_999),
      10_000 * (0.5 + 0.999_999 / 2),
    );
  });

  test('reconnect attempts to a refused address are spaced by growing, capped, jittered delays', async (t) => {
    const address = `127.0.0.1:${await closedPort()}`;
    const initialMs = 40;
    const maxMs = 320;
    const pool = createPool(t, { backoff: { initialMs, maxMs, jitter: 'equal' } });
    const attempts: number[] = [];
    let fastFailures = 0;
    const until = performance.now() + 8000;
    while (attempts.length < 7 && performance.now() < until) {
      const started = performance.now();
      const error = await settle(pool.get(address));
      assert.ok(error instanceof RemotingError);
      assert.equal(error.code, 'RMQ_CONNECT_FAILED');
      assert.equal(error.retriable, true);
      // A fast failure names the last connect error too, so tell them apart by the prefix.
      if (/not reconnecting for another \d+ ms after \d+ failed connect/.test(error.message)) {
        // Far below the backoff it reports; generous because CI shares two cores with JVMs.
        assert.ok(performance.now() - started < 250, 'fails at once instead of waiting out the backoff');
        fastFailures++;
      } else {
        assert.match(error.message, REFUSED);
        attempts.push(started);
      }
      await sleep(2);
    }
    assert.ok(fastFailures > attempts.length, 'most calls failed fast instead of reconnecting');
    const gaps = attempts.slice(1).map((at, i) => at - attempts[i]!);
    assert.equal(gaps.length, 6);
    gaps.forEach((gap, i) => {
      const bound = Math.min(maxMs, initialMs * 2 ** i);
      // The delay is in [bound/2, bound). The lower bound is exact (no attempt comes early); the upper
      // bound has room for a loaded machine's event-loop stalls, which only ever lengthen a gap.
      assert.ok(gap >= bound / 2 - 1, `gap ${i} of ${gap.toFixed(1)} ms ≥ ${bound / 2}`);
      assert.ok(gap <= bound + 400, `gap ${i} of ${gap.toFixed(1)} ms ≤ ${bound} + slack`);
    });
    // Growth and the cap show in the exact lower bounds: 20, 40, 80, then 160 ms for every capped gap.
    assert.equal(pool.stats().backingOff, 1);
  });

  test('a successful connect resets the backoff', async (t) => {
    let peer = await FakePeer.start();
    const port = peer.port;
    await peer.stop();
    const address = `127.0.0.1:${port}`;
    const pool = createPool(t, { backoff: { initialMs: 30, maxMs: 1000 }, random: () => 0 });
    await assert.rejects(pool.get(address), rejectsWith('RMQ_CONNECT_FAILED', true, REFUSED));
    await sleep(16);
    await assert.rejects(pool.get(address), rejectsWith('RMQ_CONNECT_FAILED', true, REFUSED));
    await assert.rejects(pool.get(address), rejectsWith('RMQ_CONNECT_FAILED', true, /after 2 failed/));

    peer = await FakePeer.start(echo, port);
    t.after(() => peer.stop());
    await sleep(31);
    const connection = await pool.get(address);
    assert.equal(pool.stats().backingOff, 0);
    await peer.stop();
    await connection.closed;
    await assert.rejects(pool.get(address), rejectsWith('RMQ_CONNECT_FAILED', true, REFUSED));
    await assert.rejects(pool.get(address), rejectsWith('RMQ_CONNECT_FAILED', true, /after 1 failed/));
  });

  test('callers waiting on a failing connect all get its error, from a single attempt', async (t) => {
    const hole = await blackHole();
    t.after(hole.stop);
    const pool = createPool(t, { connection: { connectTimeoutMs: 100 } });
    const results = await Promise.all(Array.from({ length: 10 }, () => settle(pool.get(hole.address))));
    for (const result of results) rejectsWith('RMQ_CONNECT_FAILED', true, /timed out after 100 ms/)(result);
    assert.equal(new Set(results).size, 1, 'one shared connect, one error');
  });
});

describe('hooks and handlers', () => {
  test('onConnect runs on every new connection before any caller uses it', async (t) => {
    const peer = await startPeer(t);
    const pool = createPool(t);
    const hooked: string[] = [];
    pool.onConnect(async (connection) => {
      hooked.push(connection.address);
      const response = await connection.request({ code: RequestCode.HEART_BEAT, body: Buffer.from('{}') });
      assert.equal(response.code, 0);
    });
    await pool.request(peer.address, { code: 11 });
    (await peer.connection(0)).socket.destroy();
    await sleep(10);
    await pool.request(peer.address, { code: 12 });
    assert.deepEqual(hooked, [peer.address, peer.address]);
    for (const index of [0, 1]) {
      const codes = (await peer.connection(index)).received.map((command) => command.code);
      assert.deepEqual(codes.slice(0, 2), [RequestCode.HEART_BEAT, 11 + index], 'heartbeat first');
    }
  });

  test('a failing onConnect hook fails the connect, closes the connection and backs off', async (t) => {
    const peer = await startPeer(t);
    const pool = createPool(t);
    pool.onConnect(() => {
      throw new Error('heartbeat refused');
    });
    await assert.rejects(
      pool.request(peer.address, { code: 11 }),
      rejectsWith('RMQ_CONNECT_FAILED', true, /on-connect hook failed: heartbeat refused/),
    );
    await (await peer.connection(0)).closed;
    assert.equal(pool.stats().backingOff, 1);
    assert.equal(pool.stats().open, 0);
  });

  test('onRequest handlers serve peer requests on every connection, current and future', async (t) => {
    const [a, b] = [await startPeer(t), await startPeer(t)];
    const pool = createPool(t);
    const early = await pool.get(a.address);
    const checks: string[] = [];
    pool.onRequest(RequestCode.CHECK_TRANSACTION_STATE, (command, connection) => {
      checks.push(`${connection.address}:${command.extFields?.msgId}`);
      return { code: ResponseCode.SUCCESS };
    });
    await pool.get(b.address);
    const reply = async (server: PeerConnection, msgId: string): Promise<RemotingCommand> => {
      const opaque = server.request(RequestCode.CHECK_TRANSACTION_STATE, { extFields: { msgId } });
      const response = await server.next();
      assert.equal(response.opaque, opaque);
      assert.equal(response.flag & FLAG_RESPONSE, FLAG_RESPONSE);
      return response;
    };
    assert.equal((await reply(await a.connection(0), 'm1')).code, 0);
    assert.equal((await reply(await b.connection(0), 'm2')).code, 0);
    // A replacement connection gets the handler too.
    early.destroy();
    await pool.get(a.address);
    assert.equal((await reply(await a.connection(1), 'm3')).code, 0);
    assert.deepEqual(checks, [`${a.address}:m1`, `${b.address}:m2`, `${a.address}:m3`]);
  });

  test('keepalive requests come from the caller-supplied builder', async (t) => {
    const peer = await startPeer(t);
    const pool = createPool(t, {
      keepAlive: {
        intervalMs: 40,
        request: (address) => ({ code: RequestCode.HEART_BEAT, extFields: { address } }),
      },
    });
    await pool.get(peer.address);
    const keepalive = await (await peer.connection()).next();
    assert.equal(keepalive.code, RequestCode.HEART_BEAT);
    assert.deepEqual(keepalive.extFields, { address: peer.address });
  });
});

describe('GO_AWAY', () => {
  test('a GO_AWAY answer is retried once on a new connection', async (t) => {
    const peer = await startPeer(t, (request, connection) =>
      connection === peer.connections[0] ? { code: ResponseCode.GO_AWAY } : echo(request, connection),
    );
    const pool = createPool(t);
    const first = await pool.get(peer.address);
    const spec = { code: 10, extFields: { topic: 'T' }, body: Buffer.from('payload') };
    const response = await pool.request(peer.address, spec);
    assert.equal(response.code, 0);
    assert.equal(response.body?.toString(), 'payload');
    assert.equal(peer.connections.length, 2);
    const retried = (await peer.connection(1)).received[0]!;
    assert.deepEqual(
      [retried.code, retried.extFields, retried.body?.toString()],
      [10, { topic: 'T' }, 'payload'],
    );
    // The old connection drained and closed; the new one serves from now on.
    assert.equal(await first.closed, undefined);
    assert.notEqual(await pool.get(peer.address), first);
  });

  test('a second GO_AWAY is returned to the caller, not retried again', async (t) => {
    const peer = await startPeer(t, () => ({ code: ResponseCode.GO_AWAY, remark: 'shutting down' }));
    const pool = createPool(t);
    const response = await pool.request(peer.address, { code: 11 });
    assert.equal(response.code, ResponseCode.GO_AWAY);
    assert.equal(peer.connections.length, 2);
    const requests = peer.connections.reduce((sum, connection) => sum + connection.received.length, 0);
    assert.equal(requests, 2);
  });

  test('requests in flight on a draining connection finish there; new ones use a new connection', async (t) => {
    const peer = await startPeer(t, silent);
    const pool = createPool(t);
    const slow = pool.request(peer.address, { code: 11 });
    const server = await peer.connection(0);
    const [slowRequest] = await server.take(1);
    const goAway = pool.request(peer.address, { code: 12 });
    const [goAwayRequest] = await server.take(1);
    server.reply(goAwayRequest!, { code: ResponseCode.GO_AWAY });
    const next = await peer.connection(1);
    const retried = await next.next();
    assert.equal(retried.code, 12);
    assert.deepEqual(pool.stats(), { open: 1, connecting: 0, draining: 1, inFlight: 2, backingOff: 0 });
    next.reply(retried, { code: 0, remark: 'new' });
    assert.equal((await goAway).remark, 'new');
    server.reply(slowRequest!, { code: 0, remark: 'old' });
    assert.equal((await slow).remark, 'old');
  });
});

describe('deadlines and aborts', () => {
  test('the request timeout covers waiting for the connection', async (t) => {
    const peer = await startPeer(t);
    const pool = createPool(t);
    pool.onConnect(() => sleep(80));
    await assert.rejects(
      pool.request(peer.address, { code: 11 }, { timeoutMs: 40 }),
      rejectsWith('RMQ_TIMEOUT', true, /waiting for a connection/),
    );
  });

  test('one waiter aborting leaves the shared connect to the others', async (t) => {
    const peer = await startPeer(t);
    const pool = createPool(t);
    pool.onConnect(() => sleep(50));
    const controller = new AbortController();
    const aborted = pool.request(peer.address, { code: 11 }, { signal: controller.signal });
    const patient = pool.request(peer.address, { code: 12 });
    controller.abort();
    await assert.rejects(aborted, rejectsWith('RMQ_ABORTED'));
    assert.equal((await patient).code, 0);
    assert.deepEqual(
      peer.connections[0]!.received.map((command) => command.code),
      [12],
    );
  });
});

describe('close', () => {
  test('close() refuses new work, lets in-flight requests finish and closes every connection', async (t) => {
    const [a, b] = [await startPeer(t, silent), await startPeer(t)];
    const pool = createPool(t);
    const pending = pool.request(a.address, { code: 11 });
    await pool.get(b.address);
    const server = await a.connection();
    const request = await server.next();
    const closing = pool.close(2000);
    await assert.rejects(pool.request(a.address, { code: 12 }), rejectsWith('RMQ_CONNECTION_CLOSED', false));
    await assert.rejects(pool.get(b.address), rejectsWith('RMQ_CONNECTION_CLOSED', false, /pool is closed/));
    assert.equal(pool.stats().draining, 2);
    server.reply(request, { code: 0, remark: 'finished' });
    assert.equal((await pending).remark, 'finished');
    await closing;
    await Promise.all([server.closed, (await b.connection()).closed]);
    assert.deepEqual(pool.stats(), { open: 0, connecting: 0, draining: 0, inFlight: 0, backingOff: 0 });
    assert.equal(pool.close(), closing, 'close() is idempotent');
  });

  test('a connect under way when the pool closes is abandoned', async (t) => {
    const peer = await startPeer(t);
    const pool = createPool(t);
    pool.onConnect(() => sleep(50));
    const connecting = pool.get(peer.address);
    await peer.connection(0);
    await pool.close();
    await assert.rejects(connecting, rejectsWith('RMQ_CONNECTION_CLOSED'));
    await peer.connections[0]!.closed;
    assert.deepEqual(pool.stats(), { open: 0, connecting: 0, draining: 0, inFlight: 0, backingOff: 0 });
  });
});
