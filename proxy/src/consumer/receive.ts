/**
 * ReceiveMessage over broker POP (proxy-grpc.md §8.5): derive the parameters, pick a broker, long-poll
 * one pop, drop what the client must not see (tag hash collisions are acked, messages past the
 * group's max attempts go to the DLQ), and stream the rest in the order the clients expect:
 * status, messages, delivery timestamp. Messages the client can no longer get (it cancelled, the
 * stream broke) are released at once with a short invisible time, so nothing waits for its full
 * invisible time and nothing is lost.
 */
import type { Logger } from 'pino';
import type { Clock } from '../cluster/clock.ts';
import type { MetadataService } from '../cluster/metadata-service.ts';
import type { AddressableQueue } from '../cluster/queue-views.ts';
import type { RouteService } from '../cluster/route-service.ts';
import type { CallContext } from '../grpc/envelope.ts';
import type { apache } from '../grpc/protocol.ts';
import { millisOf } from '../grpc/settings.ts';
import { Code, ProxyStatusError, type Status, status, statusFromError } from '../grpc/status.ts';
import { validateConsumerGroup, validateTopic } from '../grpc/validation.ts';
import { ResponseCode } from '../remoting/codes.ts';
import { RemotingResponseError } from '../remoting/errors.ts';
import { MessageProperty } from '../remoting/message/properties.ts';
import type { PoppedMessage, PopResult } from '../remoting/requests/pop.ts';
import type { ClientSession } from '../session/client-session.ts';
import type { ClientRegistry } from '../session/registry.ts';
import { consumerRetryPolicy } from '../session/retry-policy.ts';
import { timestampOf } from '../transaction/message-view.ts';
import type { AutoRenewer } from './auto-renew.ts';
import type { ConsumerBroker } from './broker-client.ts';
import { type ConsumerFilter, parseFilter, tagMatches } from './filter-expression.ts';
import { deliveredMessage, messageIdOf } from './message-conversion.ts';
import {
  AUTO_RENEW_INVISIBLE_MS,
  longPollingTime,
  popBatchSize,
  receiveInvisibleTime,
} from './parameters.ts';
import { receiptHandleOf } from './receipt-handle.ts';

export type ReceiveResponse = apache.rocketmq.v2.ReceiveMessageResponse.$Properties;

/** The server stream, seen through what backpressure and cancellation need. */
export interface ReceiveSink {
  /** False when the client's window is full: wait for drained() before writing more. */
  write(response: ReceiveResponse): boolean;
  /** True once the stream can take more; false when the call ended first. */
  drained(): Promise<boolean>;
  /** The client cancelled or the call broke. */
  isClosed(): boolean;
  end(): void;
}

export interface ReceiveDeps {
  broker: ConsumerBroker;
  routes: Pick<RouteService, 'view'>;
  metadata: Pick<MetadataService, 'groupConfig'>;
  registry: Pick<ClientRegistry, 'get'>;
  renewer: Pick<AutoRenewer, 'add'>;
  polling: { minMs: number; maxMs: number };
  logger: Logger;
  clock?: Clock | undefined;
}

/** Invisible time of messages handed back because the client cannot take them. */
export const RELEASE_INVISIBLE_MS = 1000;
/** Extra time a pop request gets beyond its long poll before the proxy gives up on the broker. */
const POP_TIMEOUT_SLACK_MS = 3000;

interface ReceivePlan {
  group: string;
  topic: string;
  filter: ConsumerFilter;
  batchSize: number;
  invisibleTime: number;
  autoRenew: boolean;
  pollTime: number;
  fifo: boolean;
  maxAttempts: number;
  attemptId: string | undefined;
  session: ClientSession | undefined;
}

export class ReceiveService {
  readonly #deps: ReceiveDeps;
  readonly #clock: Clock;
  #cursor = Math.floor(Math.random() * 1024);

  constructor(deps: ReceiveDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? Date.now;
  }

