/**
 * Helpers for the suites that run against the real peers (integration and end-to-end): long-lived
 * connections, unique names, topic/group creation through our own admin requests, sends, pulls and pops.
 * Everything goes through the proxy's Remoting client; nothing here fakes a broker. Connections opened
 * here close when the importing test file ends.
 */
import { after } from 'node:test';
import { RequestCode } from '../../proxy/src/remoting/codes.ts';
import { RemotingConnection } from '../../proxy/src/remoting/connection.ts';
import type { StoredMessage } from '../../proxy/src/remoting/message/stored-message.ts';
import { maxOffsetRequest, parseOffset } from '../../proxy/src/remoting/requests/offsets.ts';
import {
  type PopMessageParams,
  type PopResult,
  parsePopResponse,
  popMessageRequest,
} from '../../proxy/src/remoting/requests/pop.ts';
import {
  type PullResult,
  parsePullResponse,
  pullMessageRequest,
} from '../../proxy/src/remoting/requests/pull.ts';
import { parseRoute, routeRequest, type TopicRoute } from '../../proxy/src/remoting/requests/route.ts';
import {
  parseSendResult,
  type SendBatchParams,
  type SendMessageParams,
  type SendResult,
  sendBatchRequest,
  sendMessageRequest,
} from '../../proxy/src/remoting/requests/send.ts';
import { type PeerInfo, peers } from '../harness/env.ts';
import {
  createGroupRequest,
  createTopicRequest,
  type GroupSpec,
  parseAdminAck,
  type TopicSpec,
} from './remoting/admin-requests.ts';
import { sleep } from './wait.ts';

/** The peers the global setup started (or `cli.ts up` peers named by the environment). */
export const rocketmq: PeerInfo = peers();

let counter = 0;

/** A topic/group name no other test (or earlier run against the same peers) uses. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${counter}`;
}

const open = new Set<RemotingConnection>();
// Registered while the test file is being loaded, so it runs once, after every test of the file.
after(() => Promise.all([...open].map((connection) => connection.close())));

/**
 * Opens a connection that is closed when the test file ends. The request timeout is generous: a
 * loaded 2-core machine runs two JVMs next to the tests.
 */
export async function connect(address: string, requestTimeoutMs = 10_000): Promise<RemotingConnection> {
  const connection = await RemotingConnection.connect(address, {
    connectTimeoutMs: 5000,
    requestTimeoutMs,
    closeTimeoutMs: 2000,
  });
  open.add(connection);
  return connection;
}

export async function createTopic(broker: RemotingConnection, spec: TopicSpec): Promise<void> {
  parseAdminAck(await broker.request(createTopicRequest(spec)), RequestCode.UPDATE_AND_CREATE_TOPIC);
}

export async function createGroup(broker: RemotingConnection, spec: GroupSpec): Promise<void> {
  parseAdminAck(
    await broker.request(createGroupRequest(spec)),
    RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
  );
}

export async function send(
  broker: RemotingConnection,
  params: SendMessageParams,
): Promise<SendResult & { uniqueId: string }> {
  const spec = sendMessageRequest(params);
  const result = parseSendResult(await broker.request(spec), spec);
  return { ...result, uniqueId: spec.uniqueId };
}

export async function sendBatch(
  broker: RemotingConnection,
  params: SendBatchParams,
): Promise<SendResult & { uniqueIds: string[] }> {
  const spec = sendBatchRequest(params);
  const result = parseSendResult(await broker.request(spec), spec);
  return { ...result, uniqueIds: spec.uniqueIds };
}

export interface PullQueue {
  consumerGroup: string;
  topic: string;
  queueId: number;
  offset: number;
  maxMsgNums?: number | undefined;
}

/** One non-suspending PULL_MESSAGE that filters nothing (subscription `*`). */
export async function pull(broker: RemotingConnection, queue: PullQueue): Promise<PullResult> {
  const response = await broker.request(
    pullMessageRequest({
      consumerGroup: queue.consumerGroup,
      topic: queue.topic,
      queueId: queue.queueId,
      queueOffset: queue.offset,
      maxMsgNums: queue.maxMsgNums ?? 32,
      sysFlag: { subscription: true },
      subscription: '*',
      expressionType: 'TAG',
    }),
  );
  return parsePullResponse(response);
}

/**
 * Reads the queue from `offset` until `count` messages have arrived, waiting (bounded) for the broker's
 * asynchronous dispatch: a message is pullable only once the commit log has been dispatched to its
 * consume queue, a few milliseconds after the send returned.
 */
export async function pullAll(
  broker: RemotingConnection,
  queue: PullQueue,
  count: number,
  timeoutMs = 10_000,
): Promise<StoredMessage[]> {
  const messages: StoredMessage[] = [];
  let offset = queue.offset;
  const deadline = Date.now() + timeoutMs;
  while (messages.length < count) {
    const result = await pull(broker, { ...queue, offset });
    messages.push(...result.messages);
    if (result.nextBeginOffset > offset) offset = result.nextBeginOffset;
    if (messages.length >= count) break;
    if (Date.now() >= deadline) {
      throw new Error(
        `pulled ${messages.length} of ${count} messages from ${queue.topic}/${queue.queueId} within ${timeoutMs} ms`,
      );
    }
    if (result.status !== 'FOUND') await sleep(50);
  }
  return messages;
}

export async function maxOffset(broker: RemotingConnection, topic: string, queueId: number): Promise<number> {
  return parseOffset(await broker.request(maxOffsetRequest({ topic, queueId })), RequestCode.GET_MAX_OFFSET);
}

/** One POP_MESSAGE to the test broker; the request timeout covers the long poll. */
export async function pop(broker: RemotingConnection, params: PopMessageParams): Promise<PopResult> {
  const response = await broker.request(popMessageRequest(params), { timeoutMs: params.pollTime + 10_000 });
  return parsePopResponse(response, {
    consumerGroup: params.consumerGroup,
    topic: params.topic,
    brokerName: rocketmq.brokerName,
    order: params.order,
  });
}

export async function route(namesrv: RemotingConnection, topic: string): Promise<TopicRoute> {
  return parseRoute(await namesrv.request(routeRequest(topic)));
}
