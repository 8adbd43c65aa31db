/**
 * The proxy core against the real NameServer + Broker, through the real proxy started in-process:
 * the official Node client's start-up handshake (QueryRoute + Telemetry Settings) and shutdown
 * (NotifyClientTermination), consumer settings for an orderly group, broker registration of groups,
 * and the specific Codes for bad requests, checked with raw grpc-js calls.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { type RunningProxy, startProxy } from '../../../proxy/src/cli/serve.ts';
import { resolveConfig } from '../../../proxy/src/config/index.ts';
import { v2 } from '../../../proxy/src/grpc/protocol.ts';
import { millisOf } from '../../../proxy/src/grpc/settings.ts';
import { createLogger } from '../../../proxy/src/observability/logger.ts';
import { RequestCode } from '../../../proxy/src/remoting/codes.ts';
import { expectArray, expectObject, parseFastjson } from '../../../proxy/src/remoting/fastjson.ts';
import { extFields } from '../../../proxy/src/remoting/requests/ext-fields.ts';
import { GROUPS, TOPIC_LAYOUT, TOPICS } from '../../harness/env.ts';
import { connect, rocketmq } from '../../support/broker.ts';
import { TestClient } from '../../support/grpc-test-client.ts';
import { eventually, withTimeout } from '../../support/wait.ts';

// The Node client logs under $HOME/logs; keep that out of the real home directory.
const home = mkdtempSync(join(tmpdir(), 'rmqp-node-client-'));
process.env['HOME'] = home;
const { Producer, SimpleConsumer } = await import('rocketmq-client-nodejs');

let proxy: RunningProxy;
let client: TestClient;
let endpoint: string;

const CLIENT_ID = 'raw-test-client@1';
const headers = (clientId = CLIENT_ID) => ({
  'x-mq-client-id': clientId,
  'x-mq-language': 'HTTP',
  'x-mq-protocol': 'v2',
});

interface WithStatus {
  status?: { code?: number; message?: string };
}

before(async () => {
  const { config } = resolveConfig({
    flags: {
      'namesrv.addresses': rocketmq.namesrvAddr,
      'listen.host': '127.0.0.1',
      'listen.port': '0',
      'admin.host': '127.0.0.1',
      'admin.port': '0',
      'tls.mode': 'disabled',
      'log.level': 'silent',
    },
    sets: ['timeouts.brokerRequestMs=10000', 'timeouts.shutdownGraceMs=2000'],
  });
  proxy = await startProxy(config, createLogger('silent'));
  endpoint = `127.0.0.1:${proxy.grpc.port}`;
  client = new TestClient(proxy.grpc.port, 'plaintext');
});

after(async () => {
  client?.close();
  await proxy?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('official Node client through the proxy', () => {
  test('a Producer with a topic of every type starts (QueryRoute + Settings) and shuts down (NotifyClientTermination)', async () => {
    const topics = Object.values(TOPICS);
    const producer = new Producer({ endpoints: endpoint, namespace: '', topics, requestTimeout: 10_000 });
    try {
      await withTimeout(producer.startup(), 30_000, 'Producer.startup()');
    } catch (error) {
      await producer.shutdown().catch(() => undefined);
      throw error;
    }
    const sessions = [...proxy.core.registry.sessions()].filter((session) => session.kind === 'PRODUCER');
    assert.equal(sessions.length, 1);
    const session = sessions[0]!;
    assert.deepEqual([...session.producerGroups].sort(), [...topics].sort());
    assert.equal(session.language, 'HTTP');
    assert.equal(session.channel?.isOpen(), true, 'the Telemetry stream is bound to the client');
    assert.equal(proxy.core.registry.channelFor(TOPICS.transaction)?.clientId, session.clientId);
    assert.equal(session.settings.retryPolicy.exponential?.multiplier, 2);
    await producer.shutdown();
    await eventually('the producer to be forgotten', { timeoutMs: 10_000 }, async () =>
      proxy.core.registry.get(session.clientId) === undefined ? true : undefined,
    );
  });

  test('a SimpleConsumer of the orderly group starts and is given fifo settings', async () => {
    const consumer = new SimpleConsumer({
      endpoints: endpoint,
      namespace: '',
      consumerGroup: GROUPS.fifo,
      subscriptions: new Map([[TOPICS.fifo, '*']]),
      requestTimeout: 10_000,
    });
    await withTimeout(consumer.startup(), 30_000, 'SimpleConsumer.startup()');
    try {
      const session = [...proxy.core.registry.sessions()].find((s) => s.consumerGroup === GROUPS.fifo);
      assert.ok(session, 'the consumer is registered');
      assert.equal(session.kind, 'SIMPLE_CONSUMER');
      assert.equal(session.settings.fifo, true);
      assert.equal(session.settings.retryPolicy.maxAttempts, 17);
      assert.deepEqual(session.subscriptions, [
        { topic: TOPICS.fifo, expression: '*', expressionType: 'TAG' },
      ]);

      // The proxy registers the group at the broker under its own client id.
      const broker = await connect(rocketmq.brokerAddr);
      await eventually(
        'the broker to list the proxy as a consumer of the group',
        { timeoutMs: 10_000 },
        async () => {
          const response = await broker.request({
            code: RequestCode.GET_CONSUMER_LIST_BY_GROUP,
            extFields: extFields({ consumerGroup: GROUPS.fifo }),
          });
          if (response.code !== 0 || !response.body) return undefined;
          const ids = expectArray(
            expectObject(parseFastjson(response.body), 'body').get('consumerIdList'),
            'ids',
          );
          return ids.includes(proxy.core.proxyClientId) ? true : undefined;
        },
      );
    } finally {
      await consumer.shutdown();
    }
  });
});

describe('raw gRPC requests', () => {
  test('QueryRoute: every queue points at the proxy, with the topic type and permissions', async () => {
    const { response } = await client.unary<
      WithStatus & {
        messageQueues: {
          id: number;
          permission: number;
          broker: { name: string; endpoints: { addresses: { host: string; port: number }[] } };
          acceptMessageTypes: number[];
        }[];
      }
    >(
      'QueryRoute',
      {
        topic: { name: TOPICS.fifo },
        endpoints: { scheme: v2.AddressScheme.IPv4, addresses: [{ host: '127.0.0.9', port: 18_081 }] },
      },
      headers(),
      10_000,
    );
    assert.equal(response?.status?.code, v2.Code.OK, response?.status?.message);
    const queues = response?.messageQueues ?? [];
    assert.equal(queues.length, TOPIC_LAYOUT.fifo.writeQueueNums);
    for (const queue of queues) {
      // The access point the client was configured with (in the request), not its :authority.
      assert.deepEqual(
        queue.broker.endpoints.addresses.map((address) => ({ ...address })),
        [{ host: '127.0.0.9', port: 18_081 }],
      );
      assert.equal(queue.broker.name, rocketmq.brokerName);
      assert.deepEqual(queue.acceptMessageTypes, [v2.MessageType.FIFO]);
      assert.equal(queue.permission, v2.Permission.READ_WRITE);
    }
    const types = await Promise.all(
      (['normal', 'delay', 'transaction'] as const).map(async (kind) => {
        const result = await client.unary<{ messageQueues: { acceptMessageTypes: number[] }[] }>(
          'QueryRoute',
          { topic: { name: TOPICS[kind] } },
          headers(),
          10_000,
        );
        return result.response?.messageQueues[0]?.acceptMessageTypes;
      }),
    );
    assert.deepEqual(types, [[v2.MessageType.NORMAL], [v2.MessageType.DELAY], [v2.MessageType.TRANSACTION]]);
  });

  test('QueryRoute errors: missing topic, missing client id, blank and illegal names, system topic', async () => {
    const code = async (request: object, h: Record<string, string> = headers()) => {
      const { response, error } = await client.unary<WithStatus>('QueryRoute', request, h, 10_000);
      assert.equal(error, undefined);
      return response?.status?.code;
    };
    assert.equal(await code({ topic: { name: 'rmqp-no-such-topic' } }), v2.Code.TOPIC_NOT_FOUND);
    assert.equal(
      await code({ topic: { name: TOPICS.normal } }, { 'x-mq-language': 'JAVA' }),
      v2.Code.CLIENT_ID_REQUIRED,
    );
    assert.equal(await code({ topic: { name: '' } }), v2.Code.ILLEGAL_TOPIC);
    assert.equal(await code({}), v2.Code.ILLEGAL_TOPIC);
    assert.equal(await code({ topic: { name: 'bad topic!' } }), v2.Code.ILLEGAL_TOPIC);
    assert.equal(await code({ topic: { name: 'x'.repeat(128) } }), v2.Code.ILLEGAL_TOPIC);
    assert.equal(await code({ topic: { name: 'RMQ_SYS_TRANS_HALF_TOPIC' } }), v2.Code.ILLEGAL_TOPIC);
  });

  test('QueryAssignment: one per queue for the orderly group, one per broker otherwise; bad group names', async () => {
    const assign = (group: string) =>
      client.unary<WithStatus & { assignments: { messageQueue: { id: number } }[] }>(
        'QueryAssignment',
        { topic: { name: TOPICS.fifo }, group: { name: group } },
        headers(),
        10_000,
      );
    const fifo = (await assign(GROUPS.fifo)).response;
    assert.equal(fifo?.status?.code, v2.Code.OK);
    assert.deepEqual(
      fifo?.assignments.map((a) => a.messageQueue.id),
      [0, 1, 2, 3].slice(0, TOPIC_LAYOUT.fifo.readQueueNums),
    );
    const normal = (await assign(GROUPS.normal)).response;
    assert.deepEqual(
      normal?.assignments.map((a) => a.messageQueue.id),
      [-1],
    );
    assert.equal((await assign('')).response?.status?.code, v2.Code.ILLEGAL_CONSUMER_GROUP);
    assert.equal((await assign('CID_RMQ_SYS_X')).response?.status?.code, v2.Code.ILLEGAL_CONSUMER_GROUP);
  });

  test('Heartbeat and NotifyClientTermination need settings first: UNRECOGNIZED_CLIENT_TYPE', async () => {
    const heartbeat = await client.unary<WithStatus>(
      'Heartbeat',
      { clientType: v2.ClientType.PRODUCER },
      headers('nobody@1'),
    );
    assert.equal(heartbeat.response?.status?.code, v2.Code.UNRECOGNIZED_CLIENT_TYPE);
    const bye = await client.unary<WithStatus>('NotifyClientTermination', {}, headers('nobody@1'));
    assert.equal(bye.response?.status?.code, v2.Code.UNRECOGNIZED_CLIENT_TYPE);
  });

  test('Telemetry: settings get the full reply; no publishing/subscription ends the stream INVALID_ARGUMENT', async () => {
    const reply = await telemetry(
      {
        settings: {
          clientType: v2.ClientType.PUSH_CONSUMER,
          subscription: {
            group: { name: GROUPS.normal },
            subscriptions: [
              { topic: { name: TOPICS.normal }, expression: { type: v2.FilterType.TAG, expression: '*' } },
            ],
          },
        },
      },
      'raw-consumer@1',
    );
    assert.equal(reply.command?.status?.code, v2.Code.OK);
    assert.equal(reply.command?.settings?.subscription?.fifo, false);
    assert.equal(reply.command?.settings?.subscription?.receiveBatchSize, 32);
    assert.equal(millisOf(reply.command?.settings?.subscription?.longPollingTimeout), 20_000);
    const heartbeat = await client.unary<WithStatus>(
      'Heartbeat',
      { group: { name: GROUPS.normal } },
      headers('raw-consumer@1'),
    );
    assert.equal(heartbeat.response?.status?.code, v2.Code.OK);
    const bye = await client.unary<WithStatus>(
      'NotifyClientTermination',
      { group: { name: GROUPS.normal } },
      headers('raw-consumer@1'),
    );
    assert.equal(bye.response?.status?.code, v2.Code.OK);

    const empty = await telemetry({ settings: { clientType: v2.ClientType.PRODUCER } }, 'raw-empty@1');
    assert.equal(empty.error?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(empty.error?.details ?? '', /no publishing or subscription/);

    const badTopic = await telemetry(
      { settings: { clientType: v2.ClientType.PRODUCER, publishing: { topics: [{ name: 'a b' }] } } },
      'raw-bad@1',
    );
    assert.equal(badTopic.error?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(badTopic.error?.details ?? '', /ILLEGAL_TOPIC/);

    const anonymous = await telemetry(
      { settings: { clientType: v2.ClientType.PRODUCER, publishing: { topics: [] } } },
      '',
    );
    assert.equal(anonymous.command?.status?.code, v2.Code.CLIENT_ID_REQUIRED);
  });
});

interface TelemetryOutcome {
  command?: InstanceType<typeof v2.TelemetryCommand>;
  error?: grpc.ServiceError;
}

/** Opens a Telemetry stream, sends one command and resolves with the first reply or the stream's error. */
function telemetry(command: object, clientId: string): Promise<TelemetryOutcome> {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(headers(clientId))) if (value !== '') metadata.set(key, value);
  const call = client.raw['Telemetry']!(metadata, {
    deadline: Date.now() + 10_000,
  }) as grpc.ClientDuplexStream<object, InstanceType<typeof v2.TelemetryCommand>>;
  return new Promise((resolve) => {
    call.on('data', (reply: InstanceType<typeof v2.TelemetryCommand>) => {
      resolve({ command: reply });
      call.end();
    });
    call.on('error', (error: grpc.ServiceError) => resolve({ error }));
    call.on('end', () => resolve({}));
    call.write(command);
  });
}