  /** Serves one ReceiveMessage call to the end (never throws; every outcome is streamed). */
  async receive(
    request: apache.rocketmq.v2.ReceiveMessageRequest,
    context: CallContext,
    timeRemainingMs: number,
    sink: ReceiveSink,
  ): Promise<void> {
    let delivered: Status;
    try {
      delivered = await this.#receive(request, context, timeRemainingMs, sink);
    } catch (error) {
      delivered = statusFromError(error);
      if (!(error instanceof ProxyStatusError)) {
        this.#deps.logger.warn({ err: error, code: delivered.code }, 'ReceiveMessage failed');
      }
      if (!sink.isClosed()) sink.write({ status: delivered });
    }
    if (!sink.isClosed()) {
      sink.write({ deliveryTimestamp: timestampOf(this.#clock()) });
      sink.end();
    }
  }

  /** Returns the status written (the caller adds the delivery timestamp). */
  async #receive(
    request: apache.rocketmq.v2.ReceiveMessageRequest,
    context: CallContext,
    timeRemainingMs: number,
    sink: ReceiveSink,
  ): Promise<Status> {
    const plan = await this.#plan(request, context, timeRemainingMs);
    const target = await this.#selectBroker(plan.topic, request.messageQueue?.broker?.name ?? undefined);
    if (plan.autoRenew && plan.session === undefined) {
      throw new ProxyStatusError(Code.MESSAGE_NOT_FOUND, `The client [${context.clientId}] is disconnected.`);
    }
    // Backpressure: pop nothing while the client still has unread responses queued.
    if (!(await sink.drained())) return status(Code.OK);

    const result = await this.#pop(plan, target);
    if (result.status === 'POLLING_FULL') {
      return this.#writeStatus(sink, status(Code.TOO_MANY_REQUESTS, 'polling full'));
    }
    if (result.status !== 'FOUND' || result.messages.length === 0) {
      return this.#writeStatus(sink, status(Code.MESSAGE_NOT_FOUND, 'no new message'));
    }
    const kept = await this.#screen(plan, result.messages);
    if (kept.length === 0) {
      return this.#writeStatus(sink, status(Code.MESSAGE_NOT_FOUND, 'no match message'));
    }
    if (plan.autoRenew && this.#deps.registry.get(context.clientId) === undefined) {
      await this.#release(plan, kept);
      return this.#writeStatus(
        sink,
        status(Code.MESSAGE_NOT_FOUND, `The client [${context.clientId}] is disconnected.`),
      );
    }
    return this.#deliver(plan, context.clientId, kept, sink);
  }

  async #plan(
    request: apache.rocketmq.v2.ReceiveMessageRequest,
    context: CallContext,
    timeRemainingMs: number,
  ): Promise<ReceivePlan> {
    const session = this.#deps.registry.get(context.clientId);
    const settings = session?.settings;
    const pollTime = longPollingTime({
      requestedMs: millisOf(request.longPollingTimeout),
      clientRequestTimeoutMs: millisOf(settings?.requestTimeout),
      timeRemainingMs,
      minMs: this.#deps.polling.minMs,
      maxMs: this.#deps.polling.maxMs,
    });
    const topic = validateTopic(request.messageQueue?.topic);
    const group = validateConsumerGroup(request.group);
    const autoRenew = request.autoRenew === true;
    const invisibleTime = autoRenew
      ? AUTO_RENEW_INVISIBLE_MS
      : receiveInvisibleTime(millisOf(request.invisibleDuration));
    const filter = parseFilter(request.filterExpression);
    const batchSize = popBatchSize(request.batchSize);

    let fifo: boolean;
    let maxAttempts: number;
    if (session !== undefined && session.consumerGroup === group && settings !== undefined) {
      fifo = settings.subscription?.fifo === true;
      maxAttempts = settings.backoffPolicy?.maxAttempts ?? consumerRetryPolicy(undefined).maxAttempts;
    } else {
      // No settings from this client (yet): the group's own config decides, and it must exist.
      const config = await this.#deps.metadata.groupConfig(group);
      if (config === undefined) {
        throw new ProxyStatusError(
          Code.CONSUMER_GROUP_NOT_FOUND,
          `consumer group ${group} does not exist (and the client sent no settings for it)`,
        );
      }
      fifo = config.consumeMessageOrderly === true;
      maxAttempts = consumerRetryPolicy(config).maxAttempts;
    }
    return {
      group,
      topic,
      filter,
      batchSize,
      invisibleTime,
      autoRenew,
      pollTime,
      fifo,
      maxAttempts,
      attemptId: request.attemptId ?? undefined,
      session: session?.consumerGroup === group ? session : undefined,
    };
  }

