/**
 * Offset-managed consumption, which the Java proxy leaves unimplemented over gRPC: pulls over
 * PULL_MESSAGE (long-polled), updating and reading a group's consumer offsets, and a queue's
 * min/max/timestamp offsets. Queues are named by topic, broker name and queue id, as routes and
 * assignments hand them out.
 */
import type { Logger } from 'pino';
import type { Clock } from '../cluster/clock.ts';
import type { AddressableQueue } from '../cluster/queue-views.ts';
import type { RouteService } from '../cluster/route-service.ts';
import { type RequestContext, timeRemaining } from '../core/context.ts';
import { OK, type Outcome, outcome, ProxyError } from '../core/errors.ts';
import { type MessageView, messageView } from '../core/message-view.ts';
import { validateConsumerGroup, validateTopic } from '../core/names.ts';
import { RequestCode, ResponseCode } from '../remoting/codes.ts';
import { RemotingResponseError } from '../remoting/errors.ts';
import { MessageProperty } from '../remoting/message/properties.ts';
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
import { type FilterInput, parseFilter, tagMatches } from './filter-expression.ts';
import { DEADLINE_MARGIN_MS } from './parameters.ts';

/** A queue as the client names it; checked against the topic's readable queues. */
export interface QueueRef {
  readonly topic: string | undefined;
  /** Blank: the topic's only broker. */
  readonly brokerName: string | undefined;
  readonly queueId: number | undefined;
}

export interface PullRequest {
  readonly group: string | undefined;
  readonly queue: QueueRef;
  readonly filter: FilterInput | undefined;
  /** The first offset wanted (a non-negative integer). */
  readonly offset: number;
  readonly batchSize: number | undefined;
  readonly longPollingMs: number | undefined;
}

/** A pull's answer: its outcome, the messages (after an OK outcome), and where to pull next. */
export interface PullResult {
  readonly outcome: Outcome;
  readonly messages: readonly MessageView[];
  readonly nextOffset: number;
}

/**
 * Where a queue offset is looked up. A policy the ingress cannot name is passed as UNKNOWN, so that
 * it is refused after the queue is checked, as before.
 */
