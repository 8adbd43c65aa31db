/**
 * QueryRoute and QueryAssignment over gRPC: the core's topic queues and assignments, every broker
 * pointing at this proxy's advertised endpoints, with the permissions and accepted message types the
 * clients check before sending.
 */
import type { Logger } from 'pino';
import type { MessageKind } from '../cluster/message-type.ts';
import type { PublicQueue, QueuePermission } from '../cluster/route-queues.ts';
import type { RouteQueries } from '../routing/route-queries.ts';
import { type AdvertisedEndpointsOptions, advertisedEndpoints, type EndpointsMessage } from './endpoints.ts';
import { unary } from './envelope.ts';
import { type apache, v2 } from './protocol.ts';
import type { MessagingHandlers } from './service-definition.ts';
import { OK_STATUS } from './status.ts';

type MessageQueue = apache.rocketmq.v2.MessageQueue.$Properties;

export interface RouteHandlerDeps {
  routing: Pick<RouteQueries, 'queues' | 'assignments'>;
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

export function grpcPermission(permission: QueuePermission): apache.rocketmq.v2.Permission {
  return PERMISSION[permission];
}

export function messageTypesOf(kinds: readonly MessageKind[]): apache.rocketmq.v2.MessageType[] {
  return kinds.map((kind) => MESSAGE_TYPE[kind]);
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
  const { routing, logger } = deps;
  return {
    QueryRoute: unary(
      'QueryRoute',
      logger,
      async (request: apache.rocketmq.v2.QueryRouteRequest, context) => {
        const found = await routing.queues(request.topic?.name ?? undefined);
        const endpoints = advertisedEndpoints(deps.endpoints, context.authority, request.endpoints);
        const resource = { name: found.topic, resourceNamespace: request.topic?.resourceNamespace ?? '' };
        deps.afterRoute?.(context.clientId);
        return {
          status: OK_STATUS,
          messageQueues: routeMessageQueues(
            resource,
            found.queues,
            endpoints,
            messageTypesOf(found.acceptedKinds),
          ),
        };
      },
    ),

    QueryAssignment: unary(
      'QueryAssignment',
      logger,
      async (request: apache.rocketmq.v2.QueryAssignmentRequest, context) => {
        const assignments = await routing.assignments(
          request.topic?.name ?? undefined,
          request.group?.name ?? undefined,
        );
        const endpoints = advertisedEndpoints(deps.endpoints, context.authority, request.endpoints);
        const topic = {
          name: request.topic?.name ?? '',
          resourceNamespace: request.topic?.resourceNamespace ?? '',
        };
        return {
          status: OK_STATUS,
          assignments: assignments.map((assignment) => ({
            messageQueue: {
              topic,
              id: assignment.queueId,
              permission: PERMISSION[assignment.permission],
              broker: { name: assignment.brokerName, id: 0, endpoints },
            },
          })),
        };
      },
    ),
  };
}
