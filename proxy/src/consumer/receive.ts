/**
 * Receiving over broker POP, as the Java proxy's receive activity does it: derive the parameters,
 * pick a broker, long-poll one pop, drop what the client must not see (tag hash collisions are
 * acked, messages past the group's max attempts go to the DLQ), and hand the rest to the ingress's
 * sink in the order clients expect: the outcome, the messages, the end. Messages the client can no
 * longer get (it cancelled, the stream broke) are released at once with a short invisible time, so
 * nothing waits for its full invisible time and nothing is lost.
 */
import type { Logger } from 'pino';
import type { Clock } from '../cluster/clock.ts';
import type { MetadataService } from '../cluster/metadata-service.ts';
import type { AddressableQueue } from '../cluster/queue-views.ts';
import type { RouteService } from '../cluster/route-service.ts';
import { type RequestContext, timeRemaining } from '../core/context.ts';
import { OK, type Outcome, outcome, outcomeOf, ProxyError } from '../core/errors.ts';
import { type MessageView, messageIdOf, messageView } from '../core/message-view.ts';
import { validateConsumerGroup, validateTopic } from '../core/names.ts';
import { ResponseCode } from '../remoting/codes.ts';
import { RemotingResponseError } from '../remoting/errors.ts';
import { MessageProperty } from '../remoting/message/properties.ts';
import type { PoppedMessage, PopResult } from '../remoting/requests/pop.ts';
import type { ClientSession } from '../session/client-session.ts';
import type { ClientRegistry } from '../session/registry.ts';
import { consumerRetryPolicy } from '../session/retry-policy.ts';
import type { AutoRenewer } from './auto-renew.ts';
import type { ConsumerBroker } from './broker-client.ts';
import { type ConsumerFilter, type FilterInput, parseFilter, tagMatches } from './filter-expression.ts';
import {
  AUTO_RENEW_INVISIBLE_MS,
  longPollingTime,
  popBatchSize,
  receiveInvisibleTime,
} from './parameters.ts';
import { receiptHandleOf } from './receipt-handle.ts';

/** One receive as the client asked for it, unchecked (the service checks it; see `receive`). */
export interface ReceiveRequest {
  readonly group: string | undefined;
  readonly topic: string | undefined;
  /** The broker the client would like to pop from (kept when it serves the topic). */
  readonly brokerName: string | undefined;
  readonly filter: FilterInput | undefined;
  readonly batchSize: number | undefined;
  /** Ignored with auto-renew (the proxy then renews from a fixed invisible time). */
  readonly invisibleMs: number | undefined;
  readonly autoRenew: boolean;
  readonly longPollingMs: number | undefined;
  /** The client's id of this attempt, so that a retried pop of FIFO messages gets the same ones. */
  readonly attemptId: string | undefined;
}

/**
 * Where a receive's answer goes, implemented by each ingress over its stream: the service writes
 * the outcome, then (after an OK outcome) the messages, then ends it.
 */
export interface ReceiveSink {
  writeStatus(result: Outcome): void;
  /** False when the client's window is full: wait for drained() before writing more. */
  writeMessage(message: MessageView): boolean;
  /** True once the stream can take more; false when the call ended first. */
  drained(): Promise<boolean>;
  /** The client cancelled or the call broke. */
  isClosed(): boolean;
  /** The receive is over; `answeredAt` is when (epoch ms). */
  end(answeredAt: number): void;
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

  /**
   * Serves one receive to the end (never throws; every outcome goes to the sink). The request is
   * checked in this order, which clients see when several things are wrong: the long-polling time
   * against the deadline, topic, group, invisible time, filter, batch size, then the group's
   * existence when the client sent no settings for it.
   */
  async receive(request: ReceiveRequest, context: RequestContext, sink: ReceiveSink): Promise<void> {
    // The deadline is wall-clock time, whatever clock the service runs on.
    const timeRemainingMs = timeRemaining(context);
    try {
      await this.#receive(request, context, timeRemainingMs, sink);
    } catch (error) {
      const failure = outcomeOf(error);
      if (error instanceof ProxyError) {
        // Why a receive returned nothing, for the user who looks (validation and not-found answers).
        this.#deps.logger.debug(
          { clientId: context.clientId, reason: failure.reason, message: failure.message },
          'ReceiveMessage answered without messages',
        );
      } else {
        this.#deps.logger.warn({ err: error, reason: failure.reason }, 'ReceiveMessage failed');
      }
      if (!sink.isClosed()) sink.writeStatus(failure);
    }
    if (!sink.isClosed()) sink.end(this.#clock());
  }

