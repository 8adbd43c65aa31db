/**
 * Consumption through our proxy against the real broker: the official Node SimpleConsumer (receive,
 * ack, change of invisible duration, TAG and SQL92 filters), raw ReceiveMessage streams (stream order,
 * bad input and its Codes), acks through another proxy and after a restart, retries into the DLQ and
 * ForwardMessageToDeadLetterQueue, and the offset RPCs.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { v2 } from '../../../proxy/src/grpc/protocol.ts';
import { eventually, sleep, withTimeout } from '../../support/wait.ts';
import {
  deadLetters,
  durationOf,
  freshGroup,
  freshTopic,
  publishDirect,
  rawConsumerHeaders,
  rawReceive,
} from './consume-support.ts';
import { nodeClient, onCleanup, type ProxyUnderTest, startProxyUnderTest } from './publish-support.ts';

const { SimpleConsumer, Producer, FilterExpression } = nodeClient;
const { FilterType } = await import('rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js').then(
  (module) => module.default,
);

/** The client's default egg-logger throws once its stream closes, which breaks shutdown() midway. */
const quietLogger = { info() {}, warn() {}, error() {}, debug() {} };

/** Short long polls keep "nothing there" answers quick in these tests. */
const PROXY_SETTINGS = ['consumer.longPollingMinMs=500'];

let under: ProxyUnderTest;

before(async () => {
  under = await startProxyUnderTest(PROXY_SETTINGS);
});

interface WithStatus {
  status?: { code?: number; message?: string };
}

async function simpleConsumer(
  group: string,
  topic: string,
  filter: string | InstanceType<typeof FilterExpression> = '*',
) {
  const consumer = new SimpleConsumer({
    endpoints: under.endpoint,
    namespace: '',
    consumerGroup: group,
    subscriptions: new Map([[topic, filter]]),
    awaitDuration: 2000,
    requestTimeout: 10_000,
    logger: quietLogger,
  });
  onCleanup(() => consumer.shutdown());
  await withTimeout(consumer.startup(), 30_000, 'SimpleConsumer.startup()');
  return consumer;
}

/** Receives until `count` messages arrived (or the time is up). */
async function receiveAll(
  consumer: InstanceType<typeof SimpleConsumer>,
  count: number,
  timeoutMs = 30_000,
  invisibleMs = 30_000,
) {
  const received: Awaited<ReturnType<typeof consumer.receive>> = [];
  const deadline = Date.now() + timeoutMs;
  while (received.length < count && Date.now() < deadline) {
    received.push(...(await consumer.receive(32, invisibleMs)));
  }
  return received;
}

