/**
 * RemotingConnection.adopt: the protocol over a socket a real net.Server accepted (what a Remoting
 * ingress does), talking to a real dialed RemotingConnection or, where the test needs a peer that
 * misbehaves on purpose (stops reading), to a raw socket.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type ServerOpts, Socket } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { setImmediate as nextMacrotask, setTimeout as sleep } from 'node:timers/promises';
import { ResponseCode } from '../../../proxy/src/remoting/codes.ts';
import { FLAG_ONEWAY, FLAG_RESPONSE, type RemotingCommand } from '../../../proxy/src/remoting/command.ts';
import {
  type ConnectOptions,
  type ProtocolOptions,
  parseAddress,
  RemotingConnection,
  type RemotingLogger,
} from '../../../proxy/src/remoting/connection.ts';
import { RemotingError, type RemotingErrorCode } from '../../../proxy/src/remoting/errors.ts';
import { decodeFrame, encodeFrame, FrameReader } from '../../../proxy/src/remoting/frame.ts';
import { until } from '../../support/wait.ts';

/** A net.Server on 127.0.0.1 whose accepted sockets become adopted connections. */
async function listen(t: TestContext, options: ProtocolOptions = {}, serverOptions: ServerOpts = {}) {
  const accepted: RemotingConnection[] = [];
  const arrivals: (() => void)[] = [];
  const server = createServer(serverOptions, (socket) => {
    accepted.push(RemotingConnection.adopt(socket, options));
    for (const arrived of arrivals.splice(0)) arrived();
  });
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('not listening');
  t.after(async () => {
    for (const connection of accepted) connection.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    address: `127.0.0.1:${address.port}`,
    port: address.port,
    /** The index-th adopted connection, waiting for it if needed. */
    async accepted(index = 0): Promise<RemotingConnection> {
      while (accepted.length <= index) await new Promise<void>((resolve) => arrivals.push(resolve));
      return accepted[index]!;
    },
  };
}

/** An adopted server-side connection and the real client connected to it. */
async function pair(
  t: TestContext,
  options: ProtocolOptions = {},
  clientOptions: ConnectOptions = {},
  serverOptions: ServerOpts = {},
) {
  const listener = await listen(t, options, serverOptions);
  const client = await RemotingConnection.connect(listener.address, clientOptions);
  t.after(() => client.destroy());
  return { listener, client, server: await listener.accepted() };
}

function rejectsWith(code: RemotingErrorCode, message?: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof RemotingError, `expected a RemotingError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  };
}

/** A logger that keeps its messages, to see what a connection dropped. */
function recordingLogger(): RemotingLogger & { messages: string[] } {
  const messages: string[] = [];
  const record = (_fields: Record<string, unknown>, message: string): void => {
    messages.push(message);
  };
  return { messages, debug: record, warn: record, error: record };
}

/** A promise with its resolve, to hold a handler until the test lets it go. */
function gate(): { promise: Promise<void>; open: () => void } {
  const { promise, resolve } = Promise.withResolvers<void>();
  return { promise, open: () => resolve() };
}

/** A raw TCP peer speaking frames by hand, for behaviour a well-behaved connection never shows. */
async function rawPeer(port: number) {
  const socket = connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const reader = new FrameReader();
  const received: RemotingCommand[] = [];
  const onFrame: ((command: RemotingCommand) => void)[] = [];
  socket.on('data', (chunk: Buffer) => {
    for (const frame of reader.push(chunk)) {
      const command = decodeFrame(frame);
      received.push(command);
      for (const listener of onFrame) listener(command);
    }
  });
  socket.on('error', () => {});
  return {
    socket,
    received,
    onFrame,
    send(command: RemotingCommand): boolean {
      return socket.write(encodeFrame(command, 'JSON'));
    },
  };
}

function command(code: number, opaque: number, flag = 0, body?: Buffer): RemotingCommand {
  return { code, language: 'JAVA', version: 479, opaque, flag, body };
}

describe('an adopted connection', () => {
  test('is open, is named after the peer and answers its requests through handlers', async (t) => {
    const { listener, client, server } = await pair(t);
    assert.equal(server.state, 'open');
    assert.match(server.address, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(server.address, listener.address, "the peer's port, not ours");
    const seen: RemotingConnection[] = [];
    server.onRequest(11, (request, on) => {
      seen.push(on);
      return { code: 0, remark: 'served', extFields: { got: request.extFields!.n! }, body: request.body };
    });
    const response = await client.request({ code: 11, extFields: { n: '7' }, body: Buffer.from('hi') });
    assert.equal(response.code, 0);
    assert.equal(response.remark, 'served');
    assert.deepEqual(response.extFields, { got: '7' });
    assert.equal(response.body?.toString(), 'hi');
    assert.deepEqual(seen, [server]);
    assert.equal(server.peerRequestsInFlight, 0);
  });

  test('names an IPv6 peer [host]:port, as parseAddress reads it', async (t) => {
    let adopted: RemotingConnection | undefined;
    const server = createServer((socket) => {
      adopted = RemotingConnection.adopt(socket);
    });
    const listening = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen({ host: '::1', port: 0 }, () => resolve(true));
    });
    if (!listening) {
      t.skip('no IPv6 loopback on this machine');
      return;
    }
    t.after(() => server.close());
    const address = server.address();
    assert.ok(address !== null && typeof address !== 'string');
    const client = await RemotingConnection.connect(`[::1]:${address.port}`);
    t.after(() => {
      client.destroy();
      adopted?.destroy();
    });
    await until('the adopt', () => adopted !== undefined);
    assert.match(adopted!.address, /^\[::1\]:\d+$/);
    assert.equal(parseAddress(adopted!.address).host, '::1');
  });

  test('takes over a socket the server handed over paused', async (t) => {
    const { client, server } = await pair(t, {}, {}, { pauseOnConnect: true });
    server.onRequest(11, () => ({ code: 0, remark: 'read after all' }));
    assert.equal((await client.request({ code: 11 })).remark, 'read after all');
  });

  test('answers unknown request codes with REQUEST_CODE_NOT_SUPPORTED', async (t) => {
    const { client } = await pair(t);
    const response = await client.request({ code: 12345 });
    assert.equal(response.code, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    assert.match(response.remark ?? '', /12345 not supported/);
  });

  test('a socket that closed before adopt gives a closed connection; an unconnected one is refused', async (t) => {
    let adopted: RemotingConnection | undefined;
    const server = createServer((socket) => {
      // Adopted only after 'close' was emitted, so the connection cannot wait for that event.
      socket.once('close', () => {
        adopted = RemotingConnection.adopt(socket);
      });
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
    t.after(() => server.close());
    const address = server.address();
    assert.ok(address !== null && typeof address !== 'string');
    const socket = connect({ host: '127.0.0.1', port: address.port });
    socket.on('error', () => {});
    t.after(() => socket.destroy());
    await until('the adopt', () => adopted !== undefined);
    assert.equal(adopted!.state, 'closed');
    assert.equal((await adopted!.closed)?.code, 'RMQ_CONNECTION_CLOSED');
    await assert.rejects(adopted!.request({ code: 11 }), rejectsWith('RMQ_CONNECTION_CLOSED'));

    assert.throws(() => RemotingConnection.adopt(new Socket()), TypeError);
  });
});

describe('requests both ways on one adopted connection', () => {
  test('run at once, and each side gets its own responses by opaque although the opaques collide', async (t) => {
    const { client, server } = await pair(t);
    // Both sides number from 0, so only the response flag and the opaque tell the answers apart.
    const reply = (side: string) => async (request: RemotingCommand) => {
      const i = Number(request.extFields!.i);
      await sleep((i * 7) % 13);
      return { code: 0, extFields: { i: String(i), side } };
    };
    server.onRequest(11, reply('server'));
    client.onRequest(39, reply('client'));
    const count = 200;
    const fromClient = Array.from({ length: count }, (_, i) =>
      client.request({ code: 11, extFields: { i: String(i) } }),
    );
    const fromServer = Array.from({ length: count }, (_, i) =>
      server.request({ code: 39, extFields: { i: String(i) } }),
    );
    assert.equal(server.inFlight, count);
    const [clientAnswers, serverAnswers] = await Promise.all([
      Promise.all(fromClient),
      Promise.all(fromServer),
    ]);
    clientAnswers.forEach((response, i) => {
      assert.deepEqual(response.extFields, { i: String(i), side: 'server' });
      assert.equal(response.opaque, i);
      assert.equal(response.flag & FLAG_RESPONSE, FLAG_RESPONSE);
    });
    serverAnswers.forEach((response, i) => {
      assert.deepEqual(response.extFields, { i: String(i), side: 'client' });
      assert.equal(response.opaque, i);
    });
    assert.equal(server.inFlight, 0);
    assert.equal(client.inFlight, 0);
    assert.equal(server.peerRequestsInFlight, 0);
  });

  test('requests to the peer are bounded by maxInFlight and time out like a client’s', async (t) => {
    const { client, server } = await pair(t, { maxInFlight: 2, requestTimeoutMs: 60 });
    const held = gate();
    client.onRequest(39, async () => {
      await held.promise;
      return { code: 0, remark: 'late' };
    });
    const first = server.request({ code: 39 });
    const second = server.request({ code: 39 });
    await assert.rejects(server.request({ code: 39 }), rejectsWith('RMQ_TOO_MANY_IN_FLIGHT'));
    await assert.rejects(first, rejectsWith('RMQ_TIMEOUT', /timed out after 60 ms/));
    await assert.rejects(second, rejectsWith('RMQ_TIMEOUT'));
    held.open();
    // The late answers are dropped, and the connection carries on.
    client.onRequest(40, () => ({ code: 0, remark: 'now' }));
    assert.equal((await server.request({ code: 40 })).remark, 'now');
    assert.equal(server.state, 'open');
  });

  test('oneway requests run the handler on either side and get no reply, whatever it returns', async (t) => {
    const clientLog = recordingLogger();
    const serverLog = recordingLogger();
    const { client, server } = await pair(t, { logger: serverLog }, { logger: clientLog });
    const onServer: RemotingCommand[] = [];
    const onClient: RemotingCommand[] = [];
    server.onRequest(40, (request) => {
      onServer.push(request);
      return { code: 0, remark: 'must not be sent' };
    });
    client.onRequest(40, async (request) => {
      onClient.push(request);
      return { code: 0, remark: 'must not be sent' };
    });
    await client.oneway({ code: 40, extFields: { from: 'client' } });
    await server.oneway({ code: 40, extFields: { from: 'server' } });
    // A round trip each way after them: any reply to a oneway would have arrived before these.
    server.onRequest(11, () => ({ code: 0 }));
    client.onRequest(11, () => ({ code: 0 }));
    await until('both oneway handlers', () => onServer.length === 1 && onClient.length === 1);
    await client.request({ code: 11 });
    await server.request({ code: 11 });
    assert.equal(onServer[0]!.flag & FLAG_ONEWAY, FLAG_ONEWAY);
    assert.deepEqual(onServer[0]!.extFields, { from: 'client' });
    assert.deepEqual(onClient[0]!.extFields, { from: 'server' });
    for (const log of [clientLog, serverLog]) {
      assert.deepEqual(
        log.messages.filter((message) => message.startsWith('dropped a response')),
        [],
        'no side received a response to a oneway request',
      );
    }
    assert.equal(server.peerRequestsInFlight, 0);
  });
});

describe('closing an adopted connection', () => {
  test('close() waits for replies being served and for responses to its own requests, then both sides close', async (t) => {
    const { client, server } = await pair(t);
    const serving = gate();
    const answering = gate();
    let started = 0;
    server.onRequest(11, async () => {
      started++;
      await serving.promise;
      return { code: 0, remark: 'served' };
    });
    client.onRequest(39, async () => {
      started++;
      await answering.promise;
      return { code: 0, remark: 'answered' };
    });
    const fromClient = client.request({ code: 11 }, { timeoutMs: 10_000 });
    const fromServer = server.request({ code: 39 }, { timeoutMs: 10_000 });
    await until('both handlers', () => started === 2);

    const closing = server.close(5000);
    assert.equal(server.state, 'closing');
    await assert.rejects(server.request({ code: 39 }), rejectsWith('RMQ_CONNECTION_CLOSED'));
    await sleep(30);
    assert.equal(client.state, 'open', 'no FIN while the server awaits a response');
    answering.open();
    assert.equal((await fromServer).remark, 'answered');
    await sleep(30);
    assert.equal(client.state, 'open', 'no FIN while the server still owes a reply');
    serving.open();
    assert.equal((await fromClient).remark, 'served');
    await closing;
    assert.equal(await server.closed, undefined, 'closed cleanly');
    assert.equal((await client.closed)?.code, 'RMQ_CONNECTION_CLOSED');
    assert.match((await client.closed)?.message ?? '', /closed by peer/);
  });

  test('close() gives up at its deadline on a handler that never finishes', async (t) => {
    const { client, server } = await pair(t);
    server.onRequest(11, () => new Promise<undefined>(() => {}));
    const pending = client.request({ code: 11 }, { timeoutMs: 10_000 });
    await until('the handler', () => server.peerRequestsInFlight === 1);
    const started = performance.now();
    await server.close(60);
    assert.ok(performance.now() - started >= 55, 'waited for the deadline');
    assert.equal((await server.closed)?.code, 'RMQ_CONNECTION_CLOSED');
    await assert.rejects(pending, rejectsWith('RMQ_CONNECTION_CLOSED'));
  });

  test('the peer closing fails the requests the adopted side awaits', async (t) => {
    const { client, server } = await pair(t);
    client.onRequest(39, () => new Promise<undefined>(() => {}));
    const pending = [1, 2].map(() => server.request({ code: 39 }, { timeoutMs: 10_000 }));
    await until('the requests', () => server.inFlight === 2);
    await sleep(20);
    client.destroy();
    for (const request of pending) await assert.rejects(request, rejectsWith('RMQ_CONNECTION_CLOSED'));
    assert.equal((await server.closed)?.code, 'RMQ_CONNECTION_CLOSED');
    assert.equal(server.state, 'closed');
  });
});

describe('limits on an adopted connection', () => {
  test('a frame over its cap closes that connection alone with RMQ_FRAME_TOO_LARGE', async (t) => {
    const listener = await listen(t, { maxFrameBytes: 1024 });
    const big = await RemotingConnection.connect(listener.address);
    const small = await RemotingConnection.connect(listener.address);
    t.after(() => {
      big.destroy();
      small.destroy();
    });
    const [first, second] = [await listener.accepted(0), await listener.accepted(1)];
    let handled = 0;
    for (const server of [first, second]) {
      server.onRequest(11, () => {
        handled++;
        return { code: 0 };
      });
    }
    await assert.rejects(
      big.request({ code: 11, body: Buffer.alloc(2048) }),
      rejectsWith('RMQ_CONNECTION_CLOSED'),
    );
    const error = await first.closed;
    assert.equal(error?.code, 'RMQ_FRAME_TOO_LARGE');
    assert.match(error?.message ?? '', /exceeds the 1024-byte cap/);
    assert.equal(handled, 0, 'the oversized request never reached a handler');
    assert.equal((await small.request({ code: 11, body: Buffer.alloc(512) })).code, 0);
    assert.equal(second.state, 'open');
  });

  test('a peer that stops reading bounds the buffered bytes by the server’s highWaterMark; sends resume once it reads', async (t) => {
    const highWaterMark = 64 * 1024;
    const listener = await listen(t, { requestTimeoutMs: 20_000 }, { highWaterMark });
    const peer = await rawPeer(listener.port);
    t.after(() => peer.socket.destroy());
    const server = await listener.accepted();
    peer.socket.pause();
    const body = Buffer.alloc(32 * 1024, 7);
    const frameBytes = encodeFrame({ ...command(39, -1), extFields: { n: '99999' }, body }).length;
    const results: Promise<RemotingCommand>[] = [];
    let maxQueuedBytes = 0;
    while (server.queuedFrames < 64 && results.length < 4000) {
      for (let i = 0; i < 16; i++) {
        results.push(server.request({ code: 39, extFields: { n: String(results.length) }, body }));
      }
      await nextMacrotask();
      maxQueuedBytes = Math.max(maxQueuedBytes, server.queuedBytes);
    }
    assert.ok(server.queuedFrames >= 64, `frames wait in the queue (${server.queuedFrames})`);
    assert.ok(
      maxQueuedBytes <= highWaterMark + frameBytes,
      `socket buffered ${maxQueuedBytes} bytes, bound ${highWaterMark} + one ${frameBytes}-byte frame`,
    );
    assert.ok(maxQueuedBytes >= highWaterMark / 2, 'the socket buffer did fill up');

    peer.onFrame.push((request) => {
      peer.send({ ...command(0, request.opaque, FLAG_RESPONSE), extFields: request.extFields });
    });
    peer.socket.resume();
    const responses = await Promise.all(results);
    responses.forEach((response, i) => {
      assert.equal(response.extFields?.n, String(i));
    });
    assert.equal(server.queuedFrames, 0);
  });

  test('at maxPeerRequestsInFlight it stops reading and takes the next request when one finishes', async (t) => {
    const { client, server } = await pair(t, { maxPeerRequestsInFlight: 2 });
    const gates = new Map<string, () => void>();
    const started: string[] = [];
    server.onRequest(11, async (request) => {
      const n = request.extFields!.n!;
      started.push(n);
      const held = gate();
      gates.set(n, held.open);
      await held.promise;
      return { code: 0, extFields: { n } };
    });
    // Written in one flush, so they arrive together and the extra ones wait as already-read frames.
    const results = ['0', '1', '2', '3', '4', '5'].map((n) =>
      client.request({ code: 11, extFields: { n } }, { timeoutMs: 10_000 }),
    );
    await until('two handlers', () => started.length === 2);
    await sleep(30);
    assert.deepEqual(started, ['0', '1'], 'no third request taken while two are served');
    assert.equal(server.peerRequestsInFlight, 2);
    gates.get('1')!();
    assert.equal((await results[1]!).extFields?.n, '1');
    await until('a third handler', () => started.length === 3);
    assert.deepEqual(started, ['0', '1', '2']);
    for (const n of ['0', '2', '3', '4', '5']) {
      await until(`handler ${n}`, () => gates.has(n));
      gates.get(n)!();
    }
    const responses = await Promise.all(results);
    assert.deepEqual(
      responses.map((response) => response.extFields?.n),
      ['0', '1', '2', '3', '4', '5'],
    );
    assert.equal(server.peerRequestsInFlight, 0);
  });

  test('a peer that never reads its replies is held back by TCP: queued replies stay bounded', async (t) => {
    const highWaterMark = 16 * 1024;
    const maxPeerRequestsInFlight = 8;
    const listener = await listen(t, { maxPeerRequestsInFlight }, { highWaterMark });
    const peer = await rawPeer(listener.port);
    t.after(() => peer.socket.destroy());
    const server = await listener.accepted();
    const replyBody = Buffer.alloc(64 * 1024, 1);
    let handled = 0;
    server.onRequest(11, () => {
      handled++;
      return { code: 0, body: replyBody };
    });
    peer.socket.pause();
    const count = 1000;
    for (let i = 0; i < count; i++) peer.send(command(11, i));
    // Replies fill the kernel's buffers and then the socket's; from then on no request is taken.
    let last = -1;
    let stableSince = performance.now();
    await until(
      'the server to stop taking requests',
      () => {
        if (handled !== last) {
          last = handled;
          stableSince = performance.now();
        }
        return handled > 0 && performance.now() - stableSince > 100;
      },
      { timeoutMs: 10_000 },
    );
    await sleep(50);
    assert.ok(handled < count, `the server stopped reading after ${handled} of ${count} requests`);
    assert.equal(handled, last, 'no request taken while the replies wait');
    assert.ok(
      server.peerRequestsInFlight <= maxPeerRequestsInFlight,
      `${server.peerRequestsInFlight} served`,
    );
    assert.ok(server.queuedFrames <= maxPeerRequestsInFlight, `${server.queuedFrames} replies queued`);
    assert.ok(server.queuedBytes <= highWaterMark + replyBody.length + 1024);

    peer.socket.resume();
    await until('every reply', () => peer.received.length === count, { timeoutMs: 20_000 });
    assert.deepEqual(
      peer.received.map((reply) => reply.opaque),
      Array.from({ length: count }, (_, i) => i),
    );
    assert.equal(handled, count);
    assert.equal(server.peerRequestsInFlight, 0);
  });
});

describe('keepalive on an adopted connection', () => {
  test('probes an idle peer; an answering peer stays connected, a silent one is closed', async (t) => {
    const keepAlive = { intervalMs: 40, timeoutMs: 200, request: () => ({ code: 34 }) };
    const { client, server } = await pair(t, { keepAlive });
    let probes = 0;
    client.onRequest(34, () => {
      probes++;
      return { code: 0 };
    });
    await until('two keepalive probes', () => probes >= 2);
    assert.equal(server.state, 'open');

    client.onRequest(34, () => new Promise<undefined>(() => {}));
    const error = await server.closed;
    assert.equal(error?.code, 'RMQ_CONNECTION_CLOSED');
    assert.match(error?.message ?? '', /keepalive/);
  });
});
