/**
 * The official Node PushConsumer through our proxy: QueryAssignment + long-polled auto-renewed
 * ReceiveMessage. Normal: every message consumed, a failed one redelivered as attempt 2. FIFO (an
 * orderly group): per message group, the order of consumption equals the send order, also when a
 * message fails once and is redelivered.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { eventually, withTimeout } from '../../support/wait.ts';
import { freshGroup, freshTopic, publishDirect } from './consume-support.ts';
import { nodeClient, onCleanup, type ProxyUnderTest, startProxyUnderTest } from './publish-support.ts';

const { PushConsumer, Producer, ConsumeResult } = nodeClient;

let under: ProxyUnderTest;

/** The client's default egg-logger throws once its stream closes, which breaks shutdown() midway. */
const quietLogger = { info() {}, warn() {}, error() {}, debug() {} };

before(async () => {
  // Runs last. The Node client's RpcClientManager starts a 60 s interval per client that shutdown()
  // does not always clear, which keeps this file's process alive after every test passed.
  onCleanup(() => {
    setTimeout(() => process.exit(), 5000).unref();
  });
  under = await startProxyUnderTest();
});

type View = Parameters<ConstructorParameters<typeof PushConsumer>[0]['messageListener']['consume']>[0];

async function pushConsumer(group: string, topic: string, consume: (message: View) => boolean) {
  const consumer = new PushConsumer({
    endpoints: under.endpoint,
    namespace: '',
    consumerGroup: group,
    subscriptions: new Map([[topic, '*']]),
    requestTimeout: 10_000,
    logger: quietLogger,
    messageListener: {
      consume: (message: View) => (consume(message) ? ConsumeResult.SUCCESS : ConsumeResult.FAILURE),
    },
  });
  // shutdown() first waits for its in-flight long poll (up to 20 s); the proxy must outlive it, or its
  // listener waits for the client's open connection.
  onCleanup(() => withTimeout(consumer.shutdown(), 45_000, 'PushConsumer.shutdown()').catch(() => undefined));
  await withTimeout(consumer.startup(), 30_000, 'PushConsumer.startup()');
  return consumer;
}

describe('official Node PushConsumer through the proxy', () => {
  test('normal: every message consumed once; a failed one comes back as attempt 2', async () => {
    const topic = await freshTopic(under, 'rmqp-it-push');
    const group = await freshGroup(under, 'rmqp-it-push-g');
    const seen = new Map<string, number[]>();
    let failedOnce: string | undefined;
    await pushConsumer(group, topic, (message) => {
      seen.set(message.messageId, [...(seen.get(message.messageId) ?? []), message.deliveryAttempt ?? 0]);
      if (failedOnce === undefined) {
        failedOnce = message.messageId;
        return false;
      }
      return true;
    });
    const ids = await publishDirect(under.broker, topic, 50);
    await eventually('every message consumed', { timeoutMs: 60_000, intervalMs: 200 }, async () =>
      ids.every((id) => (seen.get(id) ?? []).length >= (id === failedOnce ? 2 : 1)) ? true : undefined,
    );
    for (const id of ids) {
      assert.deepEqual(seen.get(id), id === failedOnce ? [1, 2] : [1], `deliveries of ${id}`);
    }
  });

  test('FIFO: per message group, consumption order equals send order, across a failure and redelivery', async () => {
    const topic = await freshTopic(under, 'rmqp-it-fifo', 4, 'FIFO');
    const group = await freshGroup(under, 'rmqp-it-fifo-g', { orderly: true, exponentialRetry: true });
    const producer = new Producer({
      endpoints: under.endpoint,
      namespace: '',
      topics: [topic],
      requestTimeout: 10_000,
      logger: quietLogger,
    });
    onCleanup(() => withTimeout(producer.shutdown(), 15_000, 'Producer.shutdown()').catch(() => undefined));
    await withTimeout(producer.startup(), 30_000, 'Producer.startup()');
    const consumed = new Map<string, string[]>();
    let failures = 0;
    await pushConsumer(group, topic, (message) => {
      const body = message.body.toString();
      const list = consumed.get(message.messageGroup ?? '') ?? [];
      list.push(body);
      consumed.set(message.messageGroup ?? '', list);
      if (body === 'g1-3' && failures === 0) {
        failures++;
        return false;
      }
      return true;
    });
    const sent = new Map<string, string[]>();
    for (let i = 0; i < 10; i++) {
      for (const messageGroup of ['g0', 'g1', 'g2']) {
        const body = `${messageGroup}-${i}`;
        await producer.send({ topic, body: Buffer.from(body), messageGroup });
        sent.set(messageGroup, [...(sent.get(messageGroup) ?? []), body]);
      }
    }
    await eventually('every group consumed', { timeoutMs: 60_000, intervalMs: 200 }, async () =>
      [...sent].every(
        ([messageGroup, bodies]) => new Set(consumed.get(messageGroup) ?? []).size === bodies.length,
      )
        ? true
        : undefined,
    );
    for (const [messageGroup, bodies] of sent) {
      const order = consumed.get(messageGroup) ?? [];
      // A redelivery repeats the failed message right away; nothing overtakes it.
      const collapsed = order.filter((body, index) => body !== order[index - 1]);
      assert.deepEqual(collapsed, bodies, `order of ${messageGroup}: ${order.join(',')}`);
    }
    assert.equal(failures, 1);
    assert.equal(
      consumed.get('g1')?.filter((body) => body === 'g1-3').length,
      2,
      'the failed message came back once',
    );
    assert.equal(consumed.get('g1')?.indexOf('g1-4'), 5, 'g1-4 waited for the redelivery of g1-3');
  });
});
