/**
 * The consumption RPCs (proxy-grpc.md §8.5–8.8, §8.13): ReceiveMessage as a backpressured server
 * stream, AckMessage, ChangeInvisibleDuration, ForwardMessageToDeadLetterQueue, and the offset RPCs
 * PullMessage, UpdateOffset, GetOffset, QueryOffset. Also owns the auto-renewer of push consumers'
 * in-flight messages and releases a client's messages when it goes away.
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Clock } from '../cluster/clock.ts';
import type { MetadataService } from '../cluster/metadata-service.ts';
import type { RouteService } from '../cluster/route-service.ts';
import { AutoRenewer } from '../consumer/auto-renew.ts';
import { ConsumerBroker } from '../consumer/broker-client.ts';
import { PullService } from '../consumer/pull.ts';
import { type ReceiveResponse, ReceiveService, type ReceiveSink } from '../consumer/receive.ts';
import { groupExistence, SettleService } from '../consumer/settle.ts';
import type { RemotingPool } from '../remoting/pool.ts';
import { groupConfigRequest, parseGroupConfig } from '../remoting/requests/admin.ts';
import type { ClientRegistry } from '../session/registry.ts';
import { consumerRetryPolicy } from '../session/retry-policy.ts';
import { type CallContext, callContext, unary } from './envelope.ts';
import type { apache } from './protocol.ts';
import type { MessagingHandlers } from './service-definition.ts';
import { OK_STATUS, ProxyStatusError, statusFromError } from './status.ts';

export interface ConsumerServiceDeps {
  pool: RemotingPool;
  routes: RouteService;
  metadata: MetadataService;
  registry: ClientRegistry;
  /** Timeout of one broker request (acks, offsets, …). */
  timeoutMs: number;
  polling: { minMs: number; maxMs: number };
  maxBodyBytes?: number | undefined;
  logger: Logger;
  clock?: Clock | undefined;
  /** Auto-renew scan period (default 5 s). */
  renewScanIntervalMs?: number | undefined;
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

export interface ConsumerService {
  readonly handlers: ConsumerHandlers;
  readonly renewer: AutoRenewer;
  /** Releases every auto-renewed message (call before the Remoting pool closes). */
  close(): Promise<void>;
}

