/**
 * Publishing against the real broker, read back by PULL: every field of a normal message (V2 and V1
 * headers, compressed bodies), batches, timer (delay) messages and FIFO order per message group.
 * Each test writes to its own fresh topic so offsets and contents are known exactly.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, test } from 'node:test';
import type { RemotingConnection } from '../../proxy/src/remoting/connection.ts';
import { RemotingResponseError } from '../../proxy/src/remoting/errors.ts';
import { javaStringHashCode } from '../../proxy/src/remoting/message/java-hash.ts';
import { decodeOffsetMessageId } from '../../proxy/src/remoting/message/message-id.ts';
import { MessageProperty } from '../../proxy/src/remoting/message/properties.ts';
import { CompressionType, isCompressed, MessageSysFlag } from '../../proxy/src/remoting/message/sysflag.ts';
import { BROKER_TIMINGS } from '../harness/env.ts';
import {
  connect,
  createTopic,
  maxOffset,
  pop,
  pull,
  pullAll,
  rocketmq,
  send,
  sendBatch,
  uniqueName,
} from '../support/broker.ts';
import { eventually, sleep } from '../support/wait.ts';

const PRODUCER_GROUP = 'rmqp-it-producer';
/** Pulls with an explicit subscription need no registered consumer; the group is auto-created. */
const READER = 'rmqp-it-send-reader';

