/**
 * Transactions against the real broker: half messages stay invisible until END_TRANSACTION commits
 * them, rolled-back ones never appear, and an unresolved one makes the broker call back with
 * CHECK_TRANSACTION_STATE on the connection that registered the producer group by HEART_BEAT; our
 * handler answers with a commit and the message appears. Broker check timings are shortened by the
 * harness (BROKER_TIMINGS), so a check arrives within a few seconds.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RequestCode, ResponseCode } from '../../proxy/src/remoting/codes.ts';
import type { RemotingConnection } from '../../proxy/src/remoting/connection.ts';
import { RemotingResponseError } from '../../proxy/src/remoting/errors.ts';
import { decodeOffsetMessageId } from '../../proxy/src/remoting/message/message-id.ts';
import { MessageProperty } from '../../proxy/src/remoting/message/properties.ts';
import { TransactionType, transactionTypeOf } from '../../proxy/src/remoting/message/sysflag.ts';
import { heartbeatRequest, parseHeartbeat } from '../../proxy/src/remoting/requests/heartbeat.ts';
import {
  endTransactionRequest,
  parseCheckTransactionState,
  parseEndTransaction,
  type TransactionCheck,
  type TransactionResolution,
} from '../../proxy/src/remoting/requests/transaction.ts';
import { BROKER_TIMINGS } from '../harness/env.ts';
import { connect, createTopic, maxOffset, pullAll, rocketmq, send, uniqueName } from '../support/broker.ts';
import { endTransactionAfterSend, endTransactionForCheck } from '../support/remoting/transaction-requests.ts';
import { eventually, sleep } from '../support/wait.ts';

const HALF_TOPIC = 'RMQ_SYS_TRANS_HALF_TOPIC';
/** Longest a half message can wait for its first check: it must age past the timeout, then a scan runs. */
const FIRST_CHECK_WITHIN_MS = BROKER_TIMINGS.transactionTimeOutMs + BROKER_TIMINGS.transactionCheckIntervalMs;

/** A check as our handler saw it, plus how the broker answered our END_TRANSACTION for it. */
interface ReceivedCheck {
  check: TransactionCheck;
  oneway: boolean;
  receivedAt: number;
  answer?: Promise<void>;
}

