/**
 * The consumption RPCs over the core's consumer services: ReceiveMessage as a backpressured server
 * stream, AckMessage, ChangeInvisibleDuration, ForwardMessageToDeadLetterQueue, and the offset RPCs
 * PullMessage, UpdateOffset, GetOffset, QueryOffset. Each decodes the request into the core's terms
 * (durations in ms, names as strings, filters and offset policies by name), calls the core, and
 * encodes its answer; failures become the response's status in the envelope.
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { FilterInput } from '../consumer/filter-expression.ts';
import type { OffsetPolicy, PullService, QueueRef } from '../consumer/pull.ts';
import type { ReceiveRequest, ReceiveService } from '../consumer/receive.ts';
import type { SettleService } from '../consumer/settle.ts';
import { ProxyError } from '../core/errors.ts';
import { type CallContext, callContext, unary } from './envelope.ts';
import { grpcMessageOf } from './message-codec.ts';
import { type apache, v2 } from './protocol.ts';
import { receiveSink, streamFlow } from './receive-stream.ts';
import type { MessagingHandlers } from './service-definition.ts';
import { millisOf } from './settings.ts';
import { OK_STATUS, statusFromError, statusOf } from './status.ts';

export interface ConsumerHandlerDeps {
  receiver: ReceiveService;
  settler: SettleService;
  puller: PullService;
  logger: Logger;
}

export type ConsumerHandlers = Pick<
  MessagingHandlers,
  | 'ReceiveMessage'
  | 'AckMessage'
  | 'ChangeInvisibleDuration'
  | 'ForwardMessageToDeadLetterQueue'
  | 'PullMessage'
  | 'UpdateOffset'
  | 'GetOffset'
  | 'QueryOffset'
>;

type PullResponse = apache.rocketmq.v2.PullMessageResponse.$Properties;

export function createConsumerHandlers(deps: ConsumerHandlerDeps): ConsumerHandlers {
  const { receiver, settler, puller } = deps;
  const logger = deps.logger.child({ component: 'consumer' });
  return {
    ReceiveMessage: (call) => {
      const context = streamContext(call);
      if (context === undefined) return;
      void receiver.receive(receiveRequestOf(call.request), context, receiveSink(call));
    },

    AckMessage: unary(
      'AckMessage',
      logger,
      async (request: apache.rocketmq.v2.AckMessageRequest, context) => {
        const entries = request.entries ?? [];
        const result = await settler.ack(
          {
            group: request.group?.name ?? undefined,
            topic: request.topic?.name ?? undefined,
            entries: entries.map((entry) => ({
              messageId: entry.messageId ?? '',
              receiptHandle: entry.receiptHandle ?? '',
            })),
          },
          context,
        );
        return {
          status: statusOf(result.outcome),
          entries: entries.map((entry, index) => ({
            messageId: entry.messageId,
            receiptHandle: entry.receiptHandle,
            status: statusOf(result.entries[index]!),
          })),
        };
      },
    ),

    ChangeInvisibleDuration: unary(
      'ChangeInvisibleDuration',
      logger,
      async (request: apache.rocketmq.v2.ChangeInvisibleDurationRequest, context) => ({
        status: OK_STATUS,
        receiptHandle: await settler.changeInvisibleDuration(
          {
            group: request.group?.name ?? undefined,
            topic: request.topic?.name ?? undefined,
            receiptHandle: request.receiptHandle ?? undefined,
            invisibleMs: millisOf(request.invisibleDuration),
          },
          context,
        ),
      }),
    ),

    ForwardMessageToDeadLetterQueue: unary(
      'ForwardMessageToDeadLetterQueue',
      logger,
      async (request: apache.rocketmq.v2.ForwardMessageToDeadLetterQueueRequest, context) => {
        await settler.forwardToDeadLetterQueue(
          {
            group: request.group?.name ?? undefined,
            topic: request.topic?.name ?? undefined,
            receiptHandle: request.receiptHandle ?? undefined,
            messageId: request.messageId ?? undefined,
          },
          context,
        );
        return { status: OK_STATUS };
      },
    ),

    PullMessage: (call) => {
      const context = streamContext(call);
      if (context === undefined) return;
      const flow = streamFlow(call);
      void (async () => {
        let responses: PullResponse[];
        try {
          const request = call.request;
          const result = await puller.pull(
            {
              group: request.group?.name ?? undefined,
              queue: queueRefOf(request.messageQueue),
              filter: filterOf(request.filterExpression),
              offset: int64(request.offset),
              batchSize: request.batchSize ?? undefined,
              longPollingMs: millisOf(request.longPollingTimeout),
            },
            context,
          );
          responses = [
            { status: statusOf(result.outcome) },
            ...result.messages.map((message) => ({ message: grpcMessageOf(message) })),
            { nextOffset: result.nextOffset },
          ];
        } catch (error) {
          if (!(error instanceof ProxyError)) logger.warn({ err: error }, 'PullMessage failed');
          responses = [{ status: statusFromError(error) }];
        }
        for (const response of responses) {
          if (flow.isClosed()) return;
          if (!call.write(response)) await flow.drained();
        }
        if (!flow.isClosed()) call.end();
      })();
    },

    UpdateOffset: unary('UpdateOffset', logger, async (request: apache.rocketmq.v2.UpdateOffsetRequest) => {
      await puller.updateOffset(
        request.group?.name ?? undefined,
        queueRefOf(request.messageQueue),
        int64(request.offset),
      );
      return { status: OK_STATUS };
    }),

    GetOffset: unary('GetOffset', logger, async (request: apache.rocketmq.v2.GetOffsetRequest) => ({
      status: OK_STATUS,
      offset: await puller.getOffset(request.group?.name ?? undefined, queueRefOf(request.messageQueue)),
    })),

    QueryOffset: unary('QueryOffset', logger, async (request: apache.rocketmq.v2.QueryOffsetRequest) => ({
      status: OK_STATUS,
      offset: await puller.queryOffset(queueRefOf(request.messageQueue), offsetPolicyOf(request)),
    })),
  };
}

export function receiveRequestOf(request: apache.rocketmq.v2.ReceiveMessageRequest): ReceiveRequest {
  return {
    group: request.group?.name ?? undefined,
    topic: request.messageQueue?.topic?.name ?? undefined,
    brokerName: request.messageQueue?.broker?.name ?? undefined,
    filter: filterOf(request.filterExpression),
    batchSize: request.batchSize ?? undefined,
    invisibleMs: millisOf(request.invisibleDuration),
    autoRenew: request.autoRenew === true,
    longPollingMs: millisOf(request.longPollingTimeout),
    attemptId: request.attemptId ?? undefined,
  };
}

/** SQL filters are SQL92; every other type (TAG, unspecified) is a tag expression, as in Java. */
export function filterOf(
  filter: apache.rocketmq.v2.FilterExpression.$Properties | null | undefined,
): FilterInput | undefined {
  if (filter === null || filter === undefined) return undefined;
  return { type: filter.type === v2.FilterType.SQL ? 'SQL92' : 'TAG', expression: filter.expression ?? '' };
}