describe('official Node SimpleConsumer through the proxy', () => {
  test('receives what a Node Producer published through the proxy, acks it, and it never comes back', async () => {
    const topic = await freshTopic(under, 'rmqp-it-simple');
    const group = await freshGroup(under, 'rmqp-it-simple-g');
    const producer = new Producer({
      endpoints: under.endpoint,
      namespace: '',
      topics: [topic],
      requestTimeout: 10_000,
    });
    onCleanup(() => producer.shutdown());
    await withTimeout(producer.startup(), 30_000, 'Producer.startup()');
    const consumer = await simpleConsumer(group, topic);
    const sent = new Map<string, string>();
    for (let i = 0; i < 20; i++) {
      const body = `simple-${i}`;
      const receipt = await producer.send({
        topic,
        body: Buffer.from(body),
        tag: 'T',
        keys: [`k${i}`],
        properties: new Map([['n', String(i)]]),
      });
      sent.set(receipt.messageId, body);
    }
    const received = await receiveAll(consumer, sent.size);
    assert.equal(received.length, sent.size, 'every message once');
    for (const message of received) {
      assert.equal(
        sent.get(message.messageId),
        message.body.toString(),
        'body under the producer message id',
      );
      assert.equal(message.topic, topic);
      assert.equal(message.tag, 'T');
      assert.equal(message.deliveryAttempt, 1);
      assert.equal(message.properties.get('n'), message.body.toString().slice('simple-'.length));
      await consumer.ack(message);
    }
    assert.equal(new Set(received.map((m) => m.messageId)).size, sent.size, 'no duplicates');
    // Nothing comes back (the invisible time of 30 s would bring back unacked ones; acks are instant).
    assert.deepEqual(await consumer.receive(32, 10_000), []);
  });

  test('TAG filter: only the wanted tags arrive; the rest is acked on the way and never delivered', async () => {
    const topic = await freshTopic(under, 'rmqp-it-tag');
    const group = await freshGroup(under, 'rmqp-it-tag-g');
    const consumer = await simpleConsumer(group, topic, new FilterExpression('A || C', FilterType.TAG));
    const wanted = [
      ...(await publishDirect(under.broker, topic, 5, { tag: 'A' })),
      ...(await publishDirect(under.broker, topic, 5, { tag: 'C' })),
    ];
    await publishDirect(under.broker, topic, 5, { tag: 'B' });
    const received = await receiveAll(consumer, wanted.length);
    assert.deepEqual(received.map((m) => m.messageId).sort(), [...wanted].sort());
    for (const message of received) {
      assert.ok(message.tag === 'A' || message.tag === 'C');
      await consumer.ack(message);
    }
    assert.deepEqual(await consumer.receive(32, 10_000), []);
  });

  test('SQL92 filter: only matching properties arrive', async () => {
    const topic = await freshTopic(under, 'rmqp-it-sql');
    const group = await freshGroup(under, 'rmqp-it-sql-g');
    const consumer = await simpleConsumer(
      group,
      topic,
      new FilterExpression("color = 'blue' AND size > 2", FilterType.SQL),
    );
    const wanted = await publishDirect(under.broker, topic, 4, { properties: { color: 'blue', size: '3' } });
    await publishDirect(under.broker, topic, 4, { properties: { color: 'red', size: '3' } });
    await publishDirect(under.broker, topic, 4, { properties: { color: 'blue', size: '1' } });
    const received = await receiveAll(consumer, wanted.length);
    assert.deepEqual(received.map((m) => m.messageId).sort(), [...wanted].sort());
    for (const message of received) await consumer.ack(message);
  });

  test('changeInvisibleDuration: the message comes back when the new invisible time ends, as attempt 2', async () => {
    const topic = await freshTopic(under, 'rmqp-it-cid');
    const group = await freshGroup(under, 'rmqp-it-cid-g');
    const consumer = await simpleConsumer(group, topic);
    const [id] = await publishDirect(under.broker, topic, 1);
    const [first] = await receiveAll(consumer, 1);
    assert.equal(first?.messageId, id);
    await consumer.changeInvisibleDuration(first!, 1000);
    const [again] = await receiveAll(consumer, 1, 30_000);
    assert.equal(again?.messageId, id);
    assert.equal(again?.deliveryAttempt, 2);
    await consumer.ack(again!);
  });
});

