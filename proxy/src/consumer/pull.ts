/**
 * Offset-managed consumption (proxy-grpc.md §8.13), which the Java proxy leaves UNIMPLEMENTED:
 * PullMessage over PULL_MESSAGE (long-polled), UpdateOffset / GetOffset over the group's consumer
 * offsets, QueryOffset over min/max/timestamp offsets of a queue. Queues are named by topic, broker
 * name and queue id, as QueryRoute/QueryAssignment hand them out.
 */
import type { Logger } from 'pino';
import type { Clock } from '../cluster/clock.ts';
import type { AddressableQueue } from '../cluster/queue-views.ts';
import type { RouteService } from '../cluster/route-service.ts';
import { type apache, v2 } from '../grpc/protocol.ts';
import { millisOf } from '../grpc/settings.ts';
import { Code, OK_STATUS, ProxyStatusError, status } from '../grpc/status.ts';
import { validateConsumerGroup, validateTopic } from '../grpc/validation.ts';
import { RequestCode, ResponseCode } from '../remoting/codes.ts';
import { RemotingResponseError } from '../remoting/errors.ts';
import { MessageProperty } from '../remoting/message/properties.ts';
import type { StoredMessage } from '../remoting/message/stored-message.ts';
import type { RemotingPool } from '../remoting/pool.ts';
import {
  maxOffsetRequest,
  minOffsetRequest,
  parseOffset,
  parseQueryConsumerOffset,
  parseUpdateConsumerOffset,
  queryConsumerOffsetRequest,
  searchOffsetRequest,
  updateConsumerOffsetRequest,
} from '../remoting/requests/offsets.ts';
import { POP_MAX_MSG_NUMS } from '../remoting/requests/pop.ts';
import { parsePullResponse, pullMessageRequest } from '../remoting/requests/pull.ts';
import { parseFilter, tagMatches } from './filter-expression.ts';
import { deliveredMessage } from './message-conversion.ts';
import { DEADLINE_MARGIN_MS } from './parameters.ts';

export type PullResponse = apache.rocketmq.v2.PullMessageResponse.$Properties;

export interface PullDeps {
  pool: Pick<RemotingPool, 'request'>;
  routes: Pick<RouteService, 'view'>;
  timeoutMs: number;
  /** Longest broker-side hold of a pull (the consumer long-polling maximum). */
  maxPollMs: number;
  logger: Logger;
  clock?: Clock | undefined;
}

/** Messages of one pull; the broker caps a pull at 32 like a pop. */
const MAX_PULL_BATCH = POP_MAX_MSG_NUMS;

export class PullService {
  readonly #deps: PullDeps;
  readonly #clock: Clock;

  constructor(deps: PullDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? Date.now;
  }