export function queueRefOf(queue: apache.rocketmq.v2.MessageQueue.$Properties | null | undefined): QueueRef {
  return {
    topic: queue?.topic?.name ?? undefined,
    brokerName: queue?.broker?.name ?? undefined,
    queueId: queue?.id ?? undefined,
  };
}

export function offsetPolicyOf(request: apache.rocketmq.v2.QueryOffsetRequest): OffsetPolicy {
  const policy = request.queryOffsetPolicy ?? v2.QueryOffsetPolicy.BEGINNING;
  switch (policy) {
    case v2.QueryOffsetPolicy.BEGINNING:
      return { type: 'BEGINNING' };
    case v2.QueryOffsetPolicy.END:
      return { type: 'END' };
    case v2.QueryOffsetPolicy.TIMESTAMP:
      return { type: 'TIMESTAMP', timestampMs: request.timestamp ? millisOf(request.timestamp) : undefined };
    default:
      return { type: 'UNKNOWN', value: policy };
  }
}

/** An int64 field as decoded (a number, or a Long-like object for large values) → a number. */
export function int64(value: unknown): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'number' ? value : Number(String(value));
}

/** The call's context, or undefined after answering with the status alone (as Java does). */
function streamContext(call: ServerWritableStream<unknown, unknown>): CallContext | undefined {
  try {
    return callContext(call);
  } catch (error) {
    call.write({ status: statusFromError(error) });
    call.end();
    return undefined;
  }
}
