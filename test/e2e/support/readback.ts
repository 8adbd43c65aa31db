/**
 * Reading what a proxy stored, straight from the broker through our Remoting client (PULL), so publish
 * scenarios check the stored message itself and do not depend on consumption through the proxy.
 */
import assert from 'node:assert/strict';
import type { RemotingConnection } from '../../../proxy/src/remoting/connection.ts';
import { MessageProperty } from '../../../proxy/src/remoting/message/properties.ts';
import type { StoredMessage } from '../../../proxy/src/remoting/message/stored-message.ts';
import type { TopicMessageType } from '../../../proxy/src/remoting/requests/admin.ts';
import { waitForRoutes } from '../../harness/topology.ts';
import { createTopic, maxOffset, pull, rocketmq, uniqueName } from '../../support/broker.ts';
import { sleep } from '../../support/wait.ts';

/** Pulls with an explicit subscription need no registered consumer; the broker auto-creates this group. */
const READER = 'rmqp-e2e-reader';

export interface FreshTopic {
  name: string;
  queues: number;
}

/**
 * A topic no other scenario uses, created on the broker and visible at the NameServer before any client
 * touches it (the Java proxy caches routes and topic types, so a topic must exist before the first lookup).
 */
export async function freshTopic(
  broker: RemotingConnection,
  messageType: TopicMessageType,
  queues = 2,
): Promise<FreshTopic> {
  const name = uniqueName(`rmqp-e2e-${messageType.toLowerCase()}`);
  await createTopic(broker, { topic: name, readQueueNums: queues, writeQueueNums: queues, messageType });
  await waitForRoutes(rocketmq.namesrvAddr, [name], 30_000);
  return { name, queues };
}

/**
 * Pulls every queue of `topic` from offset 0 until a message with each UNIQ_KEY in `messageIds` has been
 * seen (the gRPC message id is the UNIQ_KEY). Returns every message read, in queue order per queue.
 */
export async function readBack(
  broker: RemotingConnection,
  topic: FreshTopic,
  messageIds: readonly string[],
  timeoutMs = 15_000,
): Promise<StoredMessage[]> {
  const offsets = new Array<number>(topic.queues).fill(0);
  const messages: StoredMessage[] = [];
  const missing = new Set(messageIds);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (let queueId = 0; queueId < topic.queues; queueId++) {
      const result = await pull(broker, {
        consumerGroup: READER,
        topic: topic.name,
        queueId,
        offset: offsets[queueId] ?? 0,
      });
      for (const message of result.messages) {
        messages.push(message);
        missing.delete(message.properties.get(MessageProperty.UNIQ_KEY) ?? '');
      }
      if (result.nextBeginOffset > (offsets[queueId] ?? 0)) offsets[queueId] = result.nextBeginOffset;
    }
    if (missing.size === 0) return messages;
    if (Date.now() >= deadline) {
      throw new Error(
        `read back ${messageIds.length - missing.size} of ${messageIds.length} messages from ${topic.name} ` +
          `within ${timeoutMs} ms; missing ${[...missing].join(', ')}`,
      );
    }
    await sleep(100);
  }
}

/** The one stored message with this UNIQ_KEY. */
export function stored(messages: readonly StoredMessage[], messageId: string): StoredMessage {
  const found = messages.filter((message) => message.properties.get(MessageProperty.UNIQ_KEY) === messageId);
  assert.equal(found.length, 1, `expected exactly one stored copy of ${messageId}, found ${found.length}`);
  return found[0] as StoredMessage;
}

/** Asserts, repeatedly for `ms`, that no queue of the topic receives anything. */
export async function assertStaysEmpty(
  broker: RemotingConnection,
  topic: FreshTopic,
  ms: number,
): Promise<void> {
  const until = Date.now() + ms;
  do {
    for (let queueId = 0; queueId < topic.queues; queueId++) {
      assert.equal(
        await maxOffset(broker, topic.name, queueId),
        0,
        `${topic.name}/${queueId} received a message`,
      );
    }
    await sleep(250);
  } while (Date.now() < until);
}