describe('send, read back by PULL', () => {
  let broker: RemotingConnection;
  before(async () => {
    broker = await connect(rocketmq.brokerAddr);
  });

  test('a NORMAL message keeps body, tag, keys, flag and user properties; ids and offsets match', async () => {
    const topic = uniqueName('rmqp-it-send');
    await createTopic(broker, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'NORMAL' });
    const body = Buffer.from('héllo, broker \u0000 binary \u00ff', 'utf8');
    const bornTimestamp = Date.now();
    const sent = await send(broker, {
      producerGroup: PRODUCER_GROUP,
      topic,
      body,
      tags: 'TagA',
      keys: ['order-1', 'customer-7'],
      properties: { color: 'blue', 'x-trace': 'a=b;c', unicode: 'ünï' },
      flag: 42,
      bornTimestamp,
    });
    assert.equal(sent.status, 'SEND_OK');
    assert.equal(sent.queueId, 0);
    assert.equal(sent.queueOffset, 0);
    assert.equal(sent.msgId, sent.uniqueId);
    assert.equal(sent.transactionId, sent.uniqueId);
    assert.equal(sent.regionId, 'DefaultRegion');
    assert.equal(sent.recallHandle, undefined);
    const offsetId = decodeOffsetMessageId(sent.offsetMsgId);
    assert.equal(offsetId.storeHost, rocketmq.brokerAddr);

    const messages = await pullAll(broker, { consumerGroup: READER, topic, queueId: 0, offset: 0 }, 1);
    assert.equal(messages.length, 1);
    const [message] = messages;
    assert.ok(message);
    assert.equal(message.topic, topic);
    assert.equal(message.queueId, 0);
    assert.equal(message.queueOffset, 0);
    assert.deepEqual(message.body, body);
    assert.equal(message.flag, 42);
    assert.equal(message.sysFlag, 0);
    assert.equal(message.reconsumeTimes, 0);
    assert.equal(message.bornTimestamp, bornTimestamp);
    assert.ok(message.storeTimestamp >= bornTimestamp - 1000, 'stored after it was born');
    assert.match(message.bornHost, /^127\.0\.0\.1:\d+$/);
    assert.equal(message.storeHost, rocketmq.brokerAddr);
    assert.equal(message.msgId, sent.offsetMsgId);
    assert.equal(message.commitLogOffset, offsetId.commitLogOffset);
    const properties = message.properties;
    assert.equal(properties.get(MessageProperty.TAGS), 'TagA');
    assert.equal(properties.get(MessageProperty.KEYS), 'order-1 customer-7');
    assert.equal(properties.get(MessageProperty.UNIQ_KEY), sent.uniqueId);
    assert.equal(properties.get('color'), 'blue');
    assert.equal(properties.get('x-trace'), 'a=b;c');
    assert.equal(properties.get('unicode'), 'ünï');
    // Added by the broker on the way in.
    assert.equal(properties.get(MessageProperty.CLUSTER), rocketmq.clusterName);
  });

  test('the V1 header form (SEND_MESSAGE) stores the same message', async () => {
    const topic = uniqueName('rmqp-it-send-v1');
    await createTopic(broker, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'NORMAL' });
    const sent = await send(broker, {
      producerGroup: PRODUCER_GROUP,
      topic,
      body: Buffer.from('v1'),
      tags: 'TagV1',
      keys: 'k1',
      properties: { p: 'q' },
      form: 'V1',
    });
    const [message] = await pullAll(broker, { consumerGroup: READER, topic, queueId: 0, offset: 0 }, 1);
    assert.ok(message);
    assert.equal(message.body.toString(), 'v1');
    assert.equal(message.properties.get(MessageProperty.TAGS), 'TagV1');
    assert.equal(message.properties.get(MessageProperty.KEYS), 'k1');
    assert.equal(message.properties.get('p'), 'q');
    assert.equal(message.properties.get(MessageProperty.UNIQ_KEY), sent.uniqueId);
  });

  for (const compression of ['ZLIB', 'ZSTD'] as const) {
    test(`a ${compression}-compressed 64 KiB body is stored compressed and pulled back intact`, async () => {
      const topic = uniqueName('rmqp-it-send-zip');
      await createTopic(broker, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'NORMAL' });
      // Compressible but not trivial: random hex.
      const body = Buffer.from(randomBytes(32 * 1024).toString('hex'));
      await send(broker, { producerGroup: PRODUCER_GROUP, topic, body, compression });
      const [message] = await pullAll(broker, { consumerGroup: READER, topic, queueId: 0, offset: 0 }, 1);
      assert.ok(message);
      assert.deepEqual(message.body, body);
      // The stored record is smaller than the body: the broker kept our compressed bytes.
      assert.ok(message.storeSize < body.length, `record of ${message.storeSize} bytes holds ${body.length}`);
      // Decoding inflated the body and cleared COMPRESSED; the broker-kept type bits name the codec.
      assert.equal(isCompressed(message.sysFlag), false);
      assert.equal(
        (message.sysFlag & MessageSysFlag.COMPRESSION_TYPE_MASK) >> 8,
        CompressionType[compression],
      );
    });
  }

  test('two 3 MiB messages travel in frames far larger than a socket read and come back byte for byte', {
    timeout: 30_000,
  }, async () => {
    const topic = uniqueName('rmqp-it-send-big');
    await createTopic(broker, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'NORMAL' });
    const bodies = [randomBytes(3 * 1024 * 1024), randomBytes(3 * 1024 * 1024)];
    for (const body of bodies) await send(broker, { producerGroup: PRODUCER_GROUP, topic, body });
    const messages = await pullAll(broker, { consumerGroup: READER, topic, queueId: 0, offset: 0 }, 2);
    assert.equal(messages.length, 2);
    for (const [i, message] of messages.entries())
      assert.ok(message.body.equals(bodies[i]!), `body ${i} differs`);
  });

  test('a BATCH stores every message with its own unique id, in order, at consecutive offsets', async () => {
    const topic = uniqueName('rmqp-it-batch');
    await createTopic(broker, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'NORMAL' });
    const contents = Array.from({ length: 6 }, (_, i) => ({
      body: Buffer.from(`batch message ${i}`),
      tags: i % 2 === 0 ? 'even' : 'odd',
      keys: `key-${i}`,
      properties: { index: String(i) },
    }));
    const sent = await sendBatch(broker, { producerGroup: PRODUCER_GROUP, topic, messages: contents });
    assert.equal(sent.status, 'SEND_OK');
    assert.equal(new Set(sent.uniqueIds).size, contents.length);
    assert.equal(sent.msgId, sent.uniqueIds.join(','));
    assert.equal(sent.queueOffset, 0);
    // One offset id per stored message.
    assert.equal(sent.offsetMsgId.split(',').length, contents.length);

    const messages = await pullAll(
      broker,
      { consumerGroup: READER, topic, queueId: 0, offset: 0 },
      contents.length,
    );
    assert.deepEqual(
      messages.map((message) => ({
        offset: message.queueOffset,
        body: message.body.toString(),
        tag: message.properties.get(MessageProperty.TAGS),
        key: message.properties.get(MessageProperty.KEYS),
        index: message.properties.get('index'),
        uniqueId: message.properties.get(MessageProperty.UNIQ_KEY),
      })),
      contents.map((content, i) => ({
        offset: i,
        body: content.body.toString(),
        tag: content.tags,
        key: content.keys,
        index: String(i),
        uniqueId: sent.uniqueIds[i],
      })),
    );
    assert.deepEqual(
      messages.map((message) => message.msgId),
      sent.offsetMsgId.split(','),
    );
  });

  test('a DELAY message is invisible until its delivery time, then pullable and poppable', {
    timeout: 30_000,
  }, async () => {
    const topic = uniqueName('rmqp-it-delay');
    const group = uniqueName('rmqp-it-delay-group');
    await createTopic(broker, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'DELAY' });
    const deliverAtMs = Date.now() + 3000;
    const sent = await send(broker, {
      producerGroup: PRODUCER_GROUP,
      topic,
      body: Buffer.from('later'),
      tags: 'delayed',
      delay: { deliverAtMs },
    });
    assert.equal(sent.status, 'SEND_OK');
    assert.ok(sent.recallHandle, 'timer messages come with a recall handle');

    // Until shortly before delivery (minus the wheel's precision): nothing in the real topic, for pull
    // or pop (initMode MIN reads from the start). Checked repeatedly, so dispatch lag cannot hide it.
    let checks = 0;
    while (Date.now() < deliverAtMs - BROKER_TIMINGS.timerPrecisionMs - 500) {
      const early = await pull(broker, { consumerGroup: READER, topic, queueId: 0, offset: 0 });
      assert.equal(early.messages.length, 0, 'pulled before its delivery time');
      assert.equal(await maxOffset(broker, topic, 0), 0);
      const popped = await pop(broker, {
        consumerGroup: group,
        topic,
        maxMsgNums: 1,
        invisibleTime: 10_000,
        pollTime: 0,
        initMode: 'MIN',
      });
      assert.equal(popped.messages.length, 0, 'popped before its delivery time');
      checks += 1;
      await sleep(200);
    }
    assert.ok(checks >= 2, `only ${checks} early checks ran`);

    const delivered = await eventually(
      'the delayed message',
      { timeoutMs: 20_000, intervalMs: 100 },
      async () => {
        const result = await pull(broker, { consumerGroup: READER, topic, queueId: 0, offset: 0 });
        return result.messages[0];
      },
    );
    const seenAt = Date.now();
    // The timer wheel rounds delivery times down to its precision, never further.
    assert.ok(
      seenAt >= deliverAtMs - BROKER_TIMINGS.timerPrecisionMs,
      `seen ${deliverAtMs - seenAt} ms before its delivery time`,
    );
    assert.ok(delivered.storeTimestamp >= deliverAtMs - BROKER_TIMINGS.timerPrecisionMs);
    assert.equal(delivered.body.toString(), 'later');
    assert.equal(delivered.topic, topic);
    assert.equal(delivered.properties.get(MessageProperty.UNIQ_KEY), sent.uniqueId);
    assert.equal(delivered.properties.get(MessageProperty.TAGS), 'delayed');
    assert.equal(delivered.properties.get(MessageProperty.TIMER_DELIVER_MS), String(deliverAtMs));

    const popped = await pop(broker, {
      consumerGroup: group,
      topic,
      maxMsgNums: 1,
      invisibleTime: 10_000,
      pollTime: 2000,
      initMode: 'MIN',
    });
    assert.equal(popped.messages[0]?.properties.get(MessageProperty.UNIQ_KEY), sent.uniqueId);
  });

  test('delay levels and relative timer delays (seconds, milliseconds) are all honoured', {
    timeout: 30_000,
  }, async () => {
    const topic = uniqueName('rmqp-it-delay-forms');
    await createTopic(broker, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'DELAY' });
    const forms = [
      { name: 'level 1 (1 s)', delay: { level: 1 }, delayMs: 1000, recallable: false },
      { name: '2 seconds', delay: { delaySeconds: 2 }, delayMs: 2000, recallable: true },
      { name: '2500 ms', delay: { delayMs: 2500 }, delayMs: 2500, recallable: true },
    ] as const;
    const sentAt = new Map<string, { at: number; form: (typeof forms)[number] }>();
    for (const form of forms) {
      const at = Date.now();
      const sent = await send(broker, {
        producerGroup: PRODUCER_GROUP,
        topic,
        body: Buffer.from(form.name),
        delay: form.delay,
      });
      // Only timer-wheel messages can be recalled; delay levels go through the schedule topic.
      assert.equal(sent.recallHandle !== undefined, form.recallable, form.name);
      sentAt.set(sent.uniqueId, { at, form });
    }
    const arrived = await pullAll(
      broker,
      { consumerGroup: READER, topic, queueId: 0, offset: 0 },
      forms.length,
      20_000,
    );
    const seenAt = Date.now();
    assert.deepEqual(arrived.map((m) => m.body.toString()).sort(), forms.map((f) => f.name).sort());
    for (const message of arrived) {
      const sent = sentAt.get(message.properties.get(MessageProperty.UNIQ_KEY) ?? '');
      assert.ok(sent, 'an unknown message arrived');
      // Stored in the real topic no earlier than the delay, less the timer wheel's rounding down.
      const earliest = sent.at + sent.form.delayMs - BROKER_TIMINGS.timerPrecisionMs;
      assert.ok(
        message.storeTimestamp >= earliest,
        `${sent.form.name} arrived ${earliest - message.storeTimestamp} ms early`,
      );
      assert.ok(message.storeTimestamp <= seenAt);
    }
  });

  test('FIFO: messages of one message group sent to its queue are read back in send order', async () => {
    const topic = uniqueName('rmqp-it-fifo');
    const queues = 4;
    await createTopic(broker, { topic, readQueueNums: queues, writeQueueNums: queues, messageType: 'FIFO' });
    const groups = ['order-A', 'order-B'];
    const queueOf = (messageGroup: string): number => Math.abs(javaStringHashCode(messageGroup)) % queues;
    const sentIds = new Map<string, string[]>(groups.map((g) => [g, []]));
    // Interleaved groups, each send awaited: the order a client observes is the order it must get back.
    for (let i = 0; i < 8; i++) {
      for (const messageGroup of groups) {
        const sent = await send(broker, {
          producerGroup: PRODUCER_GROUP,
          topic,
          queueId: queueOf(messageGroup),
          body: Buffer.from(`${messageGroup}#${i}`),
          properties: { [MessageProperty.SHARDING_KEY]: messageGroup },
        });
        assert.equal(sent.queueId, queueOf(messageGroup));
        sentIds.get(messageGroup)?.push(sent.uniqueId);
      }
    }
    for (const messageGroup of groups) {
      const queueId = queueOf(messageGroup);
      // Each queue holds one group's messages unless both groups hash to the same queue.
      const expected = groups.filter((g) => queueOf(g) === queueId).length * 8;
      const inQueue = await pullAll(broker, { consumerGroup: READER, topic, queueId, offset: 0 }, expected);
      const ofGroup = inQueue.filter((m) => m.properties.get(MessageProperty.SHARDING_KEY) === messageGroup);
      assert.deepEqual(
        ofGroup.map((m) => m.properties.get(MessageProperty.UNIQ_KEY)),
        sentIds.get(messageGroup),
      );
      assert.deepEqual(
        ofGroup.map((m) => m.body.toString()),
        Array.from({ length: 8 }, (_, i) => `${messageGroup}#${i}`),
      );
    }
  });

  test('sending to a queue the topic does not have is INVALID_PARAMETER', async () => {
    const topic = uniqueName('rmqp-it-badq');
    await createTopic(broker, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'NORMAL' });
    await assert.rejects(
      send(broker, { producerGroup: PRODUCER_GROUP, topic, queueId: 7, body: Buffer.from('x') }),
      (error: unknown) =>
        error instanceof RemotingResponseError &&
        error.errorCode === 'RMQ_INVALID_PARAMETER' &&
        (error.remark ?? '').includes('queueId[7] is illegal'),
    );
  });
});