describe('transactions', { concurrency: true }, () => {
  // Unique per run: the broker picks the check target among the group's registered channels.
  const producerGroup = uniqueName('rmqp-it-tx-producer');
  const clientId = uniqueName('127.0.0.1@rmqp-it-tx');
  /** UNIQ_KEY → checks received for it. */
  const checks = new Map<string, ReceivedCheck[]>();
  /**
   * How our check handler answers, by UNIQ_KEY (UNKNOWN for any other). Even transactions ended right
   * after sending can be checked: the broker records ends in op messages it writes in batches every
   * `transactionOpBatchInterval` (3 s by default), longer than the harness's 2 s transaction timeout.
   */
  const outcomes = new Map<string, TransactionResolution>();
  let producer: RemotingConnection;

  before(async () => {
    producer = await connect(rocketmq.brokerAddr);
    producer.onRequest(RequestCode.CHECK_TRANSACTION_STATE, (command, connection) => {
      const check = parseCheckTransactionState(command);
      const uniqueId = check.message.properties.get(MessageProperty.UNIQ_KEY) ?? '';
      const received: ReceivedCheck = { check, oneway: (command.flag & 2) !== 0, receivedAt: Date.now() };
      const resolution = outcomes.get(uniqueId) ?? 'UNKNOWN';
      const reply = endTransactionForCheck(check, resolution);
      received.answer = reply.expectsResponse
        ? connection.request(reply).then(parseEndTransaction)
        : connection.oneway(reply);
      checks.set(uniqueId, [...(checks.get(uniqueId) ?? []), received]);
      return undefined; // the check is oneway: nothing to reply
    });
    parseHeartbeat(await producer.request(heartbeatRequest({ clientId, producerGroups: [producerGroup] })));
  });

  async function transactionTopic(): Promise<string> {
    const topic = uniqueName('rmqp-it-tx');
    await createTopic(producer, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'TRANSACTION' });
    return topic;
  }

  /** Asserts repeatedly, for `ms`, that the topic's only queue stays empty. */
  async function assertStaysEmpty(topic: string, ms: number): Promise<void> {
    const until = Date.now() + ms;
    do {
      assert.equal(await maxOffset(producer, topic, 0), 0, `${topic} received a message`);
      await sleep(200);
    } while (Date.now() < until);
  }

  test('a committed half message becomes visible, with COMMIT in its sysFlag', {
    timeout: 30_000,
  }, async () => {
    const topic = await transactionTopic();
    const sent = await send(producer, {
      producerGroup,
      topic,
      body: Buffer.from('commit me'),
      tags: 'tx',
      transactional: true,
    });
    assert.equal(sent.status, 'SEND_OK');
    assert.equal(sent.transactionId, sent.uniqueId);
    outcomes.set(sent.uniqueId, 'COMMIT');
    // The half record lives in the half topic: the real topic has nothing yet.
    await assertStaysEmpty(topic, 600);

    const end = endTransactionAfterSend({ producerGroup, sendResult: sent, resolution: 'COMMIT', topic });
    assert.equal(end.expectsResponse, true);
    parseEndTransaction(await producer.request(end));

    const [message] = await pullAll(
      producer,
      { consumerGroup: 'rmqp-it-tx-reader', topic, queueId: 0, offset: 0 },
      1,
    );
    assert.ok(message);
    assert.equal(message.topic, topic);
    assert.equal(message.body.toString(), 'commit me');
    assert.equal(message.properties.get(MessageProperty.UNIQ_KEY), sent.uniqueId);
    assert.equal(message.properties.get(MessageProperty.TAGS), 'tx');
    assert.equal(message.properties.get(MessageProperty.PRODUCER_GROUP), producerGroup);
    assert.equal(transactionTypeOf(message.sysFlag), TransactionType.COMMIT);
    // The committed copy points back at the half record.
    assert.equal(message.preparedTransactionOffset, decodeOffsetMessageId(sent.offsetMsgId).commitLogOffset);
  });

  test('a rolled-back half message never becomes visible', { timeout: 30_000 }, async () => {
    const topic = await transactionTopic();
    const sent = await send(producer, {
      producerGroup,
      topic,
      body: Buffer.from('roll me back'),
      transactional: true,
    });
    outcomes.set(sent.uniqueId, 'ROLLBACK');
    parseEndTransaction(
      await producer.request(
        endTransactionAfterSend({ producerGroup, sendResult: sent, resolution: 'ROLLBACK', topic }),
      ),
    );
    // Past the point where an unresolved half message would have been checked.
    await assertStaysEmpty(topic, FIRST_CHECK_WITHIN_MS + 1500);
    for (const { answer } of checks.get(sent.uniqueId) ?? []) await answer;
  });

  test('an END_TRANSACTION whose offsets do not match the half record is refused', async () => {
    const topic = await transactionTopic();
    const sent = await send(producer, { producerGroup, topic, body: Buffer.from('x'), transactional: true });
    outcomes.set(sent.uniqueId, 'ROLLBACK');
    const { commitLogOffset } = decodeOffsetMessageId(sent.offsetMsgId);
    const wrong = endTransactionRequest({
      producerGroup,
      tranStateTableOffset: sent.queueOffset + 1000,
      commitLogOffset,
      commitOrRollback: 'COMMIT',
      fromTransactionCheck: false,
      msgId: sent.uniqueId,
      transactionId: sent.transactionId,
      topic,
    });
    await assert.rejects(
      producer.request(wrong).then(parseEndTransaction),
      (error: unknown) =>
        error instanceof RemotingResponseError && error.responseCode === ResponseCode.SYSTEM_ERROR,
    );
    // Clean up: roll back properly so the broker does not keep checking it.
    parseEndTransaction(
      await producer.request(
        endTransactionAfterSend({ producerGroup, sendResult: sent, resolution: 'ROLLBACK', topic }),
      ),
    );
  });

  test('an unresolved half message is checked over our connection; committing from the check publishes it', {
    timeout: 30_000,
  }, async () => {
    const topic = await transactionTopic();
    const body = Buffer.from('resolved by a check');
    const sent = await send(producer, {
      producerGroup,
      topic,
      body,
      keys: 'tx-check-key',
      properties: { step: 'check' },
      transactional: true,
    });
    outcomes.set(sent.uniqueId, 'COMMIT');
    const sentAt = Date.now();

    const received = await eventually(
      'CHECK_TRANSACTION_STATE',
      { timeoutMs: FIRST_CHECK_WITHIN_MS + 15_000 },
      async () => checks.get(sent.uniqueId)?.[0],
    );
    assert.ok(
      received.receivedAt - sentAt >= BROKER_TIMINGS.transactionTimeOutMs - 500,
      'no check before the transaction timeout',
    );
    const { check } = received;
    assert.equal(received.oneway, true, 'brokers send checks oneway');
    assert.equal(check.topic, HALF_TOPIC);
    assert.equal(check.brokerName, rocketmq.brokerName);
    assert.equal(check.msgId, sent.uniqueId);
    assert.equal(check.transactionId, sent.uniqueId);
    assert.equal(check.producerGroup, producerGroup);
    // The body is the half message with its real topic and queue restored.
    assert.equal(check.message.topic, topic);
    assert.equal(check.message.queueId, 0);
    assert.deepEqual(check.message.body, body);
    assert.equal(check.message.properties.get(MessageProperty.KEYS), 'tx-check-key');
    assert.equal(check.message.properties.get('step'), 'check');
    assert.equal(check.message.properties.get(MessageProperty.TRANSACTION_PREPARED), 'true');
    // The broker keeps the half record as a plain (NOT-type) message in its half topic: the check's
    // record says so, and only TRAN_MSG marks it as a half message.
    assert.equal(transactionTypeOf(check.message.sysFlag), TransactionType.NOT);
    assert.ok(Number(check.message.properties.get(MessageProperty.TRANSACTION_CHECK_TIMES)) >= 1);
    // The broker re-appended the half record before checking: the offsets are new ones.
    assert.ok(check.commitLogOffset > decodeOffsetMessageId(sent.offsetMsgId).commitLogOffset);
    assert.ok(check.tranStateTableOffset > sent.queueOffset);
    assert.ok(check.offsetMsgId, 'a broker names the re-appended record');
    assert.equal(decodeOffsetMessageId(check.offsetMsgId).commitLogOffset, check.commitLogOffset);
    await received.answer;

    const [message] = await pullAll(
      producer,
      { consumerGroup: 'rmqp-it-tx-reader', topic, queueId: 0, offset: 0 },
      1,
    );
    assert.ok(message);
    assert.deepEqual(message.body, body);
    assert.equal(message.properties.get(MessageProperty.UNIQ_KEY), sent.uniqueId);
    assert.equal(transactionTypeOf(message.sysFlag), TransactionType.COMMIT);
  });
});