describe('raw ReceiveMessage', () => {
  test('stream order: status OK, the messages, then the delivery timestamp; empty polls wait before MESSAGE_NOT_FOUND', async () => {
    const topic = await freshTopic(under, 'rmqp-it-order');
    const group = await freshGroup(under, 'rmqp-it-order-g');
    const started = Date.now();
    const empty = await rawReceive(under.raw, { group, topic, invisibleMs: 20_000, longPollingMs: 1500 });
    assert.ok(Date.now() - started >= 1400, `the empty poll waited ${Date.now() - started} ms`);
    assert.deepEqual(empty.order, ['status', 'deliveryTimestamp']);
    assert.equal(empty.statuses[0]?.code, v2.Code.MESSAGE_NOT_FOUND);

    const ids = await publishDirect(under.broker, topic, 3);
    const full = await eventually('the messages', { timeoutMs: 10_000 }, async () => {
      const stream = await rawReceive(under.raw, { group, topic, invisibleMs: 20_000, batchSize: 3 });
      return stream.messages.length > 0 ? stream : undefined;
    });
    assert.equal(full.order[0], 'status');
    assert.equal(full.statuses[0]?.code, v2.Code.OK);
    assert.equal(full.order.at(-1), 'deliveryTimestamp');
    assert.deepEqual(
      full.order.slice(1, -1),
      full.messages.map(() => 'message'),
    );
    for (const message of full.messages) {
      assert.ok(ids.includes(message.systemProperties.messageId));
      assert.equal(
        message.systemProperties.receiptHandle.split(' ').length,
        9,
        'handle carries the commit-log offset',
      );
    }
  });

  test('ack through proxy B of messages received through proxy A, and through A after a restart', async () => {
    const topic = await freshTopic(under, 'rmqp-it-xproxy');
    const group = await freshGroup(under, 'rmqp-it-xproxy-g');
    const ids = await publishDirect(under.broker, topic, 2, { queues: 1 });
    const proxyA = await startProxyUnderTest(PROXY_SETTINGS);
    const received = await eventually('both messages', { timeoutMs: 10_000 }, async () => {
      const stream = await rawReceive(proxyA.raw, { group, topic, invisibleMs: 10_000 });
      return stream.messages.length === 2 ? stream.messages : undefined;
    });
    const poppedAt = Date.now();
    assert.deepEqual(received.map((m) => m.systemProperties.messageId).sort(), [...ids].sort());
    const [first, second] = received;
    const ackEntry = (message: typeof first) => ({
      group: { name: group },
      topic: { name: topic },
      entries: [
        {
          messageId: message!.systemProperties.messageId,
          receiptHandle: message!.systemProperties.receiptHandle,
        },
      ],
    });
    const viaB = await under.raw.unary<WithStatus>(
      'AckMessage',
      ackEntry(first),
      rawConsumerHeaders(),
      10_000,
    );
    assert.equal(viaB.response?.status?.code, v2.Code.OK, JSON.stringify(viaB));

    await proxyA.proxy.close();
    const proxyA2 = await startProxyUnderTest(PROXY_SETTINGS);
    const afterRestart = await proxyA2.raw.unary<WithStatus>(
      'AckMessage',
      ackEntry(second),
      rawConsumerHeaders(),
      10_000,
    );
    assert.equal(afterRestart.response?.status?.code, v2.Code.OK, JSON.stringify(afterRestart));

    // Had an ack not consumed its message, it would be back once the 10 s invisible time ended.
    await sleep(Math.max(0, poppedAt + 12_000 - Date.now()));
    const later = await rawReceive(under.raw, { group, topic, invisibleMs: 10_000, longPollingMs: 1000 });
    assert.deepEqual(
      later.messages.map((m) => m.systemProperties.messageId),
      [],
    );
  });

  test('bad input gets its specific Code and loses nothing: the message comes back and is then acked once', async () => {
    const topic = await freshTopic(under, 'rmqp-it-bad');
    const group = await freshGroup(under, 'rmqp-it-bad-g');
    const [id] = await publishDirect(under.broker, topic, 1, { queues: 1 });
    const [message] = await eventually('the message', { timeoutMs: 10_000 }, async () => {
      const stream = await rawReceive(under.raw, { group, topic, invisibleMs: 10_000 });
      return stream.messages.length > 0 ? stream.messages : undefined;
    });
    assert.equal(message?.systemProperties.messageId, id);
    const handle = message!.systemProperties.receiptHandle;
    const fields = handle.split(' ');

    const ack = async (receiptHandle: string, groupName = group) => {
      const { response } = await under.raw.unary<
        WithStatus & { entries: { status: { code: number; message: string } }[] }
      >(
        'AckMessage',
        { group: { name: groupName }, topic: { name: topic }, entries: [{ messageId: id, receiptHandle }] },
        rawConsumerHeaders(),
        10_000,
      );
      return response;
    };
    const malformed = await ack('not a receipt handle');
    assert.equal(malformed?.status?.code, v2.Code.INVALID_RECEIPT_HANDLE, JSON.stringify(malformed));
    const foreign = await ack([...fields.slice(0, 5), 'no-such-broker', ...fields.slice(6)].join(' '));
    assert.equal(foreign?.status?.code, v2.Code.INVALID_RECEIPT_HANDLE, JSON.stringify(foreign));
    // The response's own status names the code only (as the Java proxy's); the entry says why.
    assert.equal(foreign?.status?.message, 'INVALID_RECEIPT_HANDLE');
    assert.match(foreign?.entries[0]?.status.message ?? '', /cannot find broker no-such-broker/);
    const expired = await ack([fields[0], '1000', ...fields.slice(2)].join(' '));
    assert.equal(expired?.status?.code, v2.Code.INVALID_RECEIPT_HANDLE);
    assert.match(expired?.entries[0]?.status.message ?? '', /expired/);
    // This broker auto-creates unknown groups (autoCreateSubscriptionGroup=true), so the group exists
    // by the time the proxy asks; the ack names another group's checkpoint and consumes nothing.
    const otherGroup = await ack(handle, `rmqp-it-nogroup-${Date.now()}`);
    assert.equal(otherGroup?.status?.code, v2.Code.OK, JSON.stringify(otherGroup));
    const badGroupName = await ack(handle, 'bad group!');
    assert.equal(badGroupName?.status?.code, v2.Code.ILLEGAL_CONSUMER_GROUP);

    const change = async (invisibleMs: number, receiptHandle = handle) =>
      (
        await under.raw.unary<WithStatus & { receiptHandle?: string }>(
          'ChangeInvisibleDuration',
          {
            group: { name: group },
            topic: { name: topic },
            receiptHandle,
            messageId: id,
            invisibleDuration: invisibleMs < 0 ? { seconds: -1 } : durationOf(invisibleMs),
          },
          rawConsumerHeaders(),
          10_000,
        )
      ).response;
    assert.equal((await change(-1))?.status?.code, v2.Code.ILLEGAL_INVISIBLE_TIME);
    assert.equal((await change(13 * 3600_000))?.status?.code, v2.Code.ILLEGAL_INVISIBLE_TIME);
    assert.equal((await change(5000, 'garbage'))?.status?.code, v2.Code.INVALID_RECEIPT_HANDLE);

    const shortInvisible = await rawReceive(under.raw, { group, topic, invisibleMs: 1000 });
    assert.deepEqual(shortInvisible.order, ['status', 'deliveryTimestamp']);
    assert.equal(shortInvisible.statuses[0]?.code, v2.Code.ILLEGAL_INVISIBLE_TIME);
    const badSql = await rawReceive(under.raw, {
      group,
      topic,
      invisibleMs: 10_000,
      filter: { type: 'SQL', expression: 'a >' },
    });
    assert.deepEqual(badSql.order, ['status', 'deliveryTimestamp']);
    assert.equal(
      badSql.statuses[0]?.code,
      v2.Code.ILLEGAL_FILTER_EXPRESSION,
      JSON.stringify(badSql.statuses),
    );
    const emptySql = await rawReceive(under.raw, {
      group,
      topic,
      invisibleMs: 10_000,
      filter: { type: 'SQL', expression: ' ' },
    });
    assert.equal(emptySql.statuses[0]?.code, v2.Code.ILLEGAL_FILTER_EXPRESSION);
    const badTag = await rawReceive(under.raw, {
      group,
      topic,
      invisibleMs: 10_000,
      filter: { type: 'TAG', expression: '||' },
    });
    assert.equal(badTag.statuses[0]?.code, v2.Code.ILLEGAL_FILTER_EXPRESSION);

    // None of that consumed the message: it is back after its invisible time, once, and then acked.
    const back = await eventually('the message back', { timeoutMs: 30_000 }, async () => {
      const stream = await rawReceive(under.raw, { group, topic, invisibleMs: 10_000 });
      return stream.messages.length > 0 ? stream.messages : undefined;
    });
    assert.deepEqual(
      back.map((m) => m.systemProperties.messageId),
      [id],
    );
    assert.equal(back[0]?.systemProperties.deliveryAttempt, 2);
    const good = await ack(back[0]!.systemProperties.receiptHandle);
    assert.equal(good?.status?.code, v2.Code.OK);
  });
});

