/**
 * Shared by the proxy publishing tests: the proxy started in-process against the real peers, the
 * official Node client (logging under a temporary HOME), and read-back straight from the broker over
 * Remoting — a message is found by its UNIQ_KEY among what arrived in the topic's queues since a
 * snapshot, so tests learn where the proxy put it without trusting the proxy's own answer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { type RunningProxy, startProxy } from '../../../proxy/src/cli/serve.ts';
import { resolveConfig } from '../../../proxy/src/config/index.ts';
import { createLogger } from '../../../proxy/src/observability/logger.ts';
import type { RemotingConnection } from '../../../proxy/src/remoting/connection.ts';
import { MessageProperty } from '../../../proxy/src/remoting/message/properties.ts';
import type { StoredMessage } from '../../../proxy/src/remoting/message/stored-message.ts';
import { connect, maxOffset, pull, rocketmq, route } from '../../support/broker.ts';
import { TestClient } from '../../support/grpc-test-client.ts';
import { sleep } from '../../support/wait.ts';

// The Node client logs under $HOME/logs; keep that out of the real home directory.
const home = mkdtempSync(join(tmpdir(), 'rmqp-node-client-'));
process.env['HOME'] = home;
export const nodeClient = await import('rocketmq-client-nodejs');

/** Run after every test of the file, last registered first (registered at load, as node:test needs). */
const cleanups: (() => Promise<void> | void)[] = [];
export function onCleanup(cleanup: () => Promise<void> | void): void {
  cleanups.push(cleanup);
}
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  rmSync(home, { recursive: true, force: true });
});

export interface ProxyUnderTest {
  proxy: RunningProxy;
  endpoint: string;
  raw: TestClient;
  broker: RemotingConnection;
  namesrv: RemotingConnection;
}

export async function startProxyUnderTest(sets: string[] = []): Promise<ProxyUnderTest> {
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
    sets: ['timeouts.brokerRequestMs=10000', 'timeouts.shutdownGraceMs=2000', ...sets],
  });
  const proxy = await startProxy(
    config,
    createLogger((process.env['RMQP_TEST_LOG'] ?? 'silent') as 'silent'),
  );
  const under: ProxyUnderTest = {
    proxy,
    endpoint: `127.0.0.1:${proxy.grpc.port}`,
    raw: new TestClient(proxy.grpc.port, 'plaintext'),
    broker: await connect(rocketmq.brokerAddr),
    namesrv: await connect(rocketmq.namesrvAddr),
  };
  onCleanup(async () => {
    under.raw.close();
    await proxy.close();
  });
  return under;
}

export const rawHeaders = (clientId = 'raw-publisher@1'): Record<string, string> => ({
  'x-mq-client-id': clientId,
  'x-mq-language': 'JAVA',
  'x-mq-protocol': 'v2',
});

/** Max offsets of every queue of a topic (on our single broker). */
export type QueueSnapshot = Map<number, number>;

export async function snapshot(under: ProxyUnderTest, topic: string): Promise<QueueSnapshot> {
  const topicRoute = await route(under.namesrv, topic);
  const queues = topicRoute.queueDatas.reduce((sum, data) => Math.max(sum, data.readQueueNums), 0);
  const offsets: QueueSnapshot = new Map();
  for (let queueId = 0; queueId < queues; queueId++) {
    offsets.set(queueId, await maxOffset(under.broker, topic, queueId));
  }
  return offsets;
}

/** Messages that arrived in the topic since `since`, with the queue each sits in. */
export async function arrivedSince(
  under: ProxyUnderTest,
  topic: string,
  since: QueueSnapshot,
): Promise<(StoredMessage & { queueId: number })[]> {
  const found: (StoredMessage & { queueId: number })[] = [];
  for (const [queueId, offset] of since) {
    let next = offset;
    for (;;) {
      const result = await pull(under.broker, {
        consumerGroup: 'rmqp-it-proxy-reader',
        topic,
        queueId,
        offset: next,
      });
      for (const message of result.messages) found.push(message);
      if (result.status !== 'FOUND' || result.nextBeginOffset <= next) break;
      next = result.nextBeginOffset;
    }
  }
  return found;
}

/** Waits until the message with this UNIQ_KEY arrives in the topic (after `since`). */
export async function readBack(
  under: ProxyUnderTest,
  topic: string,
  since: QueueSnapshot,
  messageId: string,
  timeoutMs = 10_000,
): Promise<StoredMessage & { queueId: number }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await arrivedSince(under, topic, since)).find(
      (message) => message.properties.get(MessageProperty.UNIQ_KEY) === messageId,
    );
    if (found !== undefined) return found;
    if (Date.now() > deadline)
      throw new Error(`message ${messageId} did not arrive in ${topic} within ${timeoutMs} ms`);
    await sleep(100);
  }
}
