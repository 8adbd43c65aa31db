/**
 * Transactions through our proxy against the real broker, with the official Node Producer: a
 * committed half message becomes visible, a rolled-back one never does, and an unresolved one is
 * recovered through the client's checker (broker CHECK_TRANSACTION_STATE → proxy → Telemetry
 * RecoverOrphanedTransactionCommand → checker → EndTransaction(SOURCE_SERVER_CHECK) → broker). A
 * second proxy ends a transaction the first one started: the proxy keeps no transaction state.
 * Each test uses its own TRANSACTION topic so broker checks cannot go to another suite's clients.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { decodeTransactionId } from '../../../proxy/src/core/transaction-id.ts';
import { v2 } from '../../../proxy/src/grpc/protocol.ts';
import { MessageProperty } from '../../../proxy/src/remoting/message/properties.ts';
import { TransactionType, transactionTypeOf } from '../../../proxy/src/remoting/message/sysflag.ts';
import { BROKER_TIMINGS } from '../../harness/env.ts';
import { createTopic, route, uniqueName } from '../../support/broker.ts';
import { eventually, sleep, withTimeout } from '../../support/wait.ts';
import {
  arrivedSince,
  nodeClient,
  onCleanup,
  type ProxyUnderTest,
  rawHeaders,
  readBack,
  snapshot,
  startProxyUnderTest,
} from './publish-support.ts';

const { Producer } = nodeClient;
type MessageView = InstanceType<typeof nodeClient.MessageView>;

const FIRST_CHECK_WITHIN_MS = BROKER_TIMINGS.transactionTimeOutMs + BROKER_TIMINGS.transactionCheckIntervalMs;

let under: ProxyUnderTest;
let second: ProxyUnderTest;

before(async () => {
  under = await startProxyUnderTest();
  second = await startProxyUnderTest();
});

async function transactionTopic(): Promise<string> {
  const topic = uniqueName('rmqp-it-ptx');
  await createTopic(under.broker, { topic, readQueueNums: 2, writeQueueNums: 2, messageType: 'TRANSACTION' });
  await eventually(
    'the topic route',
    { timeoutMs: 15_000 },
    async () => (await route(under.namesrv, topic)).queueDatas.length > 0 || undefined,
  );
  return topic;
}

/** A started Node producer of `topic` through `target`, whose checker answers from `answers`. */
async function startProducer(
  target: ProxyUnderTest,
  topic: string,
  answers: Map<string, number>,
  checked: MessageView[],
): Promise<InstanceType<typeof Producer>> {
  const producer = new Producer({
    endpoints: target.endpoint,
    namespace: '',
    topics: [topic],
    requestTimeout: 10_000,
    checker: {
      async check(view: MessageView) {
        checked.push(view);
        return answers.get(view.messageId) ?? v2.TransactionResolution.TRANSACTION_RESOLUTION_UNSPECIFIED;
      },
    },
  });
  onCleanup(() => producer.shutdown().catch(() => undefined));
  await withTimeout(producer.startup(), 30_000, 'Producer.startup()');
  return producer;
}

