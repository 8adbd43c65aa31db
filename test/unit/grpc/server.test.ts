import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { status as grpcStatus, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { pino } from 'pino';
import type { TlsMode } from '../../../proxy/src/config/schema.ts';
import { parseRequestMetadata } from '../../../proxy/src/grpc/metadata.ts';
import { metricsInterceptor } from '../../../proxy/src/grpc/metrics-interceptor.ts';
import type { apache } from '../../../proxy/src/grpc/protocol.ts';
import { type RunningGrpcServer, startGrpcServer } from '../../../proxy/src/grpc/server.ts';
import type { MessagingHandlers } from '../../../proxy/src/grpc/service-definition.ts';
import { OK_STATUS } from '../../../proxy/src/grpc/status.ts';
import { generateSelfSigned } from '../../../proxy/src/grpc/tls.ts';
import { createMetrics, type ProxyMetrics } from '../../../proxy/src/observability/metrics.ts';
import { TestClient, type Transport } from '../../support/grpc-test-client.ts';

const tls = generateSelfSigned();
const silent = pino({ level: 'silent' });
const MAX_RECEIVE = 64 * 1024;

type QueryRouteResponse = apache.rocketmq.v2.QueryRouteResponse;

/** QueryRoute echoes what the handler saw, so tests can check the request and headers arrived intact. */
function echoQueryRoute(
  call: ServerUnaryCall<
    apache.rocketmq.v2.QueryRouteRequest,
    apache.rocketmq.v2.QueryRouteResponse.$Properties
  >,
  callback: sendUnaryData<apache.rocketmq.v2.QueryRouteResponse.$Properties>,
) {
  const headers = parseRequestMetadata(call.metadata);
  const seen = {
    topic: call.request.topic?.name,
    clientId: headers.clientId,
    internal: call.metadata.get('rpc-remote-address').length + call.metadata.get('x-mq-channel-id').length,
  };
  callback(null, { status: { ...OK_STATUS, message: JSON.stringify(seen) } });
}

async function start(mode: TlsMode, metrics?: ProxyMetrics): Promise<RunningGrpcServer> {
  const handlers: Partial<MessagingHandlers> = { QueryRoute: echoQueryRoute };
  return startGrpcServer({
    host: '127.0.0.1',
    port: 0,
    tlsMode: mode,
    ...(mode === 'disabled' ? {} : { tls }),
    handlers,
    maxReceiveMessageBytes: MAX_RECEIVE,
    idleTimeoutMs: 60_000,
    ...(metrics ? { interceptors: [metricsInterceptor(metrics)] } : {}),
    logger: silent,
  });
}

async function queryRoute(
  port: number,
  transport: Transport,
  headers: Record<string, string> = { 'x-mq-client-id': 'c1' },
) {
  const client = new TestClient(port, transport, tls.certPem);
  try {
    return await client.unary<QueryRouteResponse>('QueryRoute', { topic: { name: 'TopicA' } }, headers, 2000);
  } finally {
    client.close();
  }
}

describe('permissive: TLS and plaintext on one port', () => {
  let server: RunningGrpcServer;
  const metrics = createMetrics({ defaultMetrics: false });
  before(async () => {
    server = await start('permissive', metrics);
  });
  after(() => server.close(1000));

  for (const transport of ['plaintext', 'tls-verify', 'tls-insecure'] as const) {
    test(`a ${transport} client reaches the service`, async () => {
      const { error, response } = await queryRoute(server.port, transport);
      assert.equal(error, undefined, error?.message);
      assert.equal(response?.status?.code, 20000);
      assert.deepEqual(JSON.parse(response?.status?.message ?? ''), {
        topic: 'TopicA',
        clientId: 'c1',
        internal: 0,
      });
    });
  }

  test('connections were routed by their first byte', () => {
    assert.ok(server.connections.plaintext >= 1);
    assert.ok(server.connections.tls >= 2);
    assert.equal(server.connections.refused, 0);
  });

  test('proxy-internal headers sent by a client never reach the handler', async () => {
    const { response } = await queryRoute(server.port, 'plaintext', {
      'x-mq-client-id': 'c2',
      'rpc-remote-address': '6.6.6.6:1',
      'x-mq-channel-id': '99',
    });
    assert.equal(JSON.parse(response?.status?.message ?? '').internal, 0);
  });

  test('an oversized request is refused with RESOURCE_EXHAUSTED from its length prefix', async () => {
    const client = new TestClient(server.port, 'plaintext');
    const { error } = await client.unary(
      'QueryRoute',
      { topic: { name: 'x'.repeat(MAX_RECEIVE + 1) } },
      {},
      3000,
    );
    client.close();
    assert.equal(error?.code, grpcStatus.RESOURCE_EXHAUSTED);
    assert.match(error?.details ?? '', /larger than max/);
  });

  test('a method without a handler answers UNIMPLEMENTED naming it, for unary, server-stream and bidi', async () => {
    const client = new TestClient(server.port, 'tls-insecure');
    const unary = await client.unary('SendMessage', { messages: [] });
    assert.equal(unary.error?.code, grpcStatus.UNIMPLEMENTED);
    assert.match(unary.error?.details ?? '', /SendMessage/);
    const stream = await client.streamError('ReceiveMessage', {});
    assert.equal(stream?.code, grpcStatus.UNIMPLEMENTED);
    assert.match(stream?.details ?? '', /ReceiveMessage/);
    const bidi = await client.streamError('Telemetry', undefined);
    assert.equal(bidi?.code, grpcStatus.UNIMPLEMENTED);
    assert.match(bidi?.details ?? '', /Telemetry/);
    client.close();
  });

  test('the metrics interceptor counted the calls by method, gRPC status and v2 Code', async () => {
    const text = await metrics.registry.metrics();
    assert.match(
      text,
      /rocketmq_proxy_grpc_requests_total\{method="QueryRoute",grpc_code="OK",code="OK"\} [3-9]/,
    );
    assert.match(
      text,
      /rocketmq_proxy_grpc_requests_total\{method="SendMessage",grpc_code="UNIMPLEMENTED",code="none"\} 1/,
    );
    assert.match(
      text,
      /rocketmq_proxy_grpc_request_duration_seconds_count\{method="QueryRoute",grpc_code="OK"\} [3-9]/,
    );
  });
});

describe('enforcing: TLS only', () => {
  let server: RunningGrpcServer;
  before(async () => {
    server = await start('enforcing');
  });
  after(() => server.close(1000));

  test('TLS clients connect', async () => {
    const { error } = await queryRoute(server.port, 'tls-verify');
    assert.equal(error, undefined);
  });

  test('plaintext clients are refused (UNAVAILABLE) and counted', async () => {
    const { error } = await queryRoute(server.port, 'plaintext');
    assert.equal(error?.code, grpcStatus.UNAVAILABLE);
    assert.ok(server.connections.refused >= 1);
    assert.equal(server.connections.plaintext, 0);
  });
});

describe('disabled: plaintext only', () => {
  let server: RunningGrpcServer;
  before(async () => {
    server = await start('disabled');
  });
  after(() => server.close(1000));

  test('plaintext clients connect', async () => {
    const { error } = await queryRoute(server.port, 'plaintext');
    assert.equal(error, undefined);
  });

  test('TLS clients are refused (UNAVAILABLE) and counted', async () => {
    const { error } = await queryRoute(server.port, 'tls-insecure');
    assert.equal(error?.code, grpcStatus.UNAVAILABLE);
    assert.ok(server.connections.refused >= 1);
    assert.equal(server.connections.tls, 0);
  });

  test('a TLS mode other than disabled needs TLS material', async () => {
    await assert.rejects(
      startGrpcServer({
        host: '127.0.0.1',
        port: 0,
        tlsMode: 'permissive',
        handlers: {},
        maxReceiveMessageBytes: 1024,
        idleTimeoutMs: 1000,
        logger: silent,
      }),
      /needs TLS material/,
    );
  });
});

describe('connection hygiene', () => {
  test('a connection that never sends a byte is closed after the first-byte timeout', async () => {
    const server = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      tlsMode: 'disabled',
      handlers: {},
      maxReceiveMessageBytes: 1024,
      idleTimeoutMs: 1000,
      logger: silent,
      firstByteTimeoutMs: 100,
    });
    const started = Date.now();
    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: server.port });
      socket.on('error', reject);
      socket.on('close', () => resolve());
    });
    assert.ok(Date.now() - started < 2000);
    await server.close(100);
  });

  test('garbage that is neither TLS nor HTTP/2 is dropped without disturbing the server', async () => {
    const server = await start('permissive');
    await new Promise<void>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port: server.port }, () =>
        socket.write('GET / HTTP/1.1\r\n\r\n'),
      );
      socket.on('error', () => resolve());
      socket.on('close', () => resolve());
      socket.resume();
    });
    const { error } = await queryRoute(server.port, 'plaintext');
    assert.equal(error, undefined);
    await server.close(100);
  });

  test('close() stops accepting and resolves even with an idle client connected', async () => {
    const server = await start('permissive');
    const client = new TestClient(server.port, 'plaintext');
    await client.unary('QueryRoute', { topic: { name: 'T' } }, { 'x-mq-client-id': 'c' });
    await server.close(500);
    assert.equal(server.isListening(), false);
    const { error } = await client.unary('QueryRoute', { topic: { name: 'T' } }, {}, 1000);
    assert.ok(error, 'calls after close fail');
    client.close();
  });
});

describe('long client deadlines', () => {
  test('a deadline past 2^31 ms (the Java client opens Telemetry so) does not expire at once', async () => {
    // A handler that answers after 200 ms: grpc-js alone wraps a 30-day deadline to a negative timer
    // and fails the call with DEADLINE_EXCEEDED after 1 ms.
    const slowQueryRoute: typeof echoQueryRoute = (call, callback) => {
      setTimeout(() => echoQueryRoute(call, callback), 200);
    };
    const server = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      tlsMode: 'disabled',
      handlers: { QueryRoute: slowQueryRoute },
      maxReceiveMessageBytes: MAX_RECEIVE,
      idleTimeoutMs: 60_000,
      logger: silent,
    });
    const client = new TestClient(server.port, 'plaintext');
    try {
      const thirtyDays = 30 * 24 * 3600 * 1000;
      const { error, response } = await client.unary<QueryRouteResponse>(
        'QueryRoute',
        { topic: { name: 'TopicA' } },
        { 'x-mq-client-id': 'c1' },
        thirtyDays,
      );
      assert.equal(error, undefined, error?.message);
      assert.equal(response?.status?.code, 20000);
    } finally {
      client.close();
      await server.close(1000);
    }
  });
});