  /** The broker the client named (if it serves the topic), else round-robin over readable brokers. */
  async #selectBroker(topic: string, brokerName: string | undefined): Promise<AddressableQueue> {
    const brokers = (await this.#deps.routes.view(topic)).readBrokers;
    if (brokerName !== undefined && brokerName.trim() !== '') {
      const named = brokers.find((broker) => broker.brokerName === brokerName);
      if (named !== undefined) return named;
    }
    if (brokers.length === 0) throw new ProxyStatusError(Code.FORBIDDEN, 'no readable queue');
    this.#cursor = (this.#cursor + 1) % 2 ** 30;
    return brokers[this.#cursor % brokers.length]!;
  }

  async #pop(plan: ReceivePlan, target: AddressableQueue): Promise<PopResult> {
    try {
      return await this.#deps.broker.pop(
        target.brokerAddr,
        target.brokerName,
        {
          consumerGroup: plan.group,
          topic: plan.topic,
          queueId: -1,
          maxMsgNums: plan.batchSize,
          invisibleTime: plan.invisibleTime,
          pollTime: plan.pollTime,
          bornTime: this.#clock(),
          initMode: 'MAX',
          expressionType: plan.filter.type,
          expression: plan.filter.expression,
          order: plan.fifo,
          attemptId: plan.attemptId,
        },
        plan.pollTime + POP_TIMEOUT_SLACK_MS,
      );
    } catch (error) {
      if (
        error instanceof RemotingResponseError &&
        error.responseCode === ResponseCode.SUBSCRIPTION_PARSE_FAILED
      ) {
        throw new ProxyStatusError(
          Code.ILLEGAL_FILTER_EXPRESSION,
          `the broker cannot parse the ${plan.filter.type} filter ${JSON.stringify(plan.filter.expression)}: ${error.remark ?? 'parse failed'}`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  /**
   * Keeps the messages to deliver. Tag hash collisions are acked (the group does not want them);
   * messages delivered max-attempts times already go to the DLQ. A failure here keeps the message.
   */
  async #screen(plan: ReceivePlan, messages: readonly PoppedMessage[]): Promise<PoppedMessage[]> {
    const verdicts = await Promise.all(
      messages.map(async (message): Promise<boolean> => {
        try {
          if (!tagMatches(plan.filter, message.properties.get(MessageProperty.TAGS))) {
            await this.#deps.broker.ack(plan.group, plan.topic, message.receipt);
            return false;
          }
          if (message.reconsumeTimes >= plan.maxAttempts) {
            await this.#deps.broker.sendBack(message.receipt.brokerName, {
              commitLogOffset: message.commitLogOffset,
              consumerGroup: plan.group,
              originMsgId: messageIdOf(message),
              originTopic: message.realTopic,
            });
            await this.#deps.broker.ack(plan.group, plan.topic, message.receipt);
            this.#deps.logger.info(
              {
                group: plan.group,
                topic: plan.topic,
                messageId: messageIdOf(message),
                attempts: message.reconsumeTimes,
              },
              'message exceeded its max delivery attempts; forwarded to the DLQ',
            );
            return false;
          }
        } catch (error) {
          this.#deps.logger.warn(
            { err: error, group: plan.group },
            'screening a popped message failed; delivering it',
          );
        }
        return true;
      }),
    );
    return messages.filter((_, index) => verdicts[index]);
  }

  async #deliver(
    plan: ReceivePlan,
    clientId: string,
    messages: readonly PoppedMessage[],
    sink: ReceiveSink,
  ): Promise<Status> {
    const ok = status(Code.OK, 'OK');
    if (sink.isClosed() || !this.#write(sink, { status: ok })) {
      await this.#release(plan, messages);
      return ok;
    }
    for (let index = 0; index < messages.length; index++) {
      const message = messages[index]!;
      const handle = receiptHandleOf(message);
      const now = this.#clock();
      const writable = sink.write({ message: deliveredMessage(message, handle, now) });
      if (plan.autoRenew) {
        this.#deps.renewer.add({
          clientId,
          group: plan.group,
          topic: plan.topic,
          originalHandle: handle,
          receipt: { ...message.receipt, commitLogOffset: message.commitLogOffset },
          firstPopTime: Number(message.properties.get(MessageProperty.FIRST_POP_TIME) ?? now) || now,
          reconsumeTimes: message.reconsumeTimes,
        });
      }
      // A full window: wait for the client before writing more; a closed call releases the rest.
      if (!writable && index < messages.length - 1 && !(await sink.drained())) {
        await this.#release(plan, messages.slice(index + 1));
        return ok;
      }
      if (sink.isClosed() && index < messages.length - 1) {
        await this.#release(plan, messages.slice(index + 1));
        return ok;
      }
    }
    return ok;
  }

  #writeStatus(sink: ReceiveSink, written: Status): Status {
    this.#write(sink, { status: written });
    return written;
  }

  #write(sink: ReceiveSink, response: ReceiveResponse): boolean {
    if (sink.isClosed()) return false;
    sink.write(response);
    return !sink.isClosed();
  }

  /** Hands messages back for redelivery soon (the client never saw them). */
  async #release(plan: ReceivePlan, messages: readonly PoppedMessage[]): Promise<void> {
    await Promise.all(
      messages.map(async (message) => {
        try {
          await this.#deps.broker.changeInvisible(
            plan.group,
            plan.topic,
            message.receipt,
            RELEASE_INVISIBLE_MS,
          );
        } catch (error) {
          this.#deps.logger.debug({ err: error }, 'releasing an undelivered message failed');
        }
      }),
    );
  }
}
