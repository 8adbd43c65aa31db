/**
 * Queue and consumer offsets against the real broker: min/max offsets, search by store timestamp
 * (LOWER/UPPER boundaries), and a group's committed offset (QUERY_NOT_FOUND → undefined, update, rewind).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RequestCode } from '../../proxy/src/remoting/codes.ts';
import type { RemotingConnection } from '../../proxy/src/remoting/connection.ts';
import { RemotingResponseError } from '../../proxy/src/remoting/errors.ts';
import type { StoredMessage } from '../../proxy/src/remoting/message/stored-message.ts';
import {
  type BoundaryType,
  minOffsetRequest,
  parseOffset,
  parseQueryConsumerOffset,
  parseUpdateConsumerOffset,
  queryConsumerOffsetRequest,
  searchOffsetRequest,
  updateConsumerOffsetRequest,
} from '../../proxy/src/remoting/requests/offsets.ts';
import {
  connect,
  createGroup,
  createTopic,
  maxOffset,
  pullAll,
  rocketmq,
  send,
  uniqueName,
} from '../support/broker.ts';
import { sleep } from '../support/wait.ts';

const PRODUCER_GROUP = 'rmqp-it-offsets-producer';

describe('offsets', () => {
  let broker: RemotingConnection;
  before(async () => {
    broker = await connect(rocketmq.brokerAddr);
  });

  const minOffset = async (topic: string, queueId: number): Promise<number> =>
    parseOffset(await broker.request(minOffsetRequest({ topic, queueId })), RequestCode.GET_MIN_OFFSET);

  const search = async (topic: string, timestamp: number, boundary: BoundaryType): Promise<number> =>
    parseOffset(
      await broker.request(searchOffsetRequest({ topic, queueId: 0 }, timestamp, boundary)),
      RequestCode.SEARCH_OFFSET_BY_TIMESTAMP,
    );

  /** A one-queue topic with `count` messages sent ~40 ms apart (distinct store times); returns them as stored. */
  async function spacedMessages(count: number): Promise<{ topic: string; stored: StoredMessage[] }> {
    const topic = uniqueName('rmqp-it-offsets');
    await createTopic(broker, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'NORMAL' });
    for (let i = 0; i < count; i++) {
      await send(broker, { producerGroup: PRODUCER_GROUP, topic, body: Buffer.from(`m${i}`) });
      await sleep(40);
    }
    const stored = await pullAll(
      broker,
      { consumerGroup: 'rmqp-it-offsets-reader', topic, queueId: 0, offset: 0 },
      count,
    );
    return { topic, stored };
  }

  test('min and max offsets: 0/0 when empty, max is one past the last message', async () => {
    const topic = uniqueName('rmqp-it-offsets-minmax');
    await createTopic(broker, { topic, readQueueNums: 2, writeQueueNums: 2, messageType: 'NORMAL' });
    assert.deepEqual([await minOffset(topic, 0), await maxOffset(broker, topic, 0)], [0, 0]);
    for (let i = 0; i < 4; i++) {
      await send(broker, { producerGroup: PRODUCER_GROUP, topic, queueId: 1, body: Buffer.from(`m${i}`) });
    }
    await pullAll(broker, { consumerGroup: 'rmqp-it-offsets-reader', topic, queueId: 1, offset: 0 }, 4);
    assert.deepEqual([await minOffset(topic, 1), await maxOffset(broker, topic, 1)], [0, 4]);
    // The other queue is untouched.
    assert.equal(await maxOffset(broker, topic, 0), 0);
  });

  test('search by timestamp finds each message by its store time, and clamps to the queue ends', async () => {
    const { topic, stored } = await spacedMessages(5);
    for (const message of stored) {
      assert.equal(await search(topic, message.storeTimestamp, 'LOWER'), message.queueOffset);
      assert.equal(await search(topic, message.storeTimestamp, 'UPPER'), message.queueOffset);
    }
    // Between two store times, LOWER gives the later message (the first stored at or after the time).
    const [, second, third] = stored;
    assert.ok(second && third && third.storeTimestamp - second.storeTimestamp >= 2);
    assert.equal(await search(topic, second.storeTimestamp + 1, 'LOWER'), third.queueOffset);
    // Before everything: the first offset; after everything: the max offset.
    assert.equal(await search(topic, 1, 'LOWER'), 0);
    assert.equal(await search(topic, Date.now() + 3_600_000, 'LOWER'), stored.length);
  });

  test('a group without a committed offset reads as undefined; updates need the group, are read back, rewinds too', async () => {
    const topic = uniqueName('rmqp-it-offsets-group');
    const group = uniqueName('rmqp-it-offsets-group');
    await createTopic(broker, { topic, readQueueNums: 2, writeQueueNums: 2, messageType: 'NORMAL' });
    for (let i = 0; i < 6; i++) {
      await send(broker, { producerGroup: PRODUCER_GROUP, topic, queueId: 0, body: Buffer.from(`m${i}`) });
    }
    await pullAll(broker, { consumerGroup: 'rmqp-it-offsets-reader', topic, queueId: 0, offset: 0 }, 6);
    const q0 = { topic, queueId: 0 };
    const q1 = { topic, queueId: 1 };
    const query = async (queue: typeof q0): Promise<number | undefined> =>
      parseQueryConsumerOffset(await broker.request(queryConsumerOffsetRequest(queue, group)));
    const update = async (queue: typeof q0, offset: number): Promise<void> =>
      parseUpdateConsumerOffset(await broker.request(updateConsumerOffsetRequest(queue, group, offset)));

    assert.equal(await query(q0), undefined);
    // Unlike pulls and pops, offset updates do not auto-create the group: it must exist first.
    await assert.rejects(
      update(q0, 4),
      (error: unknown) =>
        error instanceof RemotingResponseError && error.errorCode === 'RMQ_SUBSCRIPTION_GROUP_NOT_EXIST',
    );
    await createGroup(broker, { groupName: group });
    assert.equal(await query(q0), undefined);
    await update(q0, 4);
    assert.equal(await query(q0), 4);
    await update(q0, 1);
    assert.equal(await query(q0), 1, 'offsets can move backwards (reset)');
    // Per queue: the other queue still has none.
    assert.equal(await query(q1), undefined);
    await update(q1, 0);
    assert.equal(await query(q1), 0);
    assert.equal(await query(q0), 1);
  });
});