describe('transactions through the proxy', { concurrency: true }, () => {
  test('commit: the half message is invisible until committed, then arrives with COMMIT', {
    timeout: 60_000,
  }, async () => {
    const topic = await transactionTopic();
    const producer = await startProducer(under, topic, new Map(), []);
    const since = await snapshot(under, topic);
    const transaction = producer.beginTransaction();
    const receipt = await producer.send(
      {
        topic,
        body: Buffer.from('commit me'),
        tag: 'tx',
        keys: ['tx-key'],
        properties: new Map([['step', 'commit']]),
      },
      transaction,
    );
    const handle = decodeTransactionId(receipt.transactionId);
    assert.ok(handle, `transaction id ${receipt.transactionId} carries the broker coordinates`);
    assert.equal(handle.brokerTransactionId, receipt.messageId);
    await sleep(500);
    assert.deepEqual(await arrivedSince(under, topic, since), [], 'visible before the commit');
    await transaction.commit();
    const stored = await readBack(under, topic, since, receipt.messageId);
    assert.equal(stored.body.toString(), 'commit me');
    assert.equal(stored.properties.get(MessageProperty.TAGS), 'tx');
    assert.equal(stored.properties.get(MessageProperty.KEYS), 'tx-key');
    assert.equal(stored.properties.get('step'), 'commit');
    assert.equal(stored.properties.get(MessageProperty.PRODUCER_GROUP), topic);
    assert.equal(transactionTypeOf(stored.sysFlag), TransactionType.COMMIT);
  });

  test('rollback: the message never becomes visible', { timeout: 60_000 }, async () => {
    const topic = await transactionTopic();
    const producer = await startProducer(under, topic, new Map(), []);
    const since = await snapshot(under, topic);
    const transaction = producer.beginTransaction();
    await producer.send({ topic, body: Buffer.from('roll me back') }, transaction);
    await transaction.rollback();
    const until = Date.now() + FIRST_CHECK_WITHIN_MS + 1500;
    while (Date.now() < until) {
      assert.deepEqual(await arrivedSince(under, topic, since), [], 'a rolled-back message appeared');
      await sleep(300);
    }
  });

  test('unresolved: the broker check reaches the checker over Telemetry; its COMMIT publishes the message', {
    timeout: 90_000,
  }, async () => {
    const topic = await transactionTopic();
    const answers = new Map<string, number>();
    const checked: MessageView[] = [];
    const producer = await startProducer(under, topic, answers, checked);
    const since = await snapshot(under, topic);
    const transaction = producer.beginTransaction();
    const receipt = await producer.send(
      {
        topic,
        body: Buffer.from('resolved by a check'),
        keys: ['chk'],
        properties: new Map([['step', 'check']]),
      },
      transaction,
    );
    answers.set(receipt.messageId, v2.TransactionResolution.COMMIT);
    // Never commit: the broker must ask.
    const stored = await readBack(under, topic, since, receipt.messageId, FIRST_CHECK_WITHIN_MS + 30_000);
    assert.equal(stored.body.toString(), 'resolved by a check');
    assert.equal(transactionTypeOf(stored.sysFlag), TransactionType.COMMIT);
    const view = checked.find((v) => v.messageId === receipt.messageId);
    assert.ok(view, 'the checker saw the message');
    assert.equal(view.topic, topic);
    assert.equal(view.body.toString(), 'resolved by a check');
    assert.deepEqual(view.keys, ['chk']);
    assert.equal(view.properties.get('step'), 'check');
    assert.notEqual(view.corrupted, true, 'body digest matches');
  });

  test('unresolved and rolled back by the checker: never visible', { timeout: 90_000 }, async () => {
    const topic = await transactionTopic();
    const answers = new Map<string, number>();
    const checked: MessageView[] = [];
    const producer = await startProducer(under, topic, answers, checked);
    const since = await snapshot(under, topic);
    const receipt = await producer.send(
      { topic, body: Buffer.from('checker says no') },
      producer.beginTransaction(),
    );
    answers.set(receipt.messageId, v2.TransactionResolution.ROLLBACK);
    await eventually(
      'the check',
      { timeoutMs: FIRST_CHECK_WITHIN_MS + 30_000 },
      async () => checked.some((v) => v.messageId === receipt.messageId) || undefined,
    );
    await sleep(FIRST_CHECK_WITHIN_MS);
    assert.deepEqual(await arrivedSince(under, topic, since), []);
  });

  test('another proxy replica ends a transaction this one started (no proxy-local state)', {
    timeout: 60_000,
  }, async () => {
    const topic = await transactionTopic();
    const producer = await startProducer(under, topic, new Map(), []);
    const since = await snapshot(under, topic);
    const receipt = await producer.send(
      { topic, body: Buffer.from('ended elsewhere') },
      producer.beginTransaction(),
    );
    const { response } = await second.raw.unary<{ status?: { code?: number; message?: string } }>(
      'EndTransaction',
      {
        topic: { name: topic },
        messageId: receipt.messageId,
        transactionId: receipt.transactionId,
        resolution: v2.TransactionResolution.COMMIT,
        source: v2.TransactionSource.SOURCE_CLIENT,
      },
      rawHeaders('raw-ender@1'),
      10_000,
    );
    assert.equal(response?.status?.code, v2.Code.OK, response?.status?.message);
    const stored = await readBack(under, topic, since, receipt.messageId);
    assert.equal(stored.body.toString(), 'ended elsewhere');
  });

  test('EndTransaction under another topic (producer group) is refused by the broker', {
    timeout: 60_000,
  }, async () => {
    const topic = await transactionTopic();
    const other = await transactionTopic();
    const producer = await startProducer(under, topic, new Map(), []);
    const transaction = producer.beginTransaction();
    const receipt = await producer.send({ topic, body: Buffer.from('x') }, transaction);
    const { response } = await under.raw.unary<{ status?: { code?: number } }>(
      'EndTransaction',
      {
        topic: { name: other },
        messageId: receipt.messageId,
        transactionId: receipt.transactionId,
        resolution: v2.TransactionResolution.COMMIT,
      },
      rawHeaders(),
      10_000,
    );
    assert.notEqual(response?.status?.code, v2.Code.OK);
    await transaction.rollback();
  });
});
