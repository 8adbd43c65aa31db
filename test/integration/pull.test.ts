/**
 * PULL_MESSAGE against the real broker: the four statuses with their offset headers, paging by
 * nextBeginOffset, tag filtering by hash, long polling (SUSPEND) woken by a send, and COMMIT_OFFSET.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { RemotingConnection } from '../../proxy/src/remoting/connection.ts';
import { RemotingResponseError } from '../../proxy/src/remoting/errors.ts';
import { MessageProperty } from '../../proxy/src/remoting/message/properties.ts';
import {
  parseQueryConsumerOffset,
  queryConsumerOffsetRequest,
} from '../../proxy/src/remoting/requests/offsets.ts';
import {
  type PullMessageParams,
  type PullResult,
  parsePullResponse,
  pullMessageRequest,
} from '../../proxy/src/remoting/requests/pull.ts';
import {
  connect,
  createTopic,
  maxOffset,
  pull,
  pullAll,
  rocketmq,
  send,
  uniqueName,
} from '../support/broker.ts';
import { sleep } from '../support/wait.ts';

const PRODUCER_GROUP = 'rmqp-it-pull-producer';

describe('PULL_MESSAGE', () => {
  let broker: RemotingConnection;
  before(async () => {
    broker = await connect(rocketmq.brokerAddr, 20_000);
  });

  /** A fresh one-queue topic holding messages with the given tags, fully dispatched. */
  async function topicWith(tags: string[]): Promise<{ topic: string; ids: string[] }> {
    const topic = uniqueName('rmqp-it-pull');
    await createTopic(broker, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'NORMAL' });
    const ids: string[] = [];
    for (const [i, tag] of tags.entries()) {
      const sent = await send(broker, {
        producerGroup: PRODUCER_GROUP,
        topic,
        body: Buffer.from(`m${i}`),
        tags: tag,
      });
      ids.push(sent.uniqueId);
    }
    // Wait until the consume queue has them all, so statuses below do not race the dispatcher.
    await pullAll(
      broker,
      { consumerGroup: uniqueName('rmqp-it-pull-probe'), topic, queueId: 0, offset: 0 },
      tags.length,
    );
    return { topic, ids };
  }

  async function pullWith(params: Partial<PullMessageParams> & { topic: string }): Promise<PullResult> {
    return parsePullResponse(
      await broker.request(
        pullMessageRequest({
          consumerGroup: 'rmqp-it-pull-reader',
          queueId: 0,
          queueOffset: 0,
          maxMsgNums: 32,
          sysFlag: { subscription: true },
          subscription: '*',
          expressionType: 'TAG',
          ...params,
        }),
      ),
    );
  }

  test('statuses: NO_NEW_MSG on an empty queue, FOUND pages by nextBeginOffset, OFFSET_ILLEGAL past the end', async () => {
    const topic = uniqueName('rmqp-it-pull-empty');
    await createTopic(broker, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'NORMAL' });
    const empty = await pullWith({ topic });
    assert.deepEqual(
      { status: empty.status, next: empty.nextBeginOffset, min: empty.minOffset, max: empty.maxOffset },
      { status: 'NO_NEW_MSG', next: 0, min: 0, max: 0 },
    );
    assert.deepEqual(empty.messages, []);

    const { topic: full, ids } = await topicWith(['a', 'b', 'c', 'd', 'e']);
    const page1 = await pullWith({ topic: full, maxMsgNums: 2 });
    assert.equal(page1.status, 'FOUND');
    assert.equal(page1.suggestWhichBrokerId, 0);
    assert.deepEqual([page1.minOffset, page1.maxOffset, page1.nextBeginOffset], [0, 5, 2]);
    const page2 = await pullWith({ topic: full, queueOffset: page1.nextBeginOffset });
    assert.equal(page2.nextBeginOffset, 5);
    assert.deepEqual(
      [...page1.messages, ...page2.messages].map((m) => m.properties.get(MessageProperty.UNIQ_KEY)),
      ids,
    );
    assert.deepEqual(
      [...page1.messages, ...page2.messages].map((m) => m.queueOffset),
      [0, 1, 2, 3, 4],
    );

    const atEnd = await pullWith({ topic: full, queueOffset: 5 });
    assert.deepEqual([atEnd.status, atEnd.nextBeginOffset], ['NO_NEW_MSG', 5]);
    // Beyond the end: the broker says the offset is illegal and points back to the end.
    const beyond = await pullWith({ topic: full, queueOffset: 100 });
    assert.deepEqual([beyond.status, beyond.nextBeginOffset, beyond.maxOffset], ['OFFSET_ILLEGAL', 5, 5]);
    assert.deepEqual(beyond.messages, []);
  });

  test('a tag subscription returns only matching messages and skips the rest via nextBeginOffset', async () => {
    const { topic, ids } = await topicWith(['A', 'B', 'A', 'B', 'B', 'A']);
    const tagA = await pullWith({ topic, subscription: 'A' });
    assert.equal(tagA.status, 'FOUND');
    assert.deepEqual(
      tagA.messages.map((m) => m.properties.get(MessageProperty.UNIQ_KEY)),
      [ids[0], ids[2], ids[5]],
    );
    assert.equal(tagA.nextBeginOffset, 6);
    const both = await pullWith({ topic, subscription: 'A || B' });
    assert.equal(both.messages.length, 6);
    // Reading only non-matching messages: nothing returned, but the offset moves on.
    const none = await pullWith({ topic, queueOffset: 3, maxMsgNums: 2, subscription: 'A' });
    assert.equal(none.messages.filter((m) => m.properties.get(MessageProperty.TAGS) !== 'A').length, 0);
    assert.ok(none.nextBeginOffset > 3);
  });

  test('a suspended pull on an empty queue returns as soon as a message arrives', {
    timeout: 30_000,
  }, async () => {
    const topic = uniqueName('rmqp-it-pull-long');
    await createTopic(broker, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'NORMAL' });
    const started = Date.now();
    const held = broker.request(
      pullMessageRequest({
        consumerGroup: 'rmqp-it-pull-reader',
        topic,
        queueId: 0,
        queueOffset: 0,
        maxMsgNums: 1,
        sysFlag: { subscription: true, suspend: true },
        suspendTimeoutMillis: 15_000,
        subscription: '*',
        expressionType: 'TAG',
      }),
      { timeoutMs: 25_000 },
    );
    await sleep(500);
    const sent = await send(broker, { producerGroup: PRODUCER_GROUP, topic, body: Buffer.from('wake up') });
    const result = parsePullResponse(await held);
    const elapsed = Date.now() - started;
    assert.equal(result.status, 'FOUND');
    assert.equal(result.messages[0]?.properties.get(MessageProperty.UNIQ_KEY), sent.uniqueId);
    assert.ok(elapsed >= 400, `answered after ${elapsed} ms, before the message was sent`);
    assert.ok(elapsed < 10_000, `held ${elapsed} ms: the arrival did not wake the pull`);
  });

  test('COMMIT_OFFSET stores the commit offset as the group offset', async () => {
    const { topic } = await topicWith(['x', 'y', 'z']);
    const group = uniqueName('rmqp-it-pull-commit');
    const queue = { topic, queueId: 0 };
    assert.equal(
      parseQueryConsumerOffset(await broker.request(queryConsumerOffsetRequest(queue, group))),
      undefined,
    );
    const result = await pullWith({
      topic,
      consumerGroup: group,
      queueOffset: 2,
      sysFlag: { subscription: true, commitOffset: true },
      commitOffset: 2,
    });
    assert.equal(result.status, 'FOUND');
    assert.equal(parseQueryConsumerOffset(await broker.request(queryConsumerOffsetRequest(queue, group))), 2);
  });

  test('pulling a queue id the topic does not have is INVALID_PARAMETER', async () => {
    const topic = uniqueName('rmqp-it-pull-badq');
    await createTopic(broker, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'NORMAL' });
    assert.equal(await maxOffset(broker, topic, 0), 0);
    await assert.rejects(
      pull(broker, { consumerGroup: 'rmqp-it-pull-reader', topic, queueId: 9, offset: 0 }),
      (error: unknown) =>
        error instanceof RemotingResponseError &&
        error.errorCode === 'RMQ_INVALID_PARAMETER' &&
        (error.remark ?? '').includes('queueId[9] is illegal'),
    );
  });
});