export type OffsetPolicy =
  | { readonly type: 'BEGINNING' }
  | { readonly type: 'END' }
  | { readonly type: 'TIMESTAMP'; readonly timestampMs: number | undefined }
  | { readonly type: 'UNKNOWN'; readonly value: number };

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

  async pull(request: PullRequest, context: RequestContext): Promise<PullResult> {
    // The deadline is wall-clock time, whatever clock the service runs on.
    const timeRemainingMs = timeRemaining(context);
    const group = validateConsumerGroup(request.group);
    const queue = await this.#queue(request.queue);
    const filter = parseFilter(request.filter);
    const offset = requireOffset(request.offset);
    const batch = request.batchSize ?? 0;
    if (batch <= 0) throw new ProxyError('BadRequest', `batch size must be positive, got ${batch}`);
    const wanted = request.longPollingMs ?? 0;
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
    const nextOffset = result.nextBeginOffset;
    switch (result.status) {
      case 'OFFSET_ILLEGAL':
        return {
          outcome: outcome(
            'IllegalOffset',
            `offset ${offset} is outside [${result.minOffset}, ${result.maxOffset}] of the queue`,
          ),
          messages: [],
          nextOffset,
        };
      case 'NO_NEW_MSG':
      case 'NO_MATCHED_MSG':
        return { outcome: outcome('MessageNotFound', 'no new message'), messages: [], nextOffset };
      case 'FOUND':
        break;
    }
    const now = this.#clock();
    const messages: MessageView[] = [];
    for (const message of result.messages) {
      if (tagMatches(filter, message.properties.get(MessageProperty.TAGS))) {
        messages.push(messageView({ ...message, topic: queue.topic }, now));
      }
    }
    if (messages.length === 0) {
      return { outcome: outcome('MessageNotFound', 'no match message'), messages, nextOffset };
    }
    return { outcome: OK, messages, nextOffset };
  }

  async updateOffset(group: string | undefined, queueRef: QueueRef, offset: number): Promise<void> {
    const name = validateConsumerGroup(group);
    const queue = await this.#queue(queueRef);
    const checked = requireOffset(offset);
    parseUpdateConsumerOffset(
      await this.#deps.pool.request(queue.brokerAddr, updateConsumerOffsetRequest(queue, name, checked), {
        timeoutMs: this.#deps.timeoutMs,
      }),
    );
  }

  /** The group's committed offset of the queue; OffsetNotFound without one. */
  async getOffset(group: string | undefined, queueRef: QueueRef): Promise<number> {
    const name = validateConsumerGroup(group);
    const queue = await this.#queue(queueRef);
    const offset = parseQueryConsumerOffset(
      await this.#deps.pool.request(queue.brokerAddr, queryConsumerOffsetRequest(queue, name), {
        timeoutMs: this.#deps.timeoutMs,
      }),
    );
    if (offset === undefined) {
      throw new ProxyError(
        'OffsetNotFound',
        `group ${name} has no committed offset for ${queue.topic}@${queue.brokerName}:${queue.queueId}`,
      );
    }
    return offset;
  }

  async queryOffset(queueRef: QueueRef, policy: OffsetPolicy): Promise<number> {
    const queue = await this.#queue(queueRef);
    const options = { timeoutMs: this.#deps.timeoutMs };
    switch (policy.type) {
      case 'BEGINNING':
        return parseOffset(
          await this.#deps.pool.request(queue.brokerAddr, minOffsetRequest(queue), options),
          RequestCode.GET_MIN_OFFSET,
        );
      case 'END':
        return parseOffset(
          await this.#deps.pool.request(queue.brokerAddr, maxOffsetRequest(queue), options),
          RequestCode.GET_MAX_OFFSET,
        );
      case 'TIMESTAMP': {
        if (policy.timestampMs === undefined) {
          throw new ProxyError('BadRequest', 'query offset policy TIMESTAMP needs a timestamp');
        }
        const request = searchOffsetRequest(queue, policy.timestampMs);
        return parseOffset(
          await this.#deps.pool.request(queue.brokerAddr, request, options),
          RequestCode.SEARCH_OFFSET_BY_TIMESTAMP,
        );
      }
      case 'UNKNOWN':
        throw new ProxyError('BadRequest', `unknown query offset policy ${policy.value}`);
    }
  }

  /** The read queue a request names (topic, broker name, queue id). */
  async #queue(ref: QueueRef): Promise<AddressableQueue> {
    const topic = validateTopic(ref.topic);
    const brokerName = ref.brokerName ?? '';
    const queueId = ref.queueId ?? -1;
    const queues = (await this.#deps.routes.view(topic)).readQueues;
    const candidates = brokerName.trim() === '' ? queues : queues.filter((q) => q.brokerName === brokerName);
    const brokers = new Set(candidates.map((queue) => queue.brokerName));
    if (brokers.size === 0) {
      throw new ProxyError('BadRequest', `topic ${topic} has no readable queue on broker ${brokerName}`);
    }
    if (brokers.size > 1) {
      throw new ProxyError(
        'BadRequest',
        `name the broker: topic ${topic} is served by ${[...brokers].join(', ')}`,
      );
    }
    const queue = candidates.find((candidate) => candidate.queueId === queueId);
    if (queue === undefined) {
      throw new ProxyError(
        'BadRequest',
        `queue ${queueId} is not a readable queue of ${topic} on ${[...brokers][0]}`,
      );
    }
    return queue;
  }
}

function requireOffset(offset: number): number {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new ProxyError('IllegalOffset', `offset ${offset} is not a non-negative integer`);
  }
  return offset;
}

function filterError(error: unknown): unknown {
  if (
    error instanceof RemotingResponseError &&
    error.responseCode === ResponseCode.SUBSCRIPTION_PARSE_FAILED
  ) {
    return new ProxyError(
      'IllegalFilterExpression',
      `the broker cannot parse the filter: ${error.remark ?? ''}`,
      {
        cause: error,
      },
    );
  }
  return error;
}
