/**
 * POP consumption against the real broker: receipts built from real responses, ACK, CHANGE_INVISIBLE_TIME,
 * BATCH_ACK, redelivery through the group's retry topic, and orderly pop. "Never comes back" is always
 * measured against a control message that does come back, so no test depends on guessing how long the
 * broker's revive service takes (about 3 s past the invisible time on an idle broker).
 *
 * Facts pinned here (RocketMQ 5.4.0):
 * - ACK and CHANGE_INVISIBLE_TIME answer SUCCESS even for a receipt that no longer counts: after a change
 *   of invisible time, acking with the OLD receipt succeeds but does not consume the message; it returns
 *   once the new invisible time has passed. Only the new receipt consumes it.
 * - A redelivered message comes from the V1 retry topic `%RETRY%<group>_<topic>` (retry flag 1), with the
 *   original topic restored, reconsumeTimes 1 and a receipt that acks it.
 * - Orderly pop locks the queue until the batch is acked or turns visible again; redelivered order
 *   messages count their deliveries in reconsumeTimes.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { RemotingConnection } from '../../proxy/src/remoting/connection.ts';
import {
  POP_ORDER_REVIVE_QUEUE,
  popRetryTopicV1,
  RetryFlag,
} from '../../proxy/src/remoting/message/pop-receipt.ts';
import { MessageProperty } from '../../proxy/src/remoting/message/properties.ts';
import {
  ackMessageRequest,
  batchAckMessageRequest,
  changeInvisibleTimeRequest,
  type PopMessageParams,
  type PoppedMessage,
  parseAckMessage,
  parseBatchAckMessage,
  parseChangeInvisibleTime,
} from '../../proxy/src/remoting/requests/pop.ts';
import {
  connect,
  createGroup,
  createTopic,
  pop,
  pullAll,
  rocketmq,
  send,
  uniqueName,
} from '../support/broker.ts';
import { notificationRequest, parseNotification } from '../support/remoting/pop-requests.ts';
import { sleep } from '../support/wait.ts';

const PRODUCER_GROUP = 'rmqp-it-pop-producer';
/** Invisible time of pops whose messages should come back soon. */
const SHORT_INVISIBLE_MS = 2000;
/** Redelivery of a short-invisible message must happen within this (invisible time + revive slack). */
const REDELIVERY_WITHIN_MS = 20_000;
/** How long to keep watching after the expected redeliveries, for messages that must not return. */
const REDELIVERY_GRACE_MS = 2000;

const uniqueIdOf = (message: PoppedMessage): string => message.properties.get(MessageProperty.UNIQ_KEY) ?? '';

interface Fixture {
  topic: string;
  group: string;
  /** UNIQ_KEYs in send order. */
  ids: string[];
}