  /** The stream of one PullMessage: status, messages, next offset. */
  async pull(
    request: apache.rocketmq.v2.PullMessageRequest,
    timeRemainingMs: number,
  ): Promise<PullResponse[]> {
    const group = validateConsumerGroup(request.group);
    const queue = await this.#queue(request.messageQueue);
    const filter = parseFilter(request.filterExpression);
    const offset = int64(request.offset);
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new ProxyStatusError(Code.ILLEGAL_OFFSET, `offset ${offset} is not a non-negative integer`);
    }
    const batch = request.batchSize ?? 0;
    if (batch <= 0) throw new ProxyStatusError(Code.BAD_REQUEST, `batch size must be positive, got ${batch}`);
    const wanted = millisOf(request.longPollingTimeout) ?? 0;
    const pollMs = Math.max(0, Math.min(wanted, this.#deps.maxPollMs, timeRemainingMs - DEADLINE_MARGIN_MS));
    let result: ReturnType<typeof parsePullResponse>;
    try {
      const response = await this.#deps.pool.request(
        queue.brokerAddr,
        pullMessageRequest({
          consumerGroup: group,
          topic: queue.topic,
          queueId: queue.queueId,
          queueOffset: offset,
          maxMsgNums: Math.min(batch, MAX_PULL_BATCH),
          sysFlag: { subscription: true, suspend: pollMs > 0 },
          suspendTimeoutMillis: pollMs,
          subscription: filter.expression,
          expressionType: filter.type,
          brokerName: queue.brokerName,
        }),
        { timeoutMs: pollMs + this.#deps.timeoutMs },
      );
      result = parsePullResponse(response);
    } catch (error) {
      throw filterError(error);
    }
    const nextOffset = { nextOffset: result.nextBeginOffset };
    switch (result.status) {
      case 'OFFSET_ILLEGAL':
        return [
          {
            status: status(
              Code.ILLEGAL_OFFSET,
              `offset ${offset} is outside [${result.minOffset}, ${result.maxOffset}] of the queue`,
            ),
          },
          nextOffset,
        ];
      case 'NO_NEW_MSG':
      case 'NO_MATCHED_MSG':
        return [{ status: status(Code.MESSAGE_NOT_FOUND, 'no new message') }, nextOffset];
      case 'FOUND':
        break;
    }
    const now = this.#clock();
    const messages = result.messages.filter((message: StoredMessage) =>
      tagMatches(filter, message.properties.get(MessageProperty.TAGS)),
    );
    if (messages.length === 0) {
      return [{ status: status(Code.MESSAGE_NOT_FOUND, 'no match message') }, nextOffset];
    }
    return [
      { status: OK_STATUS },
      ...messages.map((message) => ({
        message: deliveredMessage({ ...message, topic: queue.topic }, undefined, now),
      })),
      nextOffset,
    ];
  }

  async updateOffset(request: apache.rocketmq.v2.UpdateOffsetRequest): Promise<void> {
    const group = validateConsumerGroup(request.group);
    const queue = await this.#queue(request.messageQueue);
    const offset = int64(request.offset);
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new ProxyStatusError(Code.ILLEGAL_OFFSET, `offset ${offset} is not a non-negative integer`);
    }
    parseUpdateConsumerOffset(
      await this.#deps.pool.request(queue.brokerAddr, updateConsumerOffsetRequest(queue, group, offset), {
        timeoutMs: this.#deps.timeoutMs,
      }),
    );
  }

  async getOffset(request: apache.rocketmq.v2.GetOffsetRequest): Promise<number> {
    const group = validateConsumerGroup(request.group);
    const queue = await this.#queue(request.messageQueue);
    const offset = parseQueryConsumerOffset(
      await this.#deps.pool.request(queue.brokerAddr, queryConsumerOffsetRequest(queue, group), {
        timeoutMs: this.#deps.timeoutMs,
      }),
    );
    if (offset === undefined) {
      throw new ProxyStatusError(
        Code.OFFSET_NOT_FOUND,
        `group ${group} has no committed offset for ${queue.topic}@${queue.brokerName}:${queue.queueId}`,
      );
    }
    return offset;
  }

  async queryOffset(request: apache.rocketmq.v2.QueryOffsetRequest): Promise<number> {
    const queue = await this.#queue(request.messageQueue);
    const policy = request.queryOffsetPolicy ?? v2.QueryOffsetPolicy.BEGINNING;
    const options = { timeoutMs: this.#deps.timeoutMs };
    switch (policy) {
      case v2.QueryOffsetPolicy.BEGINNING:
        return parseOffset(
          await this.#deps.pool.request(queue.brokerAddr, minOffsetRequest(queue), options),
          RequestCode.GET_MIN_OFFSET,
        );
      case v2.QueryOffsetPolicy.END:
        return parseOffset(
          await this.#deps.pool.request(queue.brokerAddr, maxOffsetRequest(queue), options),
          RequestCode.GET_MAX_OFFSET,
        );
      case v2.QueryOffsetPolicy.TIMESTAMP: {
        const ms = request.timestamp ? millisOf(request.timestamp) : undefined;
        if (ms === undefined) {
          throw new ProxyStatusError(Code.BAD_REQUEST, 'query offset policy TIMESTAMP needs a timestamp');
        }
        return parseOffset(
          await this.#deps.pool.request(queue.brokerAddr, searchOffsetRequest(queue, ms), options),
          RequestCode.SEARCH_OFFSET_BY_TIMESTAMP,
        );
      }
      default:
        throw new ProxyStatusError(Code.BAD_REQUEST, `unknown query offset policy ${policy}`);
    }
  }

  /** The read queue a request names (topic, broker name, queue id). */
  async #queue(messageQueue: apache.rocketmq.v2.IMessageQueue | null | undefined): Promise<AddressableQueue> {
    const topic = validateTopic(messageQueue?.topic);
    const brokerName = messageQueue?.broker?.name ?? '';
    const queueId = messageQueue?.id ?? -1;
    const queues = (await this.#deps.routes.view(topic)).readQueues;
    const candidates = brokerName.trim() === '' ? queues : queues.filter((q) => q.brokerName === brokerName);
    const brokers = new Set(candidates.map((queue) => queue.brokerName));
    if (brokers.size === 0) {
      throw new ProxyStatusError(
        Code.BAD_REQUEST,
        `topic ${topic} has no readable queue on broker ${brokerName}`,
      );
    }
    if (brokers.size > 1) {
      throw new ProxyStatusError(
        Code.BAD_REQUEST,
        `name the broker: topic ${topic} is served by ${[...brokers].join(', ')}`,
      );
    }
    const queue = candidates.find((candidate) => candidate.queueId === queueId);
    if (queue === undefined) {
      throw new ProxyStatusError(
        Code.BAD_REQUEST,
        `queue ${queueId} is not a readable queue of ${topic} on ${[...brokers][0]}`,
      );
    }
    return queue;
  }
}

/** An int64 field as decoded (a number, or a Long-like object for large values) → a number. */
export function int64(value: unknown): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : Number(String(value));
}

function filterError(error: unknown): unknown {
  if (
    error instanceof RemotingResponseError &&
    error.responseCode === ResponseCode.SUBSCRIPTION_PARSE_FAILED
  ) {
    return new ProxyStatusError(
      Code.ILLEGAL_FILTER_EXPRESSION,
      `the broker cannot parse the filter: ${error.remark ?? ''}`,
      {
        cause: error,
      },
    );
  }
  return error;
}
