/**
 * Consumption with the official Java client (5.2.0) through the endpoint under test, TLS on and off:
 * SimpleConsumer receive / ack / changeInvisibleDuration with a TAG filter, and PushConsumer for normal
 * and FIFO topics (per message group, the listener sees the sent order). Every test gets its own topic
 * and group, so redeliveries or offsets never leak between tests.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TopicMessageType } from '../../proxy/src/remoting/requests/admin.ts';
import { type ConsumedEvent, JavaClient, type ReceivedMessage } from '../harness/java-client.ts';
import { waitForRoutes } from '../harness/topology.ts';
import { connect, createGroup, createTopic, rocketmq, send, uniqueName } from '../support/broker.ts';
import { sleep } from '../support/wait.ts';
import { target } from './support/target.ts';

const { endpoint } = target();

interface Fixture {
  topic: string;
  group: string;
}

async function freshTopic(
  prefix: string,
  messageType: TopicMessageType,
  queues: number,
  orderly = false,
): Promise<Fixture> {
  const topic = uniqueName(`rmqp-e2e-${prefix}`);
  const group = uniqueName(`rmqp-e2e-${prefix}-group`);
  const broker = await connect(rocketmq.brokerAddr);
  await createTopic(broker, { topic, readQueueNums: queues, writeQueueNums: queues, messageType });
  await createGroup(broker, { groupName: group, consumeMessageOrderly: orderly });
  await waitForRoutes(rocketmq.namesrvAddr, [topic]);
  return { topic, group };
}

/** Receives until `count` messages arrived (or `timeoutMs` passed); never acks. */
async function receiveAtLeast(
  java: JavaClient,
  consumer: string,
  count: number,
  timeoutMs: number,
  invisibleMs = 30_000,
): Promise<ReceivedMessage[]> {
  const got: ReceivedMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) {
    got.push(...(await java.receive(consumer, 16, invisibleMs)));
  }
  return got;
}

const text = (message: { body: Buffer }): string => message.body.toString('utf8');

for (const tls of [true, false]) {
  const mode = tls ? 'TLS' : 'plaintext';
  describe(`Java client consumption through the proxy (${mode})`, { timeout: 180_000 }, () => {
    let java: JavaClient;
    before(async () => {
      java = await JavaClient.start();
    });
    after(async () => {
      await java?.close();
    });

    test('SimpleConsumer: TAG filter, ack, changeInvisibleDuration redelivers once the new time passes', async () => {
      const { topic, group } = await freshTopic('simple', 'NORMAL', 2);
      const producer = uniqueName('p');
      await java.startProducer({ producer, endpoint, tls, topics: [topic] });
      const sentA: string[] = [];
      for (let i = 0; i < 6; i++) {
        const tag = i % 2 === 0 ? 'a' : 'b';
        const body = `${tag}-${i}`;
        await java.send(producer, { topic, body: Buffer.from(body), tag });
        if (tag === 'a') sentA.push(body);
      }
      // And one published straight to the broker, bypassing every proxy.
      const broker = await connect(rocketmq.brokerAddr);
      await send(broker, {
        producerGroup: 'rmqp-e2e-direct',
        topic,
        body: Buffer.from('a-direct'),
        tags: 'a',
      });
      sentA.push('a-direct');

      const consumer = uniqueName('c');
      await java.startSimpleConsumer({ consumer, endpoint, tls, group, topic, filter: 'a', awaitMs: 2000 });
      const first = await receiveAtLeast(java, consumer, sentA.length, 40_000);
      assert.deepEqual(first.map(text).sort(), [...sentA].sort(), 'only tag a, each once');
      for (const message of first) assert.equal(message.tag, 'a');

      const [kept, ...rest] = first;
      assert.ok(kept);
      for (const message of rest) await java.ack(consumer, message.messageId);
      const changedAt = Date.now();
      await java.changeInvisibleDuration(consumer, kept.messageId, 3000);

      const again = await receiveAtLeast(java, consumer, 1, 30_000);
      assert.deepEqual(
        again.map((message) => message.messageId),
        [kept.messageId],
        'only the unacked message comes back',
      );
      assert.ok(Date.now() - changedAt >= 2500, 'not before the changed invisible time');
      const redelivered = again[0];
      assert.ok(redelivered);
      assert.equal(text(redelivered), text(kept));
      assert.ok(redelivered.deliveryAttempt > kept.deliveryAttempt, 'a redelivery counts as a new attempt');
      await java.ack(consumer, redelivered.messageId);

      // Acked messages stay consumed: nothing more for this group within a few long polls.
      const after = await receiveAtLeast(java, consumer, 1, 5000);
      assert.deepEqual(after.map(text), []);
      await java.closeConsumer(consumer);
      await java.closeProducer(producer);
    });

    test('PushConsumer: every message of a normal topic reaches the listener', async () => {
      const { topic, group } = await freshTopic('push', 'NORMAL', 4);
      const producer = uniqueName('p');
      await java.startProducer({ producer, endpoint, tls, topics: [topic] });
      const consumer = uniqueName('push');
      await java.startPushConsumer({ consumer, endpoint, tls, group, topic });
      const sent = new Set<string>();
      for (let i = 0; i < 10; i++) {
        const body = `push-${i}`;
        await java.send(producer, { topic, body: Buffer.from(body), tag: 't' });
        sent.add(body);
      }
      const mine = (events: readonly ConsumedEvent[]): ConsumedEvent[] =>
        events.filter((event) => event.consumer === consumer);
      const seen = await java.waitForConsumed(
        (events) => new Set(mine(events).map(text)).size >= sent.size,
        60_000,
      );
      assert.deepEqual(new Set(mine(seen).map(text)), sent);
      // Acked by the client after SUCCESS: no redelivery shows up in a few more seconds.
      await sleep(3000);
      assert.equal(mine(java.consumed).length, sent.size, 'each message consumed exactly once');
      await java.closePushConsumer(consumer);
      await java.closeProducer(producer);
    });

    test('PushConsumer FIFO: per message group, listener order equals send order', async () => {
      const { topic, group } = await freshTopic('fifo', 'FIFO', 2, true);
      const producer = uniqueName('p');
      await java.startProducer({ producer, endpoint, tls, topics: [topic] });
      const groups = ['g1', 'g2', 'g3'];
      const sent = new Map<string, string[]>(groups.map((g) => [g, []]));
      // Published before the consumer starts, so a backlog must be delivered in order too.
      for (let i = 0; i < 8; i++) {
        for (const messageGroup of groups) {
          const body = `${messageGroup}-${i}`;
          await java.send(producer, { topic, body: Buffer.from(body), messageGroup });
          sent.get(messageGroup)?.push(body);
        }
      }
      const consumer = uniqueName('fifo');
      await java.startPushConsumer({ consumer, endpoint, tls, group, topic });
      const total = groups.length * 8;
      const seen = await java.waitForConsumed(
        (events) => events.filter((event) => event.consumer === consumer).length >= total,
        90_000,
      );
      const mine = seen.filter((event) => event.consumer === consumer);
      for (const messageGroup of groups) {
        const order = mine.filter((event) => event.messageGroup === messageGroup).map(text);
        assert.deepEqual(order, sent.get(messageGroup), `order of ${messageGroup}`);
      }
      await java.closePushConsumer(consumer);
      await java.closeProducer(producer);
    });
  });
}
