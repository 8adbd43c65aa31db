/**
 * QueryRoute and QueryAssignment (proxy-grpc.md §8.1, §8.4): the NameServer route turned into client
 * queues whose brokers all point at this proxy, with the permissions and accepted message types the
 * clients check before sending; and the consumer's assignments (one per broker, or one per queue for
 * orderly groups).
 */
import type { Logger } from 'pino';
import type { MessageKind, TopicType } from '../cluster/message-type.ts';
import { acceptedMessageKinds } from '../cluster/message-type.ts';
import type { MetadataService } from '../cluster/metadata-service.ts';
import { isReadable, isWritable } from '../cluster/queue-views.ts';
import { type PublicQueue, publicQueues, type QueuePermission } from '../cluster/route-queues.ts';
import { isTopicNotExist, type RouteService } from '../cluster/route-service.ts';
import { masterAddress } from '../remoting/requests/route.ts';
import { type AdvertisedEndpointsOptions, advertisedEndpoints, type EndpointsMessage } from './endpoints.ts';
import { unary } from './envelope.ts';
import { type apache, v2 } from './protocol.ts';
import type { MessagingHandlers } from './service-definition.ts';
import { Code, OK_STATUS, ProxyStatusError } from './status.ts';
import { validateConsumerGroup, validateTopic } from './validation.ts';

type MessageQueue = apache.rocketmq.v2.MessageQueue.$Properties;

export interface RouteHandlerDeps {
  routes: RouteService;
  metadata: MetadataService;
  endpoints: AdvertisedEndpointsOptions;
  logger: Logger;
  /** Called after a successful QueryRoute (see settings-nudge.ts). */
  afterRoute?: ((clientId: string) => void) | undefined;
}

const PERMISSION: Readonly<Record<QueuePermission, apache.rocketmq.v2.Permission>> = {
  NONE: v2.Permission.NONE,
  READ: v2.Permission.READ,
  WRITE: v2.Permission.WRITE,
  READ_WRITE: v2.Permission.READ_WRITE,
};

const MESSAGE_TYPE: Readonly<Record<MessageKind, apache.rocketmq.v2.MessageType>> = {
  UNSPECIFIED: v2.MessageType.MESSAGE_TYPE_UNSPECIFIED,
  NORMAL: v2.MessageType.NORMAL,
  FIFO: v2.MessageType.FIFO,
  DELAY: v2.MessageType.DELAY,
  TRANSACTION: v2.MessageType.TRANSACTION,
};

export function permissionOf(perm: number): apache.rocketmq.v2.Permission {
  const readable = isReadable(perm);
  const writable = isWritable(perm);
  if (readable && writable) return v2.Permission.READ_WRITE;
  if (readable) return v2.Permission.READ;
  if (writable) return v2.Permission.WRITE;
  return v2.Permission.NONE;
}

export function acceptMessageTypes(type: TopicType): apache.rocketmq.v2.MessageType[] {
  return acceptedMessageKinds(type).map((kind) => MESSAGE_TYPE[kind]);
}

/** Client-facing queues of a route, every broker pointing at `endpoints`. */
export function routeMessageQueues(
  topic: apache.rocketmq.v2.Resource.$Properties,
  queues: readonly PublicQueue[],
  endpoints: EndpointsMessage,
  acceptTypes: apache.rocketmq.v2.MessageType[],
): MessageQueue[] {
  return queues.map((queue) => ({
    topic,
    id: queue.queueId,
    permission: PERMISSION[queue.permission],
    broker: { name: queue.brokerName, id: queue.brokerId, endpoints },
    acceptMessageTypes: acceptTypes,
  }));
}

export function createRouteHandlers(
  deps: RouteHandlerDeps,
): Pick<MessagingHandlers, 'QueryRoute' | 'QueryAssignment'> {
  const { routes, metadata, logger } = deps;

  const topicType = async (topic: string): Promise<TopicType> => {
    try {
      return await metadata.topicType(topic);
    } catch (error) {
      if (isTopicNotExist(error)) throw error;
      // As in Java: a failed lookup is "unknown type", not a failed route.
      logger.warn({ err: error, topic }, 'cannot read the topic message type; answering UNSPECIFIED');
      return 'UNSPECIFIED';
    }
  };

  return {
    QueryRoute: unary(
      'QueryRoute',
      logger,
      async (request: apache.rocketmq.v2.QueryRouteRequest, context) => {
        const topic = validateTopic(request.topic);
        const endpoints = advertisedEndpoints(deps.endpoints, context.authority, request.endpoints);
        const view = await routes.view(topic);
        const types = acceptMessageTypes(await topicType(topic));
        const resource = { name: topic, resourceNamespace: request.topic?.resourceNamespace ?? '' };
        deps.afterRoute?.(context.clientId);
        return {
          status: OK_STATUS,
          messageQueues: routeMessageQueues(resource, publicQueues(view.route), endpoints, types),
        };
      },
    ),

    QueryAssignment: unary(
      'QueryAssignment',
      logger,
      async (request: apache.rocketmq.v2.QueryAssignmentRequest, context) => {
        const topic = validateTopic(request.topic);
        validateConsumerGroup(request.group);
        const group = request.group?.name ?? '';
        const endpoints = advertisedEndpoints(deps.endpoints, context.authority, request.endpoints);
        const view = await routes.view(topic);
        const fifo =
          (await metadata.groupConfig(group).catch(() => undefined))?.consumeMessageOrderly === true;
        const resource = { name: topic, resourceNamespace: request.topic?.resourceNamespace ?? '' };
        const brokers = new Map(view.route.brokerDatas.map((broker) => [broker.brokerName, broker]));
        const assignments: apache.rocketmq.v2.Assignment.$Properties[] = [];
        for (const data of view.route.queueDatas) {
          const broker = brokers.get(data.brokerName);
          if (!isReadable(data.perm) || data.readQueueNums <= 0) continue;
          if (broker === undefined || masterAddress(broker) === undefined) continue;
          const queue = (id: number): MessageQueue => ({
            topic: resource,
            id,
            permission: permissionOf(data.perm),
            broker: { name: data.brokerName, id: 0, endpoints },
          });
          if (fifo) {
            for (let id = 0; id < data.readQueueNums; id++) assignments.push({ messageQueue: queue(id) });
          } else {
            assignments.push({ messageQueue: queue(-1) });
          }
        }
        if (assignments.length === 0) throw new ProxyStatusError(Code.FORBIDDEN, 'no readable queue');
        return { status: OK_STATUS, assignments };
      },
    ),
  };
}
