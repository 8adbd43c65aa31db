/**
 * Delay and transaction messages consumed through the endpoint under test (official Java client,
 * TLS on): a delay message stays invisible until its delivery time, a committed transaction message is
 * delivered and a rolled-back one never is. Fresh topics and groups per test.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { TopicMessageType } from '../../proxy/src/remoting/requests/admin.ts';
import { JavaClient, type ReceivedMessage } from '../harness/java-client.ts';
import { waitForRoutes } from '../harness/topology.ts';
import { connect, createGroup, createTopic, rocketmq, uniqueName } from '../support/broker.ts';
import { target } from './support/target.ts';

const { endpoint } = target();

async function freshTopic(
  prefix: string,
  messageType: TopicMessageType,
): Promise<{ topic: string; group: string }> {
  const topic = uniqueName(`rmqp-e2e-${prefix}`);
  const group = uniqueName(`rmqp-e2e-${prefix}-group`);
  const broker = await connect(rocketmq.brokerAddr);
  await createTopic(broker, { topic, readQueueNums: 2, writeQueueNums: 2, messageType });
  await createGroup(broker, { groupName: group });
  await waitForRoutes(rocketmq.namesrvAddr, [topic]);
  return { topic, group };
}

/** Long-polls (and acks) until `deadline`, or until `stopWhen` holds; returns what arrived with arrival times. */
async function drain(
  java: JavaClient,
  consumer: string,
  deadline: number,
  stopWhen: (got: readonly { message: ReceivedMessage; at: number }[]) => boolean,
): Promise<{ message: ReceivedMessage; at: number }[]> {
  const got: { message: ReceivedMessage; at: number }[] = [];
  while (Date.now() < deadline && !stopWhen(got)) {
    for (const message of await java.receive(consumer, 16, 20_000)) {
      got.push({ message, at: Date.now() });
      await java.ack(consumer, message.messageId);
    }
  }
  return got;
}

describe('delay and transaction messages consumed through the proxy', { timeout: 180_000 }, () => {
  let java: JavaClient;
  before(async () => {
    java = await JavaClient.start();
  });
  after(async () => {
    await java?.close();
  });

  test('a delay message is received at (not before) its delivery time', async () => {
    const { topic, group } = await freshTopic('delay', 'DELAY');
    const producer = uniqueName('p');
    await java.startProducer({ producer, endpoint, topics: [topic] });
    const consumer = uniqueName('c');
    await java.startSimpleConsumer({ consumer, endpoint, group, topic, awaitMs: 2000 });
    // A normal-looking first poll registers the group before anything is due.
    await java.receive(consumer, 16, 20_000);
    const deliveryTimestamp = Date.now() + 8000;
    await java.send(producer, { topic, body: Buffer.from('later'), deliveryTimestamp });
    const got = await drain(java, consumer, deliveryTimestamp + 30_000, (seen) => seen.length > 0);
    assert.equal(got.length, 1, 'the delay message arrives');
    const [first] = got;
    assert.ok(first);
    assert.equal(first.message.body.toString(), 'later');
    assert.ok(
      first.at >= deliveryTimestamp - 1000,
      `received ${deliveryTimestamp - first.at} ms before its delivery time`,
    );
    assert.equal(first.message.deliveryTimestamp, deliveryTimestamp);
    await java.closeConsumer(consumer);
    await java.closeProducer(producer);
  });

  test('a committed transaction message is received, a rolled-back one never is', async () => {
    const { topic, group } = await freshTopic('tx', 'TRANSACTION');
    const producer = uniqueName('p');
    await java.startProducer({ producer, endpoint, topics: [topic], checker: 'ROLLBACK' });
    const consumer = uniqueName('c');
    await java.startSimpleConsumer({ consumer, endpoint, group, topic, awaitMs: 2000 });
    await java.send(producer, { topic, body: Buffer.from('rolled-back') }, 'rollback');
    await java.send(producer, { topic, body: Buffer.from('committed') }, 'commit');
    // Wait well past the commit for anything else (the rolled-back half must never surface).
    const got = await drain(java, consumer, Date.now() + 15_000, () => false);
    assert.deepEqual(
      got.map((entry) => entry.message.body.toString()),
      ['committed'],
    );
    await java.closeConsumer(consumer);
    await java.closeProducer(producer);
  });
});
