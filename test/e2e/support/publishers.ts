/**
 * One interface over the official clients, so every publish scenario is written once and run with the
 * Node client, the Java client with TLS, and the Java client in plaintext.
 */
import type { Producer } from 'rocketmq-client-nodejs';
import { type CheckEvent, JavaClient, type TransactionResolution } from '../../harness/java-client.ts';
import { NodeClients } from '../../harness/node-client.ts';

export interface OutgoingMessage {
  topic: string;
  body: Buffer;
  tag?: string | undefined;
  keys?: string[] | undefined;
  properties?: Record<string, string> | undefined;
  messageGroup?: string | undefined;
  /** Epoch milliseconds. */
  deliveryTimestamp?: number | undefined;
}

export type TransactionEnd = 'commit' | 'rollback' | 'none';

export interface Receipt {
  messageId: string;
  recallHandle: string;
}

export interface TestProducer {
  send(message: OutgoingMessage, transaction?: TransactionEnd): Promise<Receipt>;
  recall(topic: string, recallHandle: string): Promise<string>;
  /** Resolves with the checker call for `messageId` (the broker's check, relayed by the proxy). */
  waitForCheck(messageId: string, timeoutMs: number): Promise<{ messageId: string; resolution: string }>;
}

export interface Publisher {
  /** For test names: `node`, `java/tls`, `java/plaintext`. */
  readonly name: string;
  /** A started producer that knows `topics` and has a checker answering `checker` by default. */
  producer(topics: string[], checker: TransactionResolution): Promise<TestProducer>;
  close(): Promise<void>;
}

export function nodePublisher(endpoint: string): Publisher {
  const clients = new NodeClients();
  return {
    name: 'node',
    async producer(topics, checker) {
      // One Node producer per topic, each declaring just that topic. rocketmq-client-nodejs 1.0.8 sends its
      // Settings after the first topic's route but waits for the reply only after every route, so with
      // several topics a fast reply is lost and startup() hangs until its next settings sync (about
      // 5 minutes), whatever the proxy. And a topic must be declared: the proxy relays a transaction check
      // only to clients that published the topic in their Settings.
      const producers = new Map<string, Producer>();
      for (const topic of topics)
        producers.set(topic, await clients.producer({ endpoint, topics: [topic], checker }));
      const producerFor = (topic: string): Producer => {
        const producer = producers.get(topic);
        if (!producer) throw new Error(`no Node producer declared topic ${topic}`);
        return producer;
      };
      return {
        async send(message, transaction) {
          const producer = producerFor(message.topic);
          const options = {
            topic: message.topic,
            body: message.body,
            tag: message.tag,
            keys: message.keys,
            properties: message.properties ? new Map(Object.entries(message.properties)) : undefined,
            messageGroup: message.messageGroup,
            deliveryTimestamp:
              message.deliveryTimestamp === undefined ? undefined : new Date(message.deliveryTimestamp),
          };
          if (transaction === undefined) {
            const receipt = await producer.send(options);
            return { messageId: receipt.messageId, recallHandle: receipt.recallHandle ?? '' };
          }
          const tx = producer.beginTransaction();
          const receipt = await producer.send(options, tx);
          if (transaction === 'commit') await tx.commit();
          if (transaction === 'rollback') await tx.rollback();
          return { messageId: receipt.messageId, recallHandle: receipt.recallHandle ?? '' };
        },
        async recall(topic, recallHandle) {
          return (await producerFor(topic).recallMessage(topic, recallHandle)).messageId;
        },
        waitForCheck(messageId, timeoutMs) {
          return clients.waitForCheck((check) => check.messageId === messageId, timeoutMs);
        },
      };
    },
    close: () => clients.close(),
  };
}

let producerCounter = 0;

export async function javaPublisher(endpoint: string, tls: boolean): Promise<Publisher> {
  const java = await JavaClient.start();
  return {
    name: tls ? 'java/tls' : 'java/plaintext',
    async producer(topics, checker) {
      producerCounter += 1;
      const name = `producer-${producerCounter}`;
      await java.startProducer({ producer: name, endpoint, tls, topics, checker });
      return {
        send: (message, transaction) => java.send(name, message, transaction),
        recall: async (topic, recallHandle) => (await java.recall(name, topic, recallHandle)).messageId,
        waitForCheck: (messageId, timeoutMs) =>
          java.waitForCheck(
            (check: CheckEvent) => check.producer === name && check.messageId === messageId,
            timeoutMs,
          ),
      };
    },
    close: () => java.close(),
  };
}