  async #receive(
    request: ReceiveRequest,
    context: RequestContext,
    timeRemainingMs: number,
    sink: ReceiveSink,
  ): Promise<void> {
    const plan = await this.#plan(request, context.clientId, timeRemainingMs);
    const target = await this.#selectBroker(plan.topic, request.brokerName);
    if (plan.autoRenew && plan.session === undefined) {
      throw new ProxyError('MessageNotFound', `The client [${context.clientId}] is disconnected.`);
    }
    // Backpressure: pop nothing while the client still has unread responses queued.
    if (!(await sink.drained())) return;

    const result = await this.#pop(plan, target);
    if (result.status === 'POLLING_FULL') {
      this.#writeStatus(sink, outcome('TooManyRequests', 'polling full'));
      return;
    }
    if (result.status !== 'FOUND' || result.messages.length === 0) {
      this.#writeStatus(sink, outcome('MessageNotFound', 'no new message'));
      return;
    }
    const kept = await this.#screen(plan, result.messages);
    if (kept.length === 0) {
      this.#writeStatus(sink, outcome('MessageNotFound', 'no match message'));
      return;
    }
    if (plan.autoRenew && this.#deps.registry.get(context.clientId) === undefined) {
      await this.#release(plan, kept);
      this.#writeStatus(
        sink,
        outcome('MessageNotFound', `The client [${context.clientId}] is disconnected.`),
      );
      return;
    }
    return this.#deliver(plan, context.clientId, kept, sink);
  }

  async #plan(request: ReceiveRequest, clientId: string, timeRemainingMs: number): Promise<ReceivePlan> {
    const session = this.#deps.registry.get(clientId);
    const settings = session?.settings;
    const pollTime = longPollingTime({
      requestedMs: request.longPollingMs,
      clientRequestTimeoutMs: settings?.requestTimeoutMs,
      timeRemainingMs,
      minMs: this.#deps.polling.minMs,
      maxMs: this.#deps.polling.maxMs,
    });
    const topic = validateTopic(request.topic);
    const group = validateConsumerGroup(request.group);
    const autoRenew = request.autoRenew;
    const invisibleTime = autoRenew ? AUTO_RENEW_INVISIBLE_MS : receiveInvisibleTime(request.invisibleMs);
    const filter = parseFilter(request.filter);
    const batchSize = popBatchSize(request.batchSize);

    let fifo: boolean;
    let maxAttempts: number;
    if (session !== undefined && session.consumerGroup === group && settings !== undefined) {
      fifo = settings.fifo;
      maxAttempts = settings.retryPolicy.maxAttempts;
    } else {
      // No settings from this client (yet): the group's own config decides, and it must exist.
      const config = await this.#deps.metadata.groupConfig(group);
      if (config === undefined) {
        throw new ProxyError(
          'ConsumerGroupNotFound',
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
      attemptId: request.attemptId,
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
    if (brokers.length === 0) throw new ProxyError('Forbidden', 'no readable queue');
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
        throw new ProxyError(
          'IllegalFilterExpression',
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
  ): Promise<void> {
    if (!this.#writeStatus(sink, OK)) return this.#release(plan, messages);
    for (let index = 0; index < messages.length; index++) {
      const message = messages[index]!;
      const handle = receiptHandleOf(message);
      const now = this.#clock();
      const writable = sink.writeMessage(messageView(message, now, handle));
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
        return this.#release(plan, messages.slice(index + 1));
      }
      if (sink.isClosed() && index < messages.length - 1) {
        return this.#release(plan, messages.slice(index + 1));
      }
    }
  }

  /** Writes the outcome unless the call ended; true when the call is still open after it. */
  #writeStatus(sink: ReceiveSink, result: Outcome): boolean {
    if (sink.isClosed()) return false;
    sink.writeStatus(result);
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
