/**
 * Shared by the proxy consumption tests: fresh topics and groups per test, raw ReceiveMessage streams
 * over grpc-js, messages published straight to the broker over Remoting, and the DLQ read back.
 */
import * as grpc from '@grpc/grpc-js';
import { v2 } from '../../../proxy/src/grpc/protocol.ts';
import type { RemotingConnection } from '../../../proxy/src/remoting/connection.ts';
import type { TopicMessageType } from '../../../proxy/src/remoting/requests/admin.ts';
import { createGroup, createTopic, pull, route, sendBatch, uniqueName } from '../../support/broker.ts';
import type { TestClient } from '../../support/grpc-test-client.ts';
import { eventually } from '../../support/wait.ts';
import type { ProxyUnderTest } from './publish-support.ts';

export interface ReceivedStream {
  statuses: { code: number; message: string }[];
  messages: {
    topic: { name: string };
    systemProperties: {
      messageId: string;
      receiptHandle: string;
      deliveryAttempt: number;
      tag?: string;
      messageGroup?: string;
      queueId: number;
      queueOffset: number;
    };
    userProperties: Record<string, string>;
    body: Uint8Array;
  }[];
  /** Kinds in stream order: 'status' | 'message' | 'deliveryTimestamp'. */
  order: string[];
  error?: grpc.ServiceError | undefined;
}

export async function freshTopic(
  under: ProxyUnderTest,
  prefix: string,
  queues = 4,
  messageType: TopicMessageType = 'NORMAL',
): Promise<string> {
  const topic = uniqueName(prefix);
  await createTopic(under.broker, { topic, readQueueNums: queues, writeQueueNums: queues, messageType });
  await eventually(`route of ${topic}`, { timeoutMs: 15_000, intervalMs: 200 }, async () =>
    (await route(under.namesrv, topic)).queueDatas.length > 0 ? true : undefined,
  );
  return topic;
}

export async function freshGroup(
  under: ProxyUnderTest,
  prefix: string,
  options: { orderly?: boolean; retryMaxTimes?: number; exponentialRetry?: boolean } = {},
): Promise<string> {
  const group = uniqueName(prefix);
  await createGroup(under.broker, {
    groupName: group,
    consumeMessageOrderly: options.orderly,
    retryMaxTimes: options.retryMaxTimes,
    // The Node client implements only exponential backoff; with the default customized policy its
    // push consumer has no retry policy and sends failed FIFO messages straight to the DLQ.
    groupRetryPolicy: options.exponentialRetry
      ? { type: 'EXPONENTIAL', exponentialRetryPolicy: { initial: 500, max: 2000, multiplier: 2 } }
      : undefined,
  });
  return group;
}

/** Publishes `count` messages straight to the broker (batches of up to 64 per queue); their ids. */
export async function publishDirect(
  broker: RemotingConnection,
  topic: string,
  count: number,
  options: { queues?: number; tag?: string; bodyPrefix?: string; properties?: Record<string, string> } = {},
): Promise<string[]> {
  const queues = options.queues ?? 4;
  const ids: string[] = [];
  let sent = 0;
  let batchNo = 0;
  while (sent < count) {
    const size = Math.min(64, count - sent);
    const messages = Array.from({ length: size }, (_, i) => ({
      body: Buffer.from(`${options.bodyPrefix ?? 'm'}-${sent + i}`),
      tags: options.tag,
      properties: options.properties,
    }));
    const result = await sendBatch(broker, {
      producerGroup: 'rmqp-it-consume-publisher',
      topic,
      queueId: batchNo % queues,
      messages,
    });
    ids.push(...result.uniqueIds);
    sent += size;
    batchNo++;
  }
  return ids;
}

export interface RawReceive {
  group: string;
  topic: string;
  batchSize?: number;
  invisibleMs?: number | undefined;
  longPollingMs?: number;
  autoRenew?: boolean;
  filter?: { type: 'TAG' | 'SQL'; expression: string };
  deadlineMs?: number;
  clientId?: string;
}

const ms = (value: number) => ({ seconds: Math.floor(value / 1000), nanos: (value % 1000) * 1_000_000 });

/** One raw ReceiveMessage call, collected to its end. */
export function rawReceive(client: TestClient, params: RawReceive): Promise<ReceivedStream> {
  const metadata = new grpc.Metadata();
  metadata.set('x-mq-client-id', params.clientId ?? 'raw-consumer@1');
  metadata.set('x-mq-language', 'JAVA');
  metadata.set('x-mq-protocol', 'v2');
  metadata.set('x-mq-client-version', '5.0.7');
  const request = {
    group: { name: params.group },
    messageQueue: { topic: { name: params.topic } },
    filterExpression: {
      type: params.filter?.type === 'SQL' ? v2.FilterType.SQL : v2.FilterType.TAG,
      expression: params.filter?.expression ?? '*',
    },
    batchSize: params.batchSize ?? 32,
    ...(params.invisibleMs === undefined ? {} : { invisibleDuration: ms(params.invisibleMs) }),
    autoRenew: params.autoRenew ?? false,
    longPollingTimeout: ms(params.longPollingMs ?? 1000),
  };
  const call = client.raw['ReceiveMessage']!(request, metadata, {
    deadline: Date.now() + (params.deadlineMs ?? 15_000),
  }) as grpc.ClientReadableStream<{
    content: string;
    status?: { code: number; message: string };
    message?: ReceivedStream['messages'][number];
  }>;
  const stream: ReceivedStream = { statuses: [], messages: [], order: [] };
  return new Promise((resolve) => {
    call.on('data', (response) => {
      const kind = response.status ? 'status' : response.message ? 'message' : 'deliveryTimestamp';
      stream.order.push(kind);
      if (response.status) stream.statuses.push(response.status);
      if (response.message) stream.messages.push(response.message);
    });
    call.on('error', (error: grpc.ServiceError) => {
      stream.error = error;
      resolve(stream);
    });
    call.on('end', () => resolve(stream));
  });
}

export const rawConsumerHeaders = (clientId = 'raw-consumer@1'): Record<string, string> => ({
  'x-mq-client-id': clientId,
  'x-mq-language': 'JAVA',
  'x-mq-protocol': 'v2',
});

/** Bodies of every message in `%DLQ%<group>` (one queue), as text. */
export async function deadLetters(broker: RemotingConnection, group: string): Promise<string[]> {
  try {
    const result = await pull(broker, {
      consumerGroup: 'rmqp-it-dlq-reader',
      topic: `%DLQ%${group}`,
      queueId: 0,
      offset: 0,
    });
    return result.messages.map((message) => message.body.toString());
  } catch {
    return [];
  }
}

export function durationOf(value: number): { seconds: number; nanos: number } {
  return ms(value);
}