describe('POP consumption', { concurrency: true }, () => {
  let broker: RemotingConnection;
  before(async () => {
    broker = await connect(rocketmq.brokerAddr, 30_000);
  });

  /** A fresh topic and group; message i goes to queue i % queues. */
  async function fixture(
    count: number,
    options: { fifo?: boolean; queues?: number; send?: boolean } = {},
  ): Promise<Fixture> {
    const topic = uniqueName('rmqp-it-pop');
    const group = uniqueName('rmqp-it-pop-group');
    const queues = options.queues ?? 1;
    await createTopic(broker, {
      topic,
      readQueueNums: queues,
      writeQueueNums: queues,
      messageType: options.fifo ? 'FIFO' : 'NORMAL',
    });
    await createGroup(broker, { groupName: group, consumeMessageOrderly: options.fifo ?? false });
    const ids: string[] = [];
    for (let i = 0; i < count && options.send !== false; i++) {
      const sent = await send(broker, {
        producerGroup: PRODUCER_GROUP,
        topic,
        queueId: i % queues,
        body: Buffer.from(`message ${i}`),
        tags: 'pop',
        properties: options.fifo ? { [MessageProperty.SHARDING_KEY]: 'group-1' } : undefined,
      });
      ids.push(sent.uniqueId);
    }
    return { topic, group, ids };
  }

  function popParams(f: Fixture, overrides: Partial<PopMessageParams> = {}): PopMessageParams {
    return {
      consumerGroup: f.group,
      topic: f.topic,
      maxMsgNums: 32,
      invisibleTime: SHORT_INVISIBLE_MS,
      pollTime: 1000,
      initMode: 'MIN',
      expressionType: 'TAG',
      expression: '*',
      ...overrides,
    };
  }

  /** Pops until `count` messages were handed out (dispatch is asynchronous), bounded by a deadline. */
  async function popCount(
    f: Fixture,
    count: number,
    overrides: Partial<PopMessageParams> = {},
  ): Promise<PoppedMessage[]> {
    const messages: PoppedMessage[] = [];
    const deadline = Date.now() + 10_000;
    while (messages.length < count) {
      if (Date.now() > deadline) throw new Error(`popped ${messages.length} of ${count} messages`);
      const result = await pop(broker, popParams(f, { maxMsgNums: count - messages.length, ...overrides }));
      messages.push(...result.messages);
    }
    return messages;
  }

  /**
   * Pops repeatedly until every id in `expected` has been redelivered, and for a grace period after, so
   * a consumed message due at about the same time would be caught too. Returns each redelivered message
   * by id and fails if anything else shows up (long invisible time: nothing is popped twice).
   */
  async function awaitRedelivery(
    f: Fixture,
    expected: readonly string[],
  ): Promise<Map<string, { message: PoppedMessage; at: number }>> {
    const seen = new Map<string, { message: PoppedMessage; at: number }>();
    const deadline = Date.now() + REDELIVERY_WITHIN_MS;
    let graceUntil = Number.POSITIVE_INFINITY;
    while (Date.now() < graceUntil) {
      if (Date.now() > deadline) {
        throw new Error(`redelivered ${[...seen.keys()].join(',')} but not all of ${expected.join(',')}`);
      }
      const result = await pop(broker, popParams(f, { invisibleTime: 60_000 }));
      for (const message of result.messages) {
        const id = uniqueIdOf(message);
        assert.ok(expected.includes(id), `message ${f.ids.indexOf(id)} came back although it was consumed`);
        seen.set(id, { message, at: Date.now() });
      }
      if (graceUntil === Number.POSITIVE_INFINITY && expected.every((id) => seen.has(id))) {
        graceUntil = Date.now() + REDELIVERY_GRACE_MS;
      }
      if (result.messages.length === 0) await sleep(200);
    }
    return seen;
  }

  test('POP hands out receipts that ACK consumes; the unacked message returns as a retry that acks too', {
    timeout: 60_000,
  }, async () => {
    const f = await fixture(3);
    const before = Date.now();
    const popped = await popCount(f, 3);
    assert.deepEqual(popped.map(uniqueIdOf), f.ids, 'one queue pops in offset order');
    for (const [i, message] of popped.entries()) {
      assert.equal(message.topic, f.topic);
      assert.equal(message.realTopic, f.topic);
      assert.equal(message.body.toString(), `message ${i}`);
      assert.equal(message.reconsumeTimes, 0);
      assert.equal(message.properties.get(MessageProperty.POP_CK), message.receiptHandle);
      const receipt = message.receipt;
      assert.equal(receipt.brokerName, rocketmq.brokerName);
      assert.equal(receipt.queueId, 0);
      assert.equal(receipt.queueOffset, message.queueOffset);
      assert.equal(receipt.queueOffset, i);
      assert.equal(receipt.retry, RetryFlag.NORMAL);
      assert.equal(receipt.invisibleTime, SHORT_INVISIBLE_MS);
      assert.ok(receipt.ckQueueOffset <= receipt.queueOffset);
      assert.ok(receipt.reviveQid >= 0 && receipt.reviveQid < POP_ORDER_REVIVE_QUEUE);
      assert.ok(Math.abs(receipt.popTime - before) < 30_000, 'popTime is the broker clock, near ours');
    }
    const [first, second, third] = popped;
    assert.ok(first && second && third);
    for (const message of [first, second]) {
      parseAckMessage(
        await broker.request(
          ackMessageRequest({ consumerGroup: f.group, topic: f.topic, receipt: message.receiptHandle }),
        ),
      );
    }

    // Only the third comes back, from the group's retry topic, with the original topic restored.
    const redelivered = (await awaitRedelivery(f, [f.ids[2]!])).get(f.ids[2]!)!.message;
    assert.equal(redelivered.topic, f.topic);
    assert.equal(redelivered.realTopic, popRetryTopicV1(f.topic, f.group));
    assert.equal(redelivered.receipt.retry, RetryFlag.RETRY_V1);
    assert.equal(redelivered.reconsumeTimes, 1);
    assert.equal(redelivered.body.toString(), 'message 2');
    assert.equal(redelivered.properties.get(MessageProperty.TAGS), 'pop');

    // Its receipt acks the retry copy: popping with a short invisible time afterwards finds nothing.
    parseAckMessage(
      await broker.request(
        ackMessageRequest({ consumerGroup: f.group, topic: f.topic, receipt: redelivered.receiptHandle }),
      ),
    );
    const quietUntil = Date.now() + SHORT_INVISIBLE_MS + 6000;
    while (Date.now() < quietUntil) {
      const again = await pop(broker, popParams(f, { pollTime: 500 }));
      assert.deepEqual(again.messages.map(uniqueIdOf), [], 'an acked retry message came back');
    }
  });

  test('CHANGE_INVISIBLE_TIME: the new receipt consumes the message, the old one answers SUCCESS but does not', {
    timeout: 60_000,
  }, async () => {
    const f = await fixture(3);
    const [extended, renewed, control] = await popCount(f, 3);
    assert.ok(extended && renewed && control);

    // `extended`: 2 s → 8 s, then acked with its OLD receipt.
    const changedAt = Date.now();
    const extension = parseChangeInvisibleTime(
      await broker.request(
        changeInvisibleTimeRequest({
          consumerGroup: f.group,
          topic: f.topic,
          receipt: extended.receiptHandle,
          invisibleTime: 8000,
        }),
      ),
      extended.receiptHandle,
    );
    assert.equal(extension.invisibleTime, 8000);
    assert.equal(extension.receipt.ckQueueOffset, extended.queueOffset);
    assert.equal(extension.receipt.queueOffset, extended.queueOffset);
    assert.ok(extension.popTime >= extended.receipt.popTime);
    assert.notEqual(extension.receiptHandle, extended.receiptHandle);
    parseAckMessage(
      await broker.request(
        ackMessageRequest({ consumerGroup: f.group, topic: f.topic, receipt: extended.receiptHandle }),
      ),
    );

    // `renewed`: changed (to the same short time) and acked with the NEW receipt.
    const renewal = parseChangeInvisibleTime(
      await broker.request(
        changeInvisibleTimeRequest({
          consumerGroup: f.group,
          topic: f.topic,
          receipt: renewed.receiptHandle,
          invisibleTime: SHORT_INVISIBLE_MS,
        }),
      ),
      renewed.receiptHandle,
    );
    parseAckMessage(
      await broker.request(
        ackMessageRequest({ consumerGroup: f.group, topic: f.topic, receipt: renewal.receiptHandle }),
      ),
    );

    // `control` is left alone and returns first; `extended` returns too, but not before its new time.
    const back = await awaitRedelivery(f, [f.ids[0]!, f.ids[2]!]);
    const extendedBack = back.get(f.ids[0]!)!;
    assert.ok(
      extendedBack.at >= changedAt + 8000,
      `returned ${changedAt + 8000 - extendedBack.at} ms before its extended invisible time ended`,
    );
    assert.ok(back.get(f.ids[2]!)!.at < extendedBack.at, 'the control came back first');
    assert.equal(extendedBack.message.reconsumeTimes, 1);
    // awaitRedelivery failed on sight of `renewed`: acking with the new receipt consumed it.
  });

  test('BATCH_ACK consumes exactly the receipts it names', { timeout: 60_000 }, async () => {
    const f = await fixture(5);
    const popped = await popCount(f, 5);
    const acked = popped.filter((_, i) => i % 2 === 0);
    parseBatchAckMessage(
      await broker.request(
        batchAckMessageRequest({
          consumerGroup: f.group,
          topic: f.topic,
          receipts: acked.map((message) => message.receiptHandle),
        }),
      ),
    );
    // 1 and 3 return; 0, 2 and 4 never do (awaitRedelivery fails on anything unexpected).
    const back = await awaitRedelivery(f, [f.ids[1]!, f.ids[3]!]);
    assert.deepEqual([...back.keys()].sort(), [f.ids[1]!, f.ids[3]!].sort());
  });

  test('orderly pop: in order, queue locked until acked, redelivered in order with reconsumeTimes', {
    timeout: 60_000,
  }, async () => {
    const f = await fixture(6, { fifo: true });
    const order = { order: true, maxMsgNums: 3, invisibleTime: 3000 };

    const firstBatch = await popCount(f, 3, order);
    assert.deepEqual(firstBatch.map(uniqueIdOf), f.ids.slice(0, 3));
    for (const message of firstBatch) {
      assert.equal(message.receipt.reviveQid, POP_ORDER_REVIVE_QUEUE);
      assert.equal(message.reconsumeTimes, 0);
      assert.equal(message.properties.get(MessageProperty.SHARDING_KEY), 'group-1');
    }
    // Locked: while the batch is in flight the queue hands out nothing, not even later messages.
    const locked = await pop(broker, popParams(f, { ...order, pollTime: 0 }));
    assert.deepEqual(locked.messages, []);

    for (const message of firstBatch) {
      parseAckMessage(
        await broker.request(
          ackMessageRequest({ consumerGroup: f.group, topic: f.topic, receipt: message.receiptHandle }),
        ),
      );
    }
    const secondBatch = await popCount(f, 3, order);
    assert.deepEqual(secondBatch.map(uniqueIdOf), f.ids.slice(3, 6));

    // Not acked: once invisible time passes the same batch comes back, same order, second delivery.
    const poppedAt = Date.now();
    let again: PoppedMessage[] = [];
    while (again.length === 0) {
      assert.ok(Date.now() - poppedAt < REDELIVERY_WITHIN_MS, 'the unacked order batch never came back');
      again = (await pop(broker, popParams(f, { ...order, pollTime: 500 }))).messages;
    }
    assert.ok(Date.now() - poppedAt >= 3000 - 1000, 'redelivered before its invisible time');
    assert.deepEqual(again.map(uniqueIdOf), f.ids.slice(3, 6));
    assert.deepEqual(
      again.map((message) => message.reconsumeTimes),
      [1, 1, 1],
    );
    for (const message of again) {
      parseAckMessage(
        await broker.request(
          ackMessageRequest({ consumerGroup: f.group, topic: f.topic, receipt: message.receiptHandle }),
        ),
      );
    }
    const drained = await pop(broker, popParams(f, { ...order, pollTime: 0 }));
    assert.deepEqual(drained.messages, []);
  });
  test('NOTIFICATION says when there is something to pop; popping queue -1 reaches every queue; one BATCH_ACK spans queues', {
    timeout: 60_000,
  }, async () => {
    const empty = await fixture(0, { queues: 4 });
    const probe = async (f: Fixture, pollTime: number) =>
      parseNotification(
        await broker.request(notificationRequest({ consumerGroup: f.group, topic: f.topic, pollTime }), {
          timeoutMs: pollTime + 10_000,
        }),
      );
    const started = Date.now();
    assert.deepEqual(await probe(empty, 1500), { hasMsg: false, pollingFull: false });
    assert.ok(Date.now() - started >= 1000, 'an empty topic holds the notification for its poll time');

    const f = await fixture(8, { queues: 4 });
    assert.deepEqual(await probe(f, 5000), { hasMsg: true, pollingFull: false });
    const popped = await popCount(f, 8);
    assert.deepEqual(popped.map(uniqueIdOf).sort(), [...f.ids].sort());
    assert.deepEqual([...new Set(popped.map((message) => message.receipt.queueId))].sort(), [0, 1, 2, 3]);
    for (const message of popped) assert.equal(message.queueId, f.ids.indexOf(uniqueIdOf(message)) % 4);

    // Ack the first message of every queue in one request; the second of each comes back.
    const firstOfQueue = popped.filter((message) => message.queueOffset === 0);
    assert.equal(firstOfQueue.length, 4);
    parseBatchAckMessage(
      await broker.request(
        batchAckMessageRequest({
          consumerGroup: f.group,
          topic: f.topic,
          receipts: firstOfQueue.map((message) => message.receiptHandle),
        }),
      ),
    );
    await awaitRedelivery(f, f.ids.slice(4));
  });

  test('orderly CHANGE_INVISIBLE_TIME keeps the pop time, extends from it, and its receipt unlocks the queue', {
    timeout: 30_000,
  }, async () => {
    const f = await fixture(3, { fifo: true });
    // Long enough that no receipt expires before it is acked, even on a loaded machine: an expired
    // second receipt would make its ack a no-op and the message come back instead of the third.
    const order = { order: true, maxMsgNums: 2, invisibleTime: 20_000 };
    const [first, second] = await popCount(f, 2, order);
    assert.ok(first && second);
    const requestedAt = Date.now();
    const renewal = parseChangeInvisibleTime(
      await broker.request(
        changeInvisibleTimeRequest({
          consumerGroup: f.group,
          topic: f.topic,
          receipt: first.receiptHandle,
          invisibleTime: 10_000,
        }),
      ),
      first.receiptHandle,
    );
    // Order receipts: same pop time, invisible time counted from it (now + requested − popTime).
    assert.equal(renewal.popTime, first.receipt.popTime);
    assert.equal(renewal.reviveQid, POP_ORDER_REVIVE_QUEUE);
    assert.ok(renewal.invisibleTime >= 10_000);
    assert.ok(renewal.invisibleTime <= Date.now() + 10_000 - first.receipt.popTime + 1000);
    assert.ok(requestedAt + 10_000 - renewal.popTime - renewal.invisibleTime < 2000);

    // Acking with the renewed receipt (and the untouched second one) releases the queue at once.
    for (const receipt of [renewal.receiptHandle, second.receiptHandle]) {
      parseAckMessage(
        await broker.request(ackMessageRequest({ consumerGroup: f.group, topic: f.topic, receipt })),
      );
    }
    const next = await popCount(f, 1, { ...order, pollTime: 0 });
    assert.deepEqual(next.map(uniqueIdOf), [f.ids[2]]);
  });

  test('pop filters by TAG and by SQL92 on the broker', { timeout: 30_000 }, async () => {
    const topic = uniqueName('rmqp-it-pop-filter');
    await createTopic(broker, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'NORMAL' });
    const sent: { id: string; tag: string; color: string }[] = [];
    for (const [tag, color] of [
      ['A', 'red'],
      ['B', 'blue'],
      ['A', 'blue'],
      ['C', 'red'],
    ] as const) {
      const result = await send(broker, {
        producerGroup: PRODUCER_GROUP,
        topic,
        body: Buffer.from(`${tag}/${color}`),
        tags: tag,
        properties: { color },
      });
      sent.push({ id: result.uniqueId, tag, color });
    }
    const popAllMatching = async (expressionType: 'TAG' | 'SQL92', expression: string, count: number) => {
      const f: Fixture = { topic, group: uniqueName('rmqp-it-pop-filter-group'), ids: [] };
      await createGroup(broker, { groupName: f.group });
      const popped = await popCount(f, count, { expressionType, expression, invisibleTime: 60_000 });
      // Nothing else matches: a further pop comes back empty.
      const rest = await pop(broker, popParams(f, { expressionType, expression, pollTime: 300 }));
      return [...popped, ...rest.messages].map(uniqueIdOf).sort();
    };
    const ids = (match: (m: { tag: string; color: string }) => boolean) =>
      sent
        .filter(match)
        .map((m) => m.id)
        .sort();
    assert.deepEqual(
      await popAllMatching('TAG', 'A', 2),
      ids((m) => m.tag === 'A'),
    );
    assert.deepEqual(
      await popAllMatching('TAG', 'B || C', 2),
      ids((m) => m.tag !== 'A'),
    );
    assert.deepEqual(
      await popAllMatching('SQL92', "color = 'blue'", 2),
      ids((m) => m.color === 'blue'),
    );
  });

  test('a retry topic longer than 127 characters (stored with the two-byte topic length) decodes and acks', {
    timeout: 60_000,
  }, async () => {
    // %RETRY%<group>_<topic> is 7 + 100 + 1 + 127 = 235 characters: only the V2 record layout fits it.
    const topic = `${uniqueName('rmqp-it-pop-long')}-`.padEnd(127, 't');
    const group = `${uniqueName('rmqp-it-pop-long-group')}-`.padEnd(100, 'g');
    await createTopic(broker, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'NORMAL' });
    await createGroup(broker, { groupName: group });
    const sent = await send(broker, {
      producerGroup: PRODUCER_GROUP,
      topic,
      body: Buffer.from('long names'),
    });
    const f: Fixture = { topic, group, ids: [sent.uniqueId] };
    const [first] = await popCount(f, 1);
    assert.equal(first?.realTopic, topic);
    const back = (await awaitRedelivery(f, [sent.uniqueId])).get(sent.uniqueId)!.message;
    assert.equal(back.realTopic, popRetryTopicV1(topic, group));
    assert.equal(back.realTopic.length, 235);
    assert.equal(back.topic, topic);
    assert.equal(back.body.toString(), 'long names');
    parseAckMessage(
      await broker.request(ackMessageRequest({ consumerGroup: group, topic, receipt: back.receiptHandle })),
    );
    // The retry topic itself, read by PULL, carries the 235-character name in its records.
    const [stored] = await pullAll(
      broker,
      { consumerGroup: group, topic: back.realTopic, queueId: 0, offset: 0 },
      1,
    );
    assert.equal(stored?.topic, back.realTopic);
    assert.equal(stored?.properties.get(MessageProperty.UNIQ_KEY), sent.uniqueId);
  });
});