describe('retries and dead letters', () => {
  test('a message nacked past the group max attempts lands in %DLQ%<group> and is not delivered again', async () => {
    const topic = await freshTopic(under, 'rmqp-it-dlq');
    const group = await freshGroup(under, 'rmqp-it-dlq-g', { retryMaxTimes: 1 });
    const [id] = await publishDirect(under.broker, topic, 1, { queues: 1, bodyPrefix: 'dlq' });
    const attempts: number[] = [];
    const deadline = Date.now() + 90_000;
    while (Date.now() < deadline && (await deadLetters(under.broker, group)).length === 0) {
      const stream = await rawReceive(under.raw, { group, topic, invisibleMs: 10_000, longPollingMs: 2000 });
      for (const message of stream.messages) {
        assert.equal(message.systemProperties.messageId, id);
        attempts.push(message.systemProperties.deliveryAttempt);
        const { response } = await under.raw.unary<WithStatus>(
          'ChangeInvisibleDuration',
          {
            group: { name: group },
            topic: { name: topic },
            receiptHandle: message.systemProperties.receiptHandle,
            messageId: id,
            invisibleDuration: durationOf(0),
          },
          rawConsumerHeaders(),
          10_000,
        );
        assert.equal(response?.status?.code, v2.Code.OK);
      }
    }
    assert.deepEqual(await deadLetters(under.broker, group), ['dlq-0']);
    assert.deepEqual(attempts, [1, 2], 'delivered at most max-attempts (retryMaxTimes + 1) times');
    const after = await rawReceive(under.raw, { group, topic, invisibleMs: 10_000, longPollingMs: 2000 });
    assert.equal(after.messages.length, 0);
  });

  test('ForwardMessageToDeadLetterQueue copies the message into the DLQ and consumes the original', async () => {
    const topic = await freshTopic(under, 'rmqp-it-fwd');
    const group = await freshGroup(under, 'rmqp-it-fwd-g');
    const [id] = await publishDirect(under.broker, topic, 1, { queues: 1, bodyPrefix: 'fwd' });
    const [message] = await eventually('the message', { timeoutMs: 10_000 }, async () => {
      const stream = await rawReceive(under.raw, { group, topic, invisibleMs: 10_000 });
      return stream.messages.length > 0 ? stream.messages : undefined;
    });
    const poppedAt = Date.now();
    const { response } = await under.raw.unary<WithStatus>(
      'ForwardMessageToDeadLetterQueue',
      {
        group: { name: group },
        topic: { name: topic },
        receiptHandle: message!.systemProperties.receiptHandle,
        messageId: id,
        deliveryAttempt: 1,
        maxDeliveryAttempts: 17,
      },
      rawConsumerHeaders(),
      10_000,
    );
    assert.equal(response?.status?.code, v2.Code.OK, JSON.stringify(response));
    await eventually('the DLQ copy', { timeoutMs: 10_000 }, async () =>
      (await deadLetters(under.broker, group)).length > 0 ? true : undefined,
    );
    assert.deepEqual(await deadLetters(under.broker, group), ['fwd-0']);
    await sleep(Math.max(0, poppedAt + 12_000 - Date.now()));
    const after = await rawReceive(under.raw, { group, topic, invisibleMs: 10_000, longPollingMs: 1000 });
    assert.equal(after.messages.length, 0, 'the original was consumed');
  });
});

