import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { setImmediate as nextMacrotask, setTimeout as sleep } from 'node:timers/promises';
import { RequestCode, ResponseCode } from '../../../proxy/src/remoting/codes.ts';
import { FLAG_ONEWAY, FLAG_RESPONSE, type RemotingCommand } from '../../../proxy/src/remoting/command.ts';
import {
  type ConnectOptions,
  parseAddress,
  RemotingConnection,
} from '../../../proxy/src/remoting/connection.ts';
import { RemotingError, type RemotingErrorCode } from '../../../proxy/src/remoting/errors.ts';
import { encodeFrame } from '../../../proxy/src/remoting/frame.ts';
import { blackHole, closedPort, echo, FakePeer, type Responder, silent } from './fake-peer.ts';

async function setup(t: TestContext, respond: Responder = echo, options: ConnectOptions = {}) {
  const peer = await FakePeer.start(respond);
  const connection = await RemotingConnection.connect(peer.address, options);
  t.after(async () => {
    connection.destroy();
    await peer.stop();
  });
  return { peer, connection, server: await peer.connection() };
}

/** A validator for assert.rejects that checks the error code (and retriability when given). */
function rejectsWith(code: RemotingErrorCode, retriable?: boolean, message?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof RemotingError, `expected a RemotingError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (retriable !== undefined) assert.equal(error.retriable, retriable, `retriable of ${error.message}`);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  };
}

/** A frame from raw parts, so tests can send what frame.ts would never produce. */
function rawFrame(serializeType: number, header: Buffer, body: Buffer = Buffer.alloc(0)): Buffer {
  const prefix = Buffer.alloc(8);
  prefix.writeUInt32BE(4 + header.length + body.length, 0);
  prefix.writeUInt32BE(((serializeType << 24) | header.length) >>> 0, 4);
  return Buffer.concat([prefix, header, body]);
}

describe('request/response correlation', () => {
  test('many concurrent requests answered out of order each get their own response', async (t) => {
    const { connection, server } = await setup(t, silent);
    const count = 500;
    const results = Array.from({ length: count }, (_, i) =>
      connection.request({ code: 11, extFields: { i: String(i) }, body: Buffer.from(`body-${i}`) }),
    );
    const requests = await server.take(count);
    assert.equal(connection.inFlight, count);
    assert.equal(new Set(requests.map((request) => request.opaque)).size, count, 'opaques are unique');
    for (const request of requests) {
      assert.equal(request.code, 11);
      assert.equal(request.flag, 0);
      assert.equal(request.language, 'JAVA');
      assert.equal(request.version, 479);
    }
    // 7919 is coprime with 500, so this visits every request once, in a scrambled order.
    for (let k = 0; k < count; k++) {
      const request = requests[(k * 7919) % count]!;
      server.reply(request, { code: 0, extFields: { echoed: request.extFields!.i! }, body: request.body! });
    }
    const responses = await Promise.all(results);
    responses.forEach((response, i) => {
      assert.equal(response.extFields?.echoed, String(i));
      assert.equal(response.body?.toString(), `body-${i}`);
      assert.equal(response.flag & FLAG_RESPONSE, FLAG_RESPONSE);
    });
    assert.equal(connection.inFlight, 0);
  });

  test('resolves with non-success responses too (callers apply expectSuccess)', async (t) => {
    const { connection } = await setup(t, () => ({ code: ResponseCode.TOPIC_NOT_EXIST, remark: 'no topic' }));
    const response = await connection.request({ code: 105, extFields: { topic: 'missing' } });
    assert.equal(response.code, ResponseCode.TOPIC_NOT_EXIST);
    assert.equal(response.remark, 'no topic');
  });

  test('opaques wrap around the int32 range and stay correlated', async (t) => {
    const { connection, server } = await setup(t, silent, { firstOpaque: 2 ** 31 - 2 });
    const results = [0, 1, 2, 3].map((i) => connection.request({ code: 11, extFields: { i: String(i) } }));
    const requests = await server.take(4);
    assert.deepEqual(
      requests.map((request) => request.opaque),
      [2147483646, 2147483647, -2147483648, -2147483647],
    );
    for (const request of requests.toReversed()) {
      server.reply(request, { code: 0, extFields: { i: request.extFields!.i! } });
    }
    const responses = await Promise.all(results);
    assert.deepEqual(
      responses.map((response) => response.extFields?.i),
      ['0', '1', '2', '3'],
    );
  });
});

describe('oneway requests', () => {
  test('are sent with the oneway flag, resolve once written and expect no response', async (t) => {
    const { peer, connection, server } = await setup(t, silent);
    await connection.oneway({ code: RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, extFields: { group: 'g' } });
    assert.equal(connection.inFlight, 0);
    const frame = await server.next();
    assert.equal(frame.flag & FLAG_ONEWAY, FLAG_ONEWAY);
    assert.deepEqual(frame.extFields, { group: 'g' });
    // A confused peer answering it is ignored, and the connection carries on.
    server.reply(frame, { code: 0, remark: 'should be dropped' });
    peer.respond = echo;
    const response = await connection.request({ code: 11 });
    assert.equal(response.opaque, frame.opaque + 1);
    assert.equal(response.remark, undefined);
  });
});

describe('timeouts and limits', () => {
  test('a request times out with RMQ_TIMEOUT and its late response is dropped', async (t) => {
    const { peer, connection, server } = await setup(t, silent, { requestTimeoutMs: 60 });
    const started = performance.now();
    await assert.rejects(
      connection.request({ code: 11 }),
      rejectsWith('RMQ_TIMEOUT', true, /timed out after 60 ms/),
    );
    assert.ok(performance.now() - started >= 55, 'did not time out early');
    await assert.rejects(connection.request({ code: 11 }, { timeoutMs: 20 }), rejectsWith('RMQ_TIMEOUT'));
    assert.equal(connection.inFlight, 0);

    const [late] = await server.take(2);
    server.reply(late!, { code: 0, remark: 'late' });
    peer.respond = echo;
    const response = await connection.request({ code: 12 });
    assert.equal(response.remark, undefined, 'the late response was not taken for this one');
    assert.equal(connection.state, 'open');
  });

  test('beyond maxInFlight a request fails fast with RMQ_TOO_MANY_IN_FLIGHT and is not sent', async (t) => {
    const { connection, server } = await setup(t, silent, { maxInFlight: 3 });
    const pending = [1, 2, 3].map(() => connection.request({ code: 11 }));
    await assert.rejects(connection.request({ code: 12 }), rejectsWith('RMQ_TOO_MANY_IN_FLIGHT', true));
    const requests = await server.take(3);
    server.reply(requests[0]!, { code: 0 });
    await pending[0];
    // One slot is free again.
    const fourth = connection.request({ code: 13 });
    const sent = await server.next();
    assert.equal(sent.code, 13, 'the refused request was never sent');
    for (const request of [...requests.slice(1), sent]) server.reply(request, { code: 0 });
    await Promise.all([...pending, fourth]);
    assert.equal(server.received.length, 4);
  });

  test('a request too large to encode fails alone with RMQ_FRAME_TOO_LARGE', async (t) => {
    const { connection } = await setup(t);
    await assert.rejects(
      connection.request({ code: 10, body: Buffer.alloc(16 * 1024 * 1024) }),
      rejectsWith('RMQ_FRAME_TOO_LARGE'),
    );
    assert.equal((await connection.request({ code: 11 })).code, 0);
  });
});

describe('socket backpressure', () => {
  test('a peer that stops reading bounds the buffered bytes; frames flow again once it reads', async (t) => {
    const maxWriteBufferBytes = 64 * 1024;
    const { connection, server } = await setup(t, (request) => ({ code: 0, extFields: request.extFields! }), {
      maxWriteBufferBytes,
      requestTimeoutMs: 20_000,
    });
    server.socket.pause();
    const body = Buffer.alloc(32 * 1024, 7);
    const frameBytes = encodeFrame({
      code: 10,
      language: 'JAVA',
      version: 479,
      opaque: -1,
      flag: 0,
      extFields: { n: '99999' },
      body,
    }).length;
    const results: Promise<RemotingCommand>[] = [];
    let maxQueuedBytes = 0;
    // Send until the kernel buffers are full and frames wait in our queue (loopback buffers hold MiBs).
    while (connection.queuedFrames < 64 && results.length < 4000) {
      for (let i = 0; i < 16; i++) {
        results.push(connection.request({ code: 10, extFields: { n: String(results.length) }, body }));
      }
      await nextMacrotask();
      maxQueuedBytes = Math.max(maxQueuedBytes, connection.queuedBytes);
    }
    assert.ok(connection.queuedFrames >= 64, `frames wait in the queue (${connection.queuedFrames})`);
    assert.ok(
      maxQueuedBytes <= maxWriteBufferBytes + frameBytes,
      `socket buffered ${maxQueuedBytes} bytes, bound ${maxWriteBufferBytes} + one ${frameBytes}-byte frame`,
    );
    assert.ok(maxQueuedBytes >= maxWriteBufferBytes / 2, 'the socket buffer did fill up');

    server.socket.resume();
    const responses = await Promise.all(results);
    responses.forEach((response, i) => {
      assert.equal(response.extFields?.n, String(i));
    });
    assert.equal(connection.queuedFrames, 0);
    assert.equal(connection.queuedBytes, 0);
  });
});

describe('closing', () => {
  test('close() refuses new requests, waits for in-flight ones, then closes cleanly', async (t) => {
    const { connection, server } = await setup(t, silent);
    const pending = connection.request({ code: 11 });
    const request = await server.next();
    const closing = connection.close(2000);
    assert.equal(connection.state, 'closing');
    await assert.rejects(connection.request({ code: 12 }), rejectsWith('RMQ_CONNECTION_CLOSED', true));
    await sleep(30);
    assert.equal(server.ended, false, 'no FIN while a request is in flight');
    server.reply(request, { code: 0, remark: 'done' });
    assert.equal((await pending).remark, 'done');
    await closing;
    assert.equal(connection.state, 'closed');
    assert.equal(await connection.closed, undefined);
    await server.closed;
    assert.equal(server.ended, true);
  });

  test('close() with nothing in flight half-closes at once and finishes when the peer closes', async (t) => {
    const { connection, server } = await setup(t);
    const started = performance.now();
    await connection.close(5000);
    assert.ok(performance.now() - started < 1000, 'did not wait for the deadline');
    assert.equal(server.ended, true);
    assert.equal(await connection.closed, undefined);
  });

  test('close() stops waiting for a peer that never answers our FIN at the deadline', async (t) => {
    const { peer, connection } = await setup(t);
    peer.closeOnEnd = false;
    const started = performance.now();
    await connection.close(60);
    assert.ok(performance.now() - started >= 55);
    assert.equal(connection.state, 'closed');
  });

  test('close() gives up at its deadline and fails what is still pending', async (t) => {
    const { connection } = await setup(t, silent);
    const pending = connection.request({ code: 11 }, { timeoutMs: 10_000 });
    await connection.close(50);
    await assert.rejects(pending, rejectsWith('RMQ_CONNECTION_CLOSED', true, /deadline/));
    const error = await connection.closed;
    assert.equal(error?.code, 'RMQ_CONNECTION_CLOSED');
  });

  test('destroy() fails every pending request with RMQ_CONNECTION_CLOSED', async (t) => {
    const { connection, server } = await setup(t, silent);
    const pending = [11, 12, 13].map((code) => connection.request({ code }));
    await server.take(3);
    connection.destroy();
    for (const request of pending) await assert.rejects(request, rejectsWith('RMQ_CONNECTION_CLOSED', true));
    assert.equal(connection.state, 'closed');
    assert.equal(connection.inFlight, 0);
    await assert.rejects(connection.request({ code: 14 }), rejectsWith('RMQ_CONNECTION_CLOSED'));
    await server.closed;
  });

  for (const how of ['reset', 'FIN'] as const) {
    test(`the peer closing (${how}) fails pending requests with RMQ_CONNECTION_CLOSED`, async (t) => {
      const { connection, server } = await setup(t, silent);
      const pending = [11, 12].map((code) => connection.request({ code }, { timeoutMs: 10_000 }));
      await server.take(2);
      if (how === 'reset') server.socket.resetAndDestroy();
      else server.socket.end();
      for (const request of pending)
        await assert.rejects(request, rejectsWith('RMQ_CONNECTION_CLOSED', true));
      const error = await connection.closed;
      assert.equal(error?.code, 'RMQ_CONNECTION_CLOSED');
      assert.equal(connection.state, 'closed');
    });
  }
});

describe('protocol errors from the peer', () => {
  const cases: { name: string; bytes: Buffer; code: RemotingErrorCode; maxFrameBytes?: number }[] = [
    { name: 'a length below the header word', bytes: Buffer.from([0, 0, 0, 2, 0, 0]), code: 'RMQ_BAD_FRAME' },
    {
      name: 'a length beyond the default 16 MiB cap',
      bytes: Buffer.from([0x01, 0x00, 0x00, 0x00]),
      code: 'RMQ_FRAME_TOO_LARGE',
    },
    {
      name: 'a length beyond a configured cap',
      bytes: Buffer.from([0x00, 0x00, 0x10, 0x00]),
      code: 'RMQ_FRAME_TOO_LARGE',
      maxFrameBytes: 1024,
    },
    { name: 'a header that is not JSON', bytes: rawFrame(0, Buffer.from('{nope')), code: 'RMQ_BAD_FRAME' },
    { name: 'an unknown serialize type', bytes: rawFrame(7, Buffer.from('{}')), code: 'RMQ_BAD_FRAME' },
    {
      name: 'a header length beyond the frame',
      bytes: Buffer.from([0, 0, 0, 6, 0, 0, 0, 9, 0x7b, 0x7d]),
      code: 'RMQ_BAD_FRAME',
    },
    {
      name: 'a JSON header without an opaque',
      bytes: rawFrame(0, Buffer.from('{"code":0,"flag":1}')),
      code: 'RMQ_BAD_FRAME',
    },
  ];
  for (const { name, bytes, code, maxFrameBytes } of cases) {
    test(`${name} closes only that connection, with ${code}`, async (t) => {
      const { peer, connection, server } = await setup(t, silent, { maxFrameBytes });
      const other = await RemotingConnection.connect(peer.address);
      t.after(() => other.destroy());
      const otherServer = await peer.connection(1);
      const pending = connection.request({ code: 11 });
      await server.next();
      server.writeRaw(bytes);
      await assert.rejects(
        pending,
        rejectsWith(code, undefined, new RegExp(`connection to ${peer.address}`)),
      );
      const error = await connection.closed;
      assert.equal(error?.code, code);
      assert.equal(connection.state, 'closed');
      await server.closed;

      const stillFine = other.request({ code: 12 });
      otherServer.reply(await otherServer.next(), { code: 0 });
      assert.equal((await stillFine).code, 0);
      assert.equal(other.state, 'open');
    });
  }
});

describe('requests from the peer', () => {
  test('a registered handler answers with the same opaque', async (t) => {
    const { connection, server } = await setup(t, silent);
    const seen: RemotingCommand[] = [];
    connection.onRequest(39, (command, on) => {
      seen.push(command);
      assert.equal(on, connection);
      return { code: 0, remark: 'checked', extFields: { state: 'commit' } };
    });
    const opaque = server.request(39, { extFields: { tranStateTableOffset: '5' } });
    const reply = await server.next();
    assert.equal(reply.opaque, opaque);
    assert.equal(reply.flag & FLAG_RESPONSE, FLAG_RESPONSE);
    assert.equal(reply.code, 0);
    assert.equal(reply.remark, 'checked');
    assert.deepEqual(reply.extFields, { state: 'commit' });
    assert.deepEqual(seen[0]?.extFields, { tranStateTableOffset: '5' });
  });

  test('async handlers answer when they finish; answers may overtake one another', async (t) => {
    const { connection, server } = await setup(t, silent);
    connection.onRequest(221, async (command) => {
      await sleep(Number(command.extFields?.delay));
      return { code: 0, extFields: { delay: command.extFields!.delay! } };
    });
    const slow = server.request(221, { extFields: { delay: '40' } });
    const fast = server.request(221, { extFields: { delay: '0' } });
    const [first, second] = await server.take(2);
    assert.equal(first?.opaque, fast);
    assert.equal(second?.opaque, slow);
  });

  test('unknown codes get REQUEST_CODE_NOT_SUPPORTED; oneway requests get no reply', async (t) => {
    const { connection, server } = await setup(t, silent);
    const handled: number[] = [];
    connection.onRequest(40, (command) => {
      handled.push(command.opaque);
      return { code: 0 };
    });
    const onewayHandled = server.request(40, { oneway: true });
    server.request(41, { oneway: true });
    const unknown = server.request(12345);
    // Frames are answered in order, so the first frame back is the reply to `unknown`.
    const reply = await server.next();
    assert.equal(reply.opaque, unknown);
    assert.equal(reply.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    assert.match(reply.remark ?? '', /12345 not supported/);
    assert.deepEqual(handled, [onewayHandled]);
    await sleep(20);
    assert.equal(server.unread, 0, 'nothing was sent for the oneway requests');
  });

  test('a failing handler becomes a SYSTEM_ERROR reply; returning nothing sends nothing', async (t) => {
    const { connection, server } = await setup(t, silent);
    connection.onRequest(307, () => {
      throw new Error('consumer exploded');
    });
    connection.onRequest(309, () => undefined);
    server.request(309);
    const failed = server.request(307);
    const reply = await server.next();
    assert.equal(reply.opaque, failed);
    assert.equal(reply.code, ResponseCode.SYSTEM_ERROR);
    assert.match(reply.remark ?? '', /consumer exploded/);
    assert.equal(connection.state, 'open');
  });
});

describe('abort signals', () => {
  test('an already aborted signal rejects at once and sends nothing', async (t) => {
    const { connection, server } = await setup(t);
    const controller = new AbortController();
    controller.abort(new Error('caller went away'));
    await assert.rejects(
      connection.request({ code: 11 }, { signal: controller.signal }),
      rejectsWith('RMQ_ABORTED', false),
    );
    await connection.request({ code: 12 });
    assert.deepEqual(
      server.received.map((command) => command.code),
      [12],
    );
  });

  test('aborting an in-flight request rejects it and drops its late response', async (t) => {
    const { peer, connection, server } = await setup(t, silent);
    const controller = new AbortController();
    const pending = connection.request({ code: 11 }, { signal: controller.signal });
    const request = await server.next();
    const reason = new Error('deadline exceeded');
    controller.abort(reason);
    await assert.rejects(pending, (error: unknown) => {
      rejectsWith('RMQ_ABORTED')(error);
      assert.equal((error as Error).cause, reason);
      return true;
    });
    assert.equal(connection.inFlight, 0);
    server.reply(request, { code: 0, remark: 'late' });
    peer.respond = echo;
    assert.equal((await connection.request({ code: 12 })).remark, undefined);
  });
});

describe('keepalive', () => {
  test('is sent only when the connection is idle', async (t) => {
    const intervalMs = 80;
    const { connection, server } = await setup(t, echo, {
      keepAlive: { intervalMs, request: () => ({ code: 34, extFields: { keepalive: 'yes' } }) },
    });
    // Busy: traffic every 20 ms.
    for (let i = 0; i < 10; i++) {
      await connection.request({ code: 11 });
      await sleep(20);
    }
    assert.equal(server.received.filter((command) => command.code === 34).length, 0, 'none while busy');
    await server.take(10);
    const idleSince = performance.now();
    const keepalive = await server.next();
    assert.equal(keepalive.code, 34);
    assert.deepEqual(keepalive.extFields, { keepalive: 'yes' });
    assert.ok(performance.now() - idleSince >= intervalMs - 30, 'not before the idle interval');
    // The next one comes about an interval later, not in a tight loop.
    const again = await server.next();
    assert.equal(again.code, 34);
    assert.ok(performance.now() - idleSince >= 2 * intervalMs - 30);
    assert.equal(connection.state, 'open');
  });

  test('a peer that does not answer the keepalive gets the connection closed', async (t) => {
    const { connection } = await setup(t, silent, {
      keepAlive: { intervalMs: 40, timeoutMs: 60, request: () => ({ code: 34 }) },
    });
    const pending = connection.request({ code: 11 }, { timeoutMs: 10_000 });
    const error = await connection.closed;
    assert.equal(error?.code, 'RMQ_CONNECTION_CLOSED');
    assert.match(error?.message ?? '', /keepalive/);
    await assert.rejects(pending, rejectsWith('RMQ_CONNECTION_CLOSED', true));
  });
});

describe('GO_AWAY', () => {
  test('answers the request with GO_AWAY, drains in-flight requests, then closes', async (t) => {
    const { connection, server } = await setup(t, silent);
    const first = connection.request({ code: 11 });
    const second = connection.request({ code: 12 });
    const [r1, r2] = await server.take(2);
    server.reply(r1!, { code: ResponseCode.GO_AWAY, remark: 'shutting down' });
    assert.equal((await first).code, ResponseCode.GO_AWAY);
    assert.equal(connection.state, 'closing');
    await assert.rejects(connection.request({ code: 13 }), rejectsWith('RMQ_CONNECTION_CLOSED', true));
    server.reply(r2!, { code: 0 });
    assert.equal((await second).code, 0);
    assert.equal(await connection.closed, undefined);
  });
});

describe('connecting', () => {
  test('a refused connect fails with a retriable RMQ_CONNECT_FAILED', async () => {
    const address = `127.0.0.1:${await closedPort()}`;
    await assert.rejects(
      RemotingConnection.connect(address),
      rejectsWith('RMQ_CONNECT_FAILED', true, /ECONNREFUSED/),
    );
  });

  test('a connect that hangs fails after connectTimeoutMs with a retriable RMQ_CONNECT_FAILED', async (t) => {
    const hole = await blackHole();
    t.after(hole.stop);
    const started = performance.now();
    await assert.rejects(
      RemotingConnection.connect(hole.address, { connectTimeoutMs: 150 }),
      rejectsWith('RMQ_CONNECT_FAILED', true, /timed out after 150 ms/),
    );
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 140 && elapsed < 1000, `took ${elapsed} ms`);
  });

  test('aborting a hanging connect fails it with RMQ_ABORTED', async (t) => {
    const hole = await blackHole();
    t.after(hole.stop);
    const connecting = RemotingConnection.connect(hole.address, {
      connectTimeoutMs: 5000,
      signal: AbortSignal.timeout(50),
    });
    await assert.rejects(connecting, rejectsWith('RMQ_ABORTED'));
  });

  test('addresses are parsed as host:port', async () => {
    assert.deepEqual(parseAddress('127.0.0.1:10911'), { host: '127.0.0.1', port: 10911 });
    assert.deepEqual(parseAddress('[::1]:9876'), { host: '::1', port: 9876 });
    assert.deepEqual(parseAddress('broker-a.local:10911'), { host: 'broker-a.local', port: 10911 });
    for (const bad of ['', 'nohost', ':10911', '127.0.0.1:', '127.0.0.1:0', '127.0.0.1:65536', 'h:1.5']) {
      assert.throws(() => parseAddress(bad), rejectsWith('RMQ_CONNECT_FAILED', false, /expected host:port/));
      await assert.rejects(RemotingConnection.connect(bad), rejectsWith('RMQ_CONNECT_FAILED', false));
    }
  });
});
