/**
 * RECALL_MESSAGE against the real broker (5.4 supports it when `recallMessageEnable` is on, which the
 * harness sets): a recalled delay message never arrives, while a control message sent for the same
 * delivery time does. The recall handle from the send result names the topic, broker and message.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import type { RemotingConnection } from '../../proxy/src/remoting/connection.ts';
import { RemotingResponseError } from '../../proxy/src/remoting/errors.ts';
import { MessageProperty } from '../../proxy/src/remoting/message/properties.ts';
import {
  parseRecallHandle,
  parseRecallMessage,
  recallMessageRequest,
} from '../../proxy/src/remoting/requests/recall.ts';
import { connect, createTopic, maxOffset, pullAll, rocketmq, send, uniqueName } from '../support/broker.ts';
import { sleep } from '../support/wait.ts';

const PRODUCER_GROUP = 'rmqp-it-recall-producer';

describe('RECALL_MESSAGE', () => {
  let broker: RemotingConnection;
  before(async () => {
    broker = await connect(rocketmq.brokerAddr);
  });

  test('a recalled delay message never arrives; its unrecalled twin does', { timeout: 30_000 }, async () => {
    const topic = uniqueName('rmqp-it-recall');
    await createTopic(broker, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'DELAY' });
    const deliverAtMs = Date.now() + 3000;
    const recalled = await send(broker, {
      producerGroup: PRODUCER_GROUP,
      topic,
      body: Buffer.from('recall me'),
      delay: { deliverAtMs },
    });
    const control = await send(broker, {
      producerGroup: PRODUCER_GROUP,
      topic,
      body: Buffer.from('deliver me'),
      delay: { deliverAtMs },
    });
    assert.ok(recalled.recallHandle);
    const handle = parseRecallHandle(recalled.recallHandle);
    assert.deepEqual(
      handle && { topic: handle.topic, brokerName: handle.brokerName, messageId: handle.messageId },
      { topic, brokerName: rocketmq.brokerName, messageId: recalled.uniqueId },
    );
    // The handle's timestamp is the delivery time the broker scheduled (rounded to its precision at most).
    assert.ok(handle && Math.abs(handle.timestamp - deliverAtMs) <= 1000);

    const recalledId = parseRecallMessage(
      await broker.request(
        recallMessageRequest({
          topic,
          recallHandle: recalled.recallHandle,
          producerGroup: PRODUCER_GROUP,
          brokerName: rocketmq.brokerName,
        }),
      ),
    );
    assert.equal(recalledId, recalled.uniqueId);
    // Recalling again is not an error: the broker just writes another cancel marker.
    const again = parseRecallMessage(
      await broker.request(recallMessageRequest({ topic, recallHandle: recalled.recallHandle })),
    );
    assert.equal(again, recalled.uniqueId);

    // The control arrives after the delivery time; a grace period later the queue still holds only it.
    const [arrived] = await pullAll(
      broker,
      { consumerGroup: 'rmqp-it-recall-reader', topic, queueId: 0, offset: 0 },
      1,
      20_000,
    );
    assert.equal(arrived?.properties.get(MessageProperty.UNIQ_KEY), control.uniqueId);
    await sleep(1500);
    assert.equal(await maxOffset(broker, topic, 0), 1, 'the recalled message was delivered anyway');
  });

  test('a handle that is not a recall handle is ILLEGAL_OPERATION', async () => {
    const topic = uniqueName('rmqp-it-recall-bad');
    await createTopic(broker, { topic, readQueueNums: 1, writeQueueNums: 1, messageType: 'DELAY' });
    await assert.rejects(
      broker
        .request(recallMessageRequest({ topic, recallHandle: 'not-a-handle', producerGroup: PRODUCER_GROUP }))
        .then(parseRecallMessage),
      (error: unknown) =>
        error instanceof RemotingResponseError &&
        error.errorCode === 'RMQ_ILLEGAL_OPERATION' &&
        error.remark === 'recall handle is invalid',
    );
  });
});