describe('offset RPCs', () => {
  test('QueryOffset, PullMessage from an offset, UpdateOffset and GetOffset against the real broker', async () => {
    const topic = await freshTopic(under, 'rmqp-it-pull', 1);
    const group = await freshGroup(under, 'rmqp-it-pull-g');
    const ids = await publishDirect(under.broker, topic, 5, { queues: 1 });
    const queue = {
      topic: { name: topic },
      id: 0,
      broker: {
        name: under.proxy.core ? (await under.proxy.core.routes.view(topic)).readQueues[0]!.brokerName : '',
      },
    };
    const headers = rawConsumerHeaders();
    const begin = await under.raw.unary<WithStatus & { offset: number }>(
      'QueryOffset',
      { messageQueue: queue, queryOffsetPolicy: v2.QueryOffsetPolicy.BEGINNING },
      headers,
      10_000,
    );
    const end = await under.raw.unary<WithStatus & { offset: number }>(
      'QueryOffset',
      { messageQueue: queue, queryOffsetPolicy: v2.QueryOffsetPolicy.END },
      headers,
      10_000,
    );
    assert.equal(begin.response?.status?.code, v2.Code.OK);
    assert.equal(Number(begin.response?.offset ?? 0), 0);
    assert.equal(Number(end.response?.offset), 5);

    const none = await under.raw.unary<WithStatus>(
      'GetOffset',
      { group: { name: group }, messageQueue: queue },
      headers,
      10_000,
    );
    assert.equal(none.response?.status?.code, v2.Code.OFFSET_NOT_FOUND);

    const pulled = await new Promise<{
      kinds: string[];
      ids: string[];
      next?: number;
      code?: number;
      text?: string;
    }>((resolve) => {
      const metadata = new (require_grpc().Metadata)();
      for (const [k, v] of Object.entries(headers)) metadata.set(k, v);
      const call = under.raw.raw['PullMessage']!(
        {
          group: { name: group },
          messageQueue: queue,
          offset: 2,
          batchSize: 32,
          filterExpression: { type: v2.FilterType.TAG, expression: '*' },
          longPollingTimeout: durationOf(1000),
        },
        metadata,
        { deadline: Date.now() + 10_000 },
      ) as import('@grpc/grpc-js').ClientReadableStream<{
        status?: { code: number };
        message?: { systemProperties: { messageId: string } };
        nextOffset?: number;
      }>;
      const result: { kinds: string[]; ids: string[]; next?: number; code?: number; text?: string } = {
        kinds: [],
        ids: [],
      };
      call.on('data', (response) => {
        if (response.status) {
          result.kinds.push('status');
          result.code = response.status.code;
          result.text = JSON.stringify(response.status);
        } else if (response.message) {
          result.kinds.push('message');
          result.ids.push(response.message.systemProperties.messageId);
        } else {
          result.kinds.push('nextOffset');
          result.next = Number(response.nextOffset);
        }
      });
      call.on('error', () => resolve(result));
      call.on('end', () => resolve(result));
    });
    assert.equal(pulled.code, v2.Code.OK, pulled.text);
    assert.deepEqual(pulled.ids, ids.slice(2));
    assert.equal(pulled.next, 5);
    assert.deepEqual(pulled.kinds, ['status', 'message', 'message', 'message', 'nextOffset']);

    const update = await under.raw.unary<WithStatus>(
      'UpdateOffset',
      { group: { name: group }, messageQueue: queue, offset: 4 },
      headers,
      10_000,
    );
    assert.equal(update.response?.status?.code, v2.Code.OK, JSON.stringify(update.response));
    const got = await under.raw.unary<WithStatus & { offset: number }>(
      'GetOffset',
      { group: { name: group }, messageQueue: queue },
      headers,
      10_000,
    );
    assert.equal(got.response?.status?.code, v2.Code.OK);
    assert.equal(Number(got.response?.offset), 4);
  });
});

import * as grpcModule from '@grpc/grpc-js';

function require_grpc() {
  return grpcModule;
}
