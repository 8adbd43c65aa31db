/**
 * The publish scenarios every official client must pass through the endpoint under test: NORMAL, FIFO,
 * DELAY, TRANSACTION (commit, rollback, recovery through the checker) and RecallMessage. Each one sends
 * through the client and reads the stored message back from the broker by PULL, checking what the proxy
 * wrote: body, tag, keys, user properties, message group, delivery time.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { RemotingConnection } from '../../../proxy/src/remoting/connection.ts';
import { MessageProperty } from '../../../proxy/src/remoting/message/properties.ts';
import { TransactionType, transactionTypeOf } from '../../../proxy/src/remoting/message/sysflag.ts';
import { BROKER_TIMINGS } from '../../harness/env.ts';
import { CHECK_RESOLUTION_PROPERTY } from '../../harness/java-client.ts';
import { connect, rocketmq } from '../../support/broker.ts';
import { fifoQueueOf } from './fifo-queue.ts';
import type { Publisher, TestProducer } from './publishers.ts';
import { assertStaysEmpty, type FreshTopic, freshTopic, readBack, stored } from './readback.ts';

/** Longest a half message waits for its first broker check: it must age past the timeout, then a scan runs. */
const FIRST_CHECK_WITHIN_MS = BROKER_TIMINGS.transactionTimeOutMs + BROKER_TIMINGS.transactionCheckIntervalMs;

function userProperties(
  message: { properties: Map<string, string> },
  names: string[],
): Record<string, string> {
  return Object.fromEntries(names.map((name) => [name, message.properties.get(name) ?? '<missing>']));
}

