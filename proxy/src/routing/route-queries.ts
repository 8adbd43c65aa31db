/**
 * What a client asks about a topic before it publishes or consumes: its queues (every broker's
 * queues, laid out as the Java proxy shows them, with the message kinds the topic accepts) and a
 * consumer group's assignments (one per readable master, or one per queue for orderly groups).
 * Ingresses put their own address in front of every broker.
 */
import type { Logger } from 'pino';
import { acceptedMessageKinds, type MessageKind, type TopicType } from '../cluster/message-type.ts';
import type { MetadataService } from '../cluster/metadata-service.ts';
import { isReadable, isWritable } from '../cluster/queue-views.ts';
import { type PublicQueue, publicQueues, type QueuePermission } from '../cluster/route-queues.ts';
import { isTopicNotExist, type RouteService } from '../cluster/route-service.ts';
import { ProxyError } from '../core/errors.ts';
import { validateConsumerGroup, validateTopic } from '../core/names.ts';
import { masterAddress } from '../remoting/requests/route.ts';

export interface TopicQueues {
  readonly topic: string;
  readonly queues: readonly PublicQueue[];
  /** The message kinds the topic's type accepts (none when its type is unknown). */
  readonly acceptedKinds: readonly MessageKind[];
}

export interface Assignment {
  readonly brokerName: string;
  /** -1: any queue of the broker (the broker balances pops). */
  readonly queueId: number;
  readonly permission: QueuePermission;
}

export interface RouteQueriesDeps {
  routes: Pick<RouteService, 'view'>;
  metadata: Pick<MetadataService, 'topicType' | 'groupConfig'>;
  logger: Logger;
}

export class RouteQueries {
  readonly #deps: RouteQueriesDeps;

  constructor(deps: RouteQueriesDeps) {
    this.#deps = deps;
  }

  async queues(topicName: string | undefined): Promise<TopicQueues> {
    const topic = validateTopic(topicName);
    const view = await this.#deps.routes.view(topic);
    const acceptedKinds = acceptedMessageKinds(await this.#topicType(topic));
    return { topic, queues: publicQueues(view.route), acceptedKinds };
  }

  async assignments(topicName: string | undefined, groupName: string | undefined): Promise<Assignment[]> {
    const topic = validateTopic(topicName);
    const group = validateConsumerGroup(groupName);
    const view = await this.#deps.routes.view(topic);
    const fifo =
      (await this.#deps.metadata.groupConfig(group).catch(() => undefined))?.consumeMessageOrderly === true;
    const brokers = new Map(view.route.brokerDatas.map((broker) => [broker.brokerName, broker]));
    const assignments: Assignment[] = [];
    for (const data of view.route.queueDatas) {
      const broker = brokers.get(data.brokerName);
      if (!isReadable(data.perm) || data.readQueueNums <= 0) continue;
      if (broker === undefined || masterAddress(broker) === undefined) continue;
      const permission = permissionOf(data.perm);
      if (fifo) {
        for (let id = 0; id < data.readQueueNums; id++) {
          assignments.push({ brokerName: data.brokerName, queueId: id, permission });
        }
      } else {
        assignments.push({ brokerName: data.brokerName, queueId: -1, permission });
      }
    }
    if (assignments.length === 0) throw new ProxyError('Forbidden', 'no readable queue');
    return assignments;
  }

  async #topicType(topic: string): Promise<TopicType> {
    try {
      return await this.#deps.metadata.topicType(topic);
    } catch (error) {
      if (isTopicNotExist(error)) throw error;
      // As in Java: a failed lookup is "unknown type", not a failed route.
      this.#deps.logger.warn(
        { err: error, topic },
        'cannot read the topic message type; answering UNSPECIFIED',
      );
      return 'UNSPECIFIED';
    }
  }
}

/** A queue data's `perm` bits as a permission. */
export function permissionOf(perm: number): QueuePermission {
  const readable = isReadable(perm);
  const writable = isWritable(perm);
  if (readable && writable) return 'READ_WRITE';
  if (readable) return 'READ';
  if (writable) return 'WRITE';
  return 'NONE';
}