export function createConsumerService(deps: ConsumerServiceDeps): ConsumerService {
  const logger = deps.logger.child({ component: 'consumer' });
  const broker = new ConsumerBroker({
    pool: deps.pool,
    routes: deps.routes,
    timeoutMs: deps.timeoutMs,
    maxBodyBytes: deps.maxBodyBytes,
  });
  const renewer = new AutoRenewer({
    broker,
    isClientAlive: (clientId) => deps.registry.get(clientId) !== undefined,
    retryPolicyOf: async (group) => consumerRetryPolicy(await deps.metadata.groupConfig(group)),
    logger,
    clock: deps.clock,
    scanIntervalMs: deps.renewScanIntervalMs,
  });
  deps.registry.onChange((event) => {
    if (event.type === 'removed') void renewer.releaseClient(event.session.clientId);
  });
  const askBrokers = async (group: string): Promise<boolean> => {
    for (const address of await deps.routes.masterAddresses()) {
      try {
        const response = await deps.pool.request(address, groupConfigRequest(group), {
          timeoutMs: deps.timeoutMs,
        });
        if (parseGroupConfig(response) !== undefined) return true;
      } catch (error) {
        logger.debug({ err: error, address, group }, 'group config query failed');
      }
    }
    return false;
  };
  const receiver = new ReceiveService({
    broker,
    routes: deps.routes,
    metadata: deps.metadata,
    registry: deps.registry,
    renewer,
    polling: deps.polling,
    logger,
    clock: deps.clock,
  });
  const settle = new SettleService({
    broker,
    renewer,
    groupExists: groupExistence(deps.metadata, askBrokers),
    logger,
    clock: deps.clock,
  });
  const puller = new PullService({
    pool: deps.pool,
    routes: deps.routes,
    timeoutMs: deps.timeoutMs,
    maxPollMs: deps.polling.maxMs,
    logger,
    clock: deps.clock,
  });

  const handlers: ConsumerHandlers = {
    ReceiveMessage: (call) => {
      const context = streamContext(call);
      if (context instanceof Error) return;
      void receiver.receive(call.request, context, timeRemaining(call), sinkOf(call));
    },

    AckMessage: unary('AckMessage', logger, (request: apache.rocketmq.v2.AckMessageRequest, context) =>
      settle.ack(request, context.clientId),
    ),

    ChangeInvisibleDuration: unary(
      'ChangeInvisibleDuration',
      logger,
      (request: apache.rocketmq.v2.ChangeInvisibleDurationRequest, context) =>
        settle.changeInvisibleDuration(request, context.clientId),
    ),

    ForwardMessageToDeadLetterQueue: unary(
      'ForwardMessageToDeadLetterQueue',
      logger,
      (request: apache.rocketmq.v2.ForwardMessageToDeadLetterQueueRequest, context) =>
        settle.forwardToDeadLetterQueue(request, context.clientId),
    ),

    PullMessage: (call) => {
      const context = streamContext(call);
      if (context instanceof Error) return;
      const sink = sinkOf(call);
      void (async () => {
        let responses: apache.rocketmq.v2.PullMessageResponse.$Properties[];
        try {
          responses = await puller.pull(call.request, timeRemaining(call));
        } catch (error) {
          if (!(error instanceof ProxyStatusError)) logger.warn({ err: error }, 'PullMessage failed');
          responses = [{ status: statusFromError(error) }];
        }
        for (const response of responses) {
          if (sink.isClosed()) return;
          if (!call.write(response)) await sink.drained();
        }
        if (!sink.isClosed()) call.end();
      })();
    },

    UpdateOffset: unary('UpdateOffset', logger, async (request: apache.rocketmq.v2.UpdateOffsetRequest) => {
      await puller.updateOffset(request);
      return { status: OK_STATUS };
    }),

    GetOffset: unary('GetOffset', logger, async (request: apache.rocketmq.v2.GetOffsetRequest) => ({
      status: OK_STATUS,
      offset: await puller.getOffset(request),
    })),

    QueryOffset: unary('QueryOffset', logger, async (request: apache.rocketmq.v2.QueryOffsetRequest) => ({
      status: OK_STATUS,
      offset: await puller.queryOffset(request),
    })),
  };

  return {
    handlers,
    renewer,
    close: () => renewer.close(),
  };
}

type AnyStream = ServerWritableStream<unknown, unknown>;

/** The call's context, or (after answering with the status alone, as Java does) the error. */
function streamContext(call: AnyStream): CallContext | Error {
  try {
    return callContext(call);
  } catch (error) {
    call.write({ status: statusFromError(error) });
    call.end();
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** Milliseconds to the call's deadline; Infinity without one. */
function timeRemaining(call: AnyStream): number {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  return Number.isFinite(at) ? at - Date.now() : Number.POSITIVE_INFINITY;
}

function sinkOf(call: AnyStream): ReceiveSink & { write(response: ReceiveResponse): boolean } {
  let closed = false;
  const markClosed = (): void => {
    closed = true;
  };
  call.once('cancelled', markClosed);
  call.once('close', markClosed);
  call.once('error', markClosed);
  const isClosed = (): boolean => closed || call.cancelled || call.destroyed || !call.writable;
  return {
    write: (response) => call.write(response),
    isClosed,
    end: () => call.end(),
    drained: () =>
      new Promise<boolean>((resolve) => {
        if (isClosed()) return resolve(false);
        if (!call.writableNeedDrain) return resolve(true);
        const done = (drained: boolean) => () => {
          call.off('drain', onDrain);
          call.off('cancelled', onClose);
          call.off('close', onClose);
          resolve(drained);
        };
        const onDrain = done(true);
        const onClose = done(false);
        call.once('drain', onDrain);
        call.once('cancelled', onClose);
        call.once('close', onClose);
      }),
  };
}