export function publishScenarios(label: string, makePublisher: () => Promise<Publisher>): void {
  describe(`publish through the proxy with the ${label} client`, { concurrency: true }, () => {
    let publisher: Publisher;
    let broker: RemotingConnection;
    const topics: Partial<Record<'normal' | 'fifo' | 'delay' | 'tx' | 'rollback' | 'recall', FreshTopic>> =
      {};
    let producer: TestProducer;

    before(async () => {
      broker = await connect(rocketmq.brokerAddr);
      topics.normal = await freshTopic(broker, 'NORMAL', 4);
      topics.fifo = await freshTopic(broker, 'FIFO', 4);
      topics.delay = await freshTopic(broker, 'DELAY', 2);
      topics.tx = await freshTopic(broker, 'TRANSACTION', 2);
      // Its own topic, so "stays empty" cannot be confused with the other transactions' messages.
      topics.rollback = await freshTopic(broker, 'TRANSACTION', 1);
      topics.recall = await freshTopic(broker, 'DELAY', 1);
      publisher = await makePublisher();
      // One producer for every scenario; transactional messages name their checker answer themselves.
      producer = await publisher.producer(
        Object.values(topics).map((topic) => topic.name),
        'UNKNOWN',
      );
    });

    after(async () => {
      await publisher?.close();
    });

    const topic = (kind: keyof typeof topics): FreshTopic => {
      const found = topics[kind];
      assert.ok(found, `topic ${kind} was not created`);
      return found;
    };

    test('NORMAL: body, tag, keys and user properties are stored as sent', async () => {
      const normal = topic('normal');
      const body = Buffer.concat([Buffer.from('héllo \u0000 '), randomBytes(64)]);
      const properties = { color: 'blue', 'x-trace': 'a=b;c', unicode: 'ünï' };
      const receipt = await producer.send({
        topic: normal.name,
        body,
        tag: 'TagA',
        keys: ['order-1', 'customer-7'],
        properties,
      });
      assert.match(receipt.messageId, /^[0-9A-F]{34}$/, 'a v1 message id: 01 + 16 bytes, upper-case hex');
      const message = stored(await readBack(broker, normal, [receipt.messageId]), receipt.messageId);
      assert.equal(message.topic, normal.name);
      assert.deepEqual(message.body, body);
      assert.equal(message.properties.get(MessageProperty.TAGS), 'TagA');
      assert.equal(message.properties.get(MessageProperty.KEYS), 'order-1 customer-7');
      assert.deepEqual(userProperties(message, Object.keys(properties)), properties);
      assert.equal(message.properties.get(MessageProperty.SHARDING_KEY), undefined);
      assert.equal(message.properties.get(MessageProperty.TIMER_DELIVER_MS), undefined);
      assert.equal(transactionTypeOf(message.sysFlag), TransactionType.NOT);
    });

    test('FIFO: each message group lands in one queue, in send order, with its group stored', async () => {
      const fifo = topic('fifo');
      const groups = ['order-A', 'order-B', 'order-C', 'customer-42', 'grüße'];
      const sent = new Map<string, string[]>(groups.map((group) => [group, []]));
      // Interleaved groups, each send awaited: the order the client observed is the order to read back.
      for (let i = 0; i < 4; i++) {
        for (const messageGroup of groups) {
          const receipt = await producer.send({
            topic: fifo.name,
            body: Buffer.from(`${messageGroup}#${i}`),
            tag: 'fifo',
            keys: [`${messageGroup}-${i}`],
            messageGroup,
          });
          sent.get(messageGroup)?.push(receipt.messageId);
        }
      }
      const messages = await readBack(broker, fifo, [...sent.values()].flat());
      const observedQueues: Record<string, number> = {};
      for (const messageGroup of groups) {
        const ofGroup = messages.filter(
          (m) => m.properties.get(MessageProperty.SHARDING_KEY) === messageGroup,
        );
        assert.deepEqual(
          ofGroup.map((m) => m.properties.get(MessageProperty.UNIQ_KEY)),
          sent.get(messageGroup),
          `${messageGroup} read back in send order`,
        );
        assert.deepEqual(
          ofGroup.map((m) => m.body.toString()),
          [0, 1, 2, 3].map((i) => `${messageGroup}#${i}`),
        );
        assert.ok(ofGroup.every((m) => m.properties.get(MessageProperty.TAGS) === 'fifo'));
        const queues = new Set(ofGroup.map((m) => m.queueId));
        assert.equal(queues.size, 1, `${messageGroup} spread over queues ${[...queues].join(', ')}`);
        observedQueues[messageGroup] = ofGroup[0]?.queueId ?? -1;
      }
      // The Java proxy's choice (Guava consistent hash); a proxy that picks the same way keeps one group's
      // order even when the clients of a mixed fleet go through different proxies.
      assert.deepEqual(
        observedQueues,
        Object.fromEntries(groups.map((g) => [g, fifoQueueOf(g, fifo.queues)])),
      );
    });

    test('DELAY: stored with its delivery time and readable only from then on', {
      timeout: 40_000,
    }, async () => {
      const delay = topic('delay');
      const deliveryTimestamp = Date.now() + 4000;
      const receipt = await producer.send({
        topic: delay.name,
        body: Buffer.from('later'),
        tag: 'delayed',
        keys: ['delay-key'],
        properties: { kind: 'delay' },
        deliveryTimestamp,
      });
      // Not in the real topic before its time (minus the timer wheel's precision and some slack).
      await assertStaysEmpty(broker, delay, Math.max(0, deliveryTimestamp - Date.now() - 2000));
      const message = stored(await readBack(broker, delay, [receipt.messageId], 20_000), receipt.messageId);
      assert.equal(message.properties.get(MessageProperty.TIMER_DELIVER_MS), String(deliveryTimestamp));
      assert.ok(
        message.storeTimestamp >= deliveryTimestamp - BROKER_TIMINGS.timerPrecisionMs,
        `stored ${deliveryTimestamp - message.storeTimestamp} ms before its delivery time`,
      );
      assert.equal(message.body.toString(), 'later');
      assert.equal(message.properties.get(MessageProperty.TAGS), 'delayed');
      assert.equal(message.properties.get(MessageProperty.KEYS), 'delay-key');
      assert.equal(message.properties.get('kind'), 'delay');
    });

    test('TRANSACTION commit: the message appears once committed', { timeout: 30_000 }, async () => {
      const tx = topic('tx');
      const receipt = await producer.send(
        {
          topic: tx.name,
          body: Buffer.from('commit me'),
          tag: 'tx-commit',
          keys: ['tx-1'],
          // Should the broker check before it has recorded the commit, the checker agrees.
          properties: { step: 'commit', [CHECK_RESOLUTION_PROPERTY]: 'COMMIT' },
        },
        'commit',
      );
      const message = stored(await readBack(broker, tx, [receipt.messageId]), receipt.messageId);
      assert.equal(message.body.toString(), 'commit me');
      assert.equal(message.properties.get(MessageProperty.TAGS), 'tx-commit');
      assert.equal(message.properties.get(MessageProperty.KEYS), 'tx-1');
      assert.equal(message.properties.get('step'), 'commit');
      assert.equal(transactionTypeOf(message.sysFlag), TransactionType.COMMIT);
    });

    test('TRANSACTION rollback: the message never appears', { timeout: 30_000 }, async () => {
      const rollbackTopic = topic('rollback');
      await producer.send(
        {
          topic: rollbackTopic.name,
          body: Buffer.from('roll me back'),
          tag: 'tx-rollback',
          properties: { [CHECK_RESOLUTION_PROPERTY]: 'ROLLBACK' },
        },
        'rollback',
      );
      // Longer than one transaction timeout plus a check interval: a late check cannot commit it either.
      await assertStaysEmpty(broker, rollbackTopic, FIRST_CHECK_WITHIN_MS + 1000);
    });

    test('TRANSACTION left open: the broker checks, the client checker commits, the message appears', {
      timeout: 70_000,
    }, async () => {
      const tx = topic('tx');
      const receipt = await producer.send(
        {
          topic: tx.name,
          body: Buffer.from('recover me'),
          tag: 'tx-recover',
          keys: ['tx-2'],
          properties: { step: 'recover', [CHECK_RESOLUTION_PROPERTY]: 'COMMIT' },
        },
        'none',
      );
      // The Java proxy registers the topic's producer group at the broker on a 20 s heartbeat tick; the
      // broker's checks before that find no producer channel.
      const check = await producer.waitForCheck(receipt.messageId, FIRST_CHECK_WITHIN_MS + 30_000);
      assert.equal(check.resolution, 'COMMIT');
      const message = stored(await readBack(broker, tx, [receipt.messageId], 20_000), receipt.messageId);
      assert.equal(message.body.toString(), 'recover me');
      assert.equal(message.properties.get(MessageProperty.TAGS), 'tx-recover');
      assert.equal(message.properties.get('step'), 'recover');
      assert.equal(transactionTypeOf(message.sysFlag), TransactionType.COMMIT);
    });

    test('RecallMessage: a recalled delay message is never delivered', { timeout: 40_000 }, async () => {
      const recall = topic('recall');
      const deliveryTimestamp = Date.now() + 5000;
      const receipt = await producer.send({
        topic: recall.name,
        body: Buffer.from('recall me'),
        tag: 'recall',
        deliveryTimestamp,
      });
      assert.notEqual(receipt.recallHandle, '', 'a delay message comes with a recall handle');
      const recalledId = await producer.recall(recall.name, receipt.recallHandle);
      assert.equal(recalledId, receipt.messageId);
      // Past its delivery time (plus the wheel's precision and slack), the queue is still empty.
      await assertStaysEmpty(broker, recall, deliveryTimestamp - Date.now() + 3000);
    });
  });
}
