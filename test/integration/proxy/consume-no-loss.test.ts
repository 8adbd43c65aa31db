/**
 * No loss, no duplicates: N = 10,000 messages published straight to the broker, consumed through our
 * proxy by four official Node SimpleConsumers of one group (receive 32 at a time, ack each), every
 * message accounted for exactly once. Prints the time it took.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { withTimeout } from '../../support/wait.ts';
import { freshGroup, freshTopic, publishDirect } from './consume-support.ts';
import { nodeClient, onCleanup, type ProxyUnderTest, startProxyUnderTest } from './publish-support.ts';

const { SimpleConsumer } = nodeClient;
const N = 10_000;
const CONSUMERS = 4;
const quietLogger = { info() {}, warn() {}, error() {}, debug() {} };

let under: ProxyUnderTest;

before(async () => {
  under = await startProxyUnderTest(['consumer.longPollingMinMs=500']);
});

test(`${N} messages consumed through the proxy exactly once`, { timeout: 300_000 }, async () => {
  const topic = await freshTopic(under, 'rmqp-it-noloss', 8);
  const group = await freshGroup(under, 'rmqp-it-noloss-g');
  const publishStart = Date.now();
  const ids = await publishDirect(under.broker, topic, N, { queues: 8 });
  const publishMs = Date.now() - publishStart;
  assert.equal(new Set(ids).size, N);

  const consumers = await Promise.all(
    Array.from({ length: CONSUMERS }, async () => {
      const consumer = new SimpleConsumer({
        endpoints: under.endpoint,
        namespace: '',
        consumerGroup: group,
        subscriptions: new Map([[topic, '*']]),
        awaitDuration: 2000,
        requestTimeout: 10_000,
        logger: quietLogger,
      });
      onCleanup(() => consumer.shutdown());
      await withTimeout(consumer.startup(), 30_000, 'SimpleConsumer.startup()');
      return consumer;
    }),
  );
  const deliveries = new Map<string, number>();
  const consumeStart = Date.now();
  const deadline = consumeStart + 240_000;
  let idle = 0;
  await Promise.all(
    consumers.map(async (consumer) => {
      while (Date.now() < deadline && (deliveries.size < N || idle < 2)) {
        const batch = await consumer.receive(32, 60_000);
        if (batch.length === 0) {
          if (deliveries.size >= N) idle++;
          continue;
        }
        for (const message of batch)
          deliveries.set(message.messageId, (deliveries.get(message.messageId) ?? 0) + 1);
        await Promise.all(batch.map((message) => consumer.ack(message)));
      }
    }),
  );
  const consumeMs = Date.now() - consumeStart;
  const missing = ids.filter((id) => !deliveries.has(id));
  const duplicated = [...deliveries].filter(([, count]) => count > 1);
  const foreign = [...deliveries.keys()].filter((id) => !ids.includes(id));
  process.stdout.write(
    `# no-loss: published ${N} in ${publishMs} ms, consumed+acked in ${consumeMs} ms (${Math.round((N * 1000) / consumeMs)} msg/s)\n`,
  );
  assert.deepEqual(missing, [], 'every message arrived');
  assert.deepEqual(duplicated, [], 'none arrived twice');
  assert.deepEqual(foreign, []);
});
