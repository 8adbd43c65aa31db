/**
 * The topics and consumer groups every integration test (and `make run`) can rely on, created through our
 * own Remoting client: one topic per message type (the `message.type` attribute) and one group per topic,
 * the FIFO one orderly. Creation is idempotent (UPDATE_AND_CREATE), so re-running against live peers is fine.
 */
import { RequestCode } from '../../proxy/src/remoting/codes.ts';
import { RemotingResponseError } from '../../proxy/src/remoting/errors.ts';
import type { TopicMessageType } from '../../proxy/src/remoting/requests/admin.ts';
import { parseRoute, routeRequest, type TopicRoute } from '../../proxy/src/remoting/requests/route.ts';
import {
  createGroupRequest,
  createTopicRequest,
  type GroupSpec,
  parseAdminAck,
} from '../support/remoting/admin-requests.ts';
import { sleep } from '../support/wait.ts';
import { call, withConnection } from './remoting.ts';

export const TOPICS = {
  normal: 'rmqp-normal',
  fifo: 'rmqp-fifo',
  delay: 'rmqp-delay',
  transaction: 'rmqp-transaction',
} as const;

export type TopicKind = keyof typeof TOPICS;

export interface TopicLayout {
  messageType: TopicMessageType;
  readQueueNums: number;
  writeQueueNums: number;
}

/** Queue counts differ per topic so tests can tell the routes apart. */
export const TOPIC_LAYOUT: Readonly<Record<TopicKind, TopicLayout>> = {
  normal: { messageType: 'NORMAL', readQueueNums: 8, writeQueueNums: 8 },
  fifo: { messageType: 'FIFO', readQueueNums: 4, writeQueueNums: 4 },
  delay: { messageType: 'DELAY', readQueueNums: 2, writeQueueNums: 2 },
  transaction: { messageType: 'TRANSACTION', readQueueNums: 2, writeQueueNums: 2 },
};

export const GROUPS = {
  normal: 'rmqp-group-normal',
  /** consumeMessageOrderly=true: FIFO delivery per message group. */
  fifo: 'rmqp-group-fifo',
  delay: 'rmqp-group-delay',
  transaction: 'rmqp-group-transaction',
  /** retryMaxTimes=1: the second failed delivery goes to %DLQ%rmqp-group-dlq. */
  dlq: 'rmqp-group-dlq',
} as const;

export const GROUP_SPECS: readonly GroupSpec[] = [
  { groupName: GROUPS.normal },
  { groupName: GROUPS.fifo, consumeMessageOrderly: true },
  { groupName: GROUPS.delay },
  { groupName: GROUPS.transaction },
  { groupName: GROUPS.dlq, retryMaxTimes: 1 },
];

/** Producer groups need no creation; the names are shared so tests and `make run` agree. */
export const PRODUCER_GROUPS = {
  transaction: 'rmqp-producer-transaction',
} as const;

export interface TopologyTarget {
  namesrvAddr: string;
  brokerAddr: string;
}

export interface TopologyOptions {
  /** How long to wait for every topic's route at the NameServer (default 30 s). */
  routeTimeoutMs?: number | undefined;
}

/** Creates the topics and groups on the broker, then waits until the NameServer serves every route. */
export async function createTopology(
  target: TopologyTarget,
  options: TopologyOptions = {},
): Promise<Map<string, TopicRoute>> {
  await withConnection(target.brokerAddr, async (broker) => {
    for (const kind of Object.keys(TOPICS) as TopicKind[]) {
      const layout = TOPIC_LAYOUT[kind];
      const response = await broker.request(
        createTopicRequest({
          topic: TOPICS[kind],
          readQueueNums: layout.readQueueNums,
          writeQueueNums: layout.writeQueueNums,
          messageType: layout.messageType,
        }),
      );
      parseAdminAck(response, RequestCode.UPDATE_AND_CREATE_TOPIC);
    }
    for (const group of GROUP_SPECS) {
      parseAdminAck(
        await broker.request(createGroupRequest(group)),
        RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
      );
    }
  });
  return waitForRoutes(target.namesrvAddr, Object.values(TOPICS), options.routeTimeoutMs ?? 30_000);
}

/** Polls GET_ROUTEINFO_BY_TOPIC until every topic has a route with queues; returns the routes. */
export async function waitForRoutes(
  namesrvAddr: string,
  topics: readonly string[],
  timeoutMs = 30_000,
): Promise<Map<string, TopicRoute>> {
  const deadline = Date.now() + timeoutMs;
  const routes = new Map<string, TopicRoute>();
  let lastError: unknown;
  while (routes.size < topics.length) {
    for (const topic of topics) {
      if (routes.has(topic)) continue;
      try {
        const route = await call(namesrvAddr, routeRequest(topic), parseRoute);
        if (route.queueDatas.length > 0 && route.brokerDatas.length > 0) routes.set(topic, route);
      } catch (error) {
        // TOPIC_NOT_EXIST until the broker's re-registration reaches the NameServer.
        if (!(error instanceof RemotingResponseError)) throw error;
        lastError = error;
      }
    }
    if (routes.size === topics.length) break;
    if (Date.now() >= deadline) {
      const missing = topics.filter((topic) => !routes.has(topic));
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`no route at ${namesrvAddr} for ${missing.join(', ')} after ${timeoutMs} ms${why}`);
    }
    await sleep(200);
  }
  return routes;
}
