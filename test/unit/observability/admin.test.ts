import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { type RunningAdminServer, startAdminServer } from '../../../proxy/src/observability/admin-server.ts';
import { createLogger } from '../../../proxy/src/observability/logger.ts';
import { createMetrics } from '../../../proxy/src/observability/metrics.ts';
import { anyReachable, cached, tcpReachable } from '../../../proxy/src/observability/probes.ts';

const silent = pino({ level: 'silent' });

async function get(port: number, path: string, method = 'GET') {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: response.status, body: await response.text(), type: response.headers.get('content-type') };
}

describe('admin HTTP server', () => {
  let admin: RunningAdminServer;
  let ready = false;
  const metrics = createMetrics();
  before(async () => {
    admin = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      registry: metrics.registry,
      readiness: { 'grpc-listening': () => true, flag: () => ready },
      logger: silent,
    });
  });
  after(() => admin.close());

  test('/livez answers 200 while the process runs', async () => {
    const response = await get(admin.port, '/livez');
    assert.equal(response.status, 200);
    assert.equal(response.body, 'ok\n');
  });

  test('/readyz follows the readiness predicates and lists each one', async () => {
    ready = false;
    const notReady = await get(admin.port, '/readyz');
    assert.equal(notReady.status, 503);
    assert.match(notReady.body, /\[\+\] grpc-listening ok/);
    assert.match(notReady.body, /\[-\] flag failed/);
    ready = true;
    const nowReady = await get(admin.port, '/readyz');
    assert.equal(nowReady.status, 200);
    assert.match(nowReady.body, /ready\n$/);
  });

  test('/metrics serves Prometheus text with process metrics and rocketmq_proxy_up', async () => {
    const response = await get(admin.port, '/metrics');
    assert.equal(response.status, 200);
    assert.match(response.type ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(response.body, /^process_cpu_user_seconds_total \d/m);
    assert.match(response.body, /^rocketmq_proxy_up 1$/m);
  });

  test('unknown paths are 404, other methods 405, HEAD works', async () => {
    assert.equal((await get(admin.port, '/nope')).status, 404);
    assert.equal((await get(admin.port, '/livez', 'POST')).status, 405);
    const head = await get(admin.port, '/livez', 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
  });
});

describe('readiness checks that misbehave fail instead of hanging', () => {
  test('a throwing check and a check slower than the timeout both fail /readyz', async () => {
    const admin = await startAdminServer({
      host: '127.0.0.1',
      port: 0,
      registry: createMetrics({ defaultMetrics: false }).registry,
      readiness: {
        throws: () => {
          throw new Error('boom');
        },
        slow: () => new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 2000).unref()),
      },
      checkTimeoutMs: 100,
      logger: silent,
    });
    const started = Date.now();
    const response = await get(admin.port, '/readyz');
    assert.equal(response.status, 503);
    assert.match(response.body, /\[-\] throws failed\n\[-\] slow failed/);
    assert.ok(Date.now() - started < 1500);
    await admin.close();
  });

  test('the admin port refuses to start on a taken port with the listen error', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    await assert.rejects(
      startAdminServer({
        host: '127.0.0.1',
        port,
        registry: createMetrics({ defaultMetrics: false }).registry,
        readiness: {},
        logger: silent,
      }),
      /EADDRINUSE/,
    );
    blocker.close();
  });
});

describe('probes', () => {
  test('tcpReachable: true for a listening port, false for a closed one or a bad address', async () => {
    const listener = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as { port: number }).port;
    assert.equal(await tcpReachable(`127.0.0.1:${port}`, 500), true);
    listener.close();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await tcpReachable(`127.0.0.1:${port}`, 500), false);
    assert.equal(await tcpReachable('not-an-address', 500), false);
    assert.equal(await anyReachable([`127.0.0.1:${port}`, 'bad'], 500), false);
  });

  test('cached reuses an answer within its TTL', async () => {
    let calls = 0;
    let clock = 0;
    const check = cached(
      () => ++calls > 0,
      1000,
      () => clock,
    );
    await check();
    await check();
    assert.equal(calls, 1);
    clock = 1000;
    await check();
    assert.equal(calls, 2);
  });
});

describe('logger', () => {
  test('writes JSON lines at the configured level', () => {
    const lines: string[] = [];
    const logger = createLogger('warn', { write: (line: string) => lines.push(line) });
    logger.info('hidden');
    logger.warn({ key: 'v' }, 'shown');
    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0]!);
    assert.equal(entry.msg, 'shown');
    assert.equal(entry.key, 'v');
    assert.equal(entry.service, 'rocketmq-proxy');
  });
});
