/**
 * Sending messages, end to end: validate and convert every message, check the message type against
 * the topic type, pick the queue (Java's consistent hash for a single FIFO message, round-robin
 * otherwise), send, and turn the broker's answer into one receipt per broker result. A non-FIFO,
 * non-transactional send that fails at the broker or on the wire is retried on another broker (when
 * there is one) up to the producer policy's attempts, so one sick broker does not fail the call.
 * Recalling a delay message is the producer's other operation (as in the Java proxy's producer
 * processor).
 */
import type { TopicType } from '../cluster/message-type.ts';
import type { MetadataService } from '../cluster/metadata-service.ts';
import type { AddressableQueue } from '../cluster/queue-views.ts';
import type { RouteService } from '../cluster/route-service.ts';
import type { RequestContext } from '../core/context.ts';
import { OK, type Outcome, outcome, ProxyError, type Reason } from '../core/errors.ts';
import { checkMessageKind, messageKindOf } from '../core/message-kind.ts';
import { validateTopic } from '../core/names.ts';
import { TRANSFER_FLAG } from '../core/reserved-keys.ts';
import { encodeTransactionId } from '../core/transaction-id.ts';
import { ResponseCode } from '../remoting/codes.ts';
import { RemotingError, RemotingResponseError } from '../remoting/errors.ts';
import { decodeOffsetMessageId } from '../remoting/message/message-id.ts';
import type { RemotingPool } from '../remoting/pool.ts';
import { parseSendResult, type SendResult, type SendStatus } from '../remoting/requests/send.ts';
import { convertMessage, type OutgoingMessage, type ProducerLimits } from './conversion.ts';
import type { MessageDraft } from './message-draft.ts';
import { type RecallInput, recallMessage } from './recall.ts';
import { buildSendRequest } from './remoting-send.ts';

/** What the broker answered for one send (a batch is one send). */
export interface SendReceipt {
  readonly outcome: Outcome;
  /** The stored message's id (a batch: the ids joined by commas); set when the outcome is Ok. */
  readonly messageId?: string | undefined;
  /** The id EndTransaction names for a half message; the broker's for others (often empty). */
  readonly transactionId?: string | undefined;
  /** Queue offset of the stored message. */
  readonly offset?: number | undefined;
  /** Delay messages: the handle RecallMessage takes. */
  readonly recallHandle?: string | undefined;
}

export interface SendOutcome {
  /** Over all entries: their common reason, MultipleResults, or Internal without any. */
  readonly outcome: Outcome;
  readonly entries: readonly SendReceipt[];
}

export interface ProducerRetryPolicy {
  readonly maxAttempts: number;
  readonly backoffInitialMs: number;
  readonly backoffMaxMs: number;
  readonly backoffMultiplier: number;
}

export interface PublisherLogger {
  warn(object: object, message: string): void;
}

export interface PublisherOptions {
  pool: Pick<RemotingPool, 'request'>;
  routes: Pick<RouteService, 'selectWriteQueue' | 'selectRetryQueue' | 'invalidate' | 'brokerAddress'>;
  metadata: Pick<MetadataService, 'topicType'>;
  limits: ProducerLimits;
  retry: ProducerRetryPolicy;
  /** Timeout of one broker send. */
  timeoutMs: number;
  logger: PublisherLogger;
  now?: (() => number) | undefined;
  sleep?: ((ms: number) => Promise<void>) | undefined;
}

/** Broker answers worth another attempt elsewhere (as the Java producer's retryResponseCodes). */
const RETRIABLE_RESPONSE_CODES: ReadonlySet<number> = new Set([
  ResponseCode.SYSTEM_ERROR,
  ResponseCode.SYSTEM_BUSY,
  ResponseCode.SERVICE_NOT_AVAILABLE,
  ResponseCode.NO_PERMISSION,
  ResponseCode.TOPIC_NOT_EXIST,
]);

const RETRIABLE_REMOTING_ERRORS: ReadonlySet<RemotingError['code']> = new Set([
  'RMQ_CONNECT_FAILED',
  'RMQ_CONNECTION_CLOSED',
  'RMQ_TIMEOUT',
  'RMQ_TOO_MANY_IN_FLIGHT',
]);

export function isRetriableSendError(error: unknown): boolean {
  if (error instanceof RemotingResponseError) return RETRIABLE_RESPONSE_CODES.has(error.responseCode);
  if (error instanceof RemotingError) return RETRIABLE_REMOTING_ERRORS.has(error.code);
  return false;
}

const DEGRADED_REASON: Readonly<Record<Exclude<SendStatus, 'SEND_OK'>, Reason>> = {
  FLUSH_DISK_TIMEOUT: 'MasterPersistenceTimeout',
  FLUSH_SLAVE_TIMEOUT: 'SlavePersistenceTimeout',
  SLAVE_NOT_AVAILABLE: 'HaNotAvailable',
};

/** One receipt per broker result (a batch yields one receipt with comma-joined ids, as in Java). */
function sendReceipt(result: SendResult, queue: AddressableQueue, transactional: boolean): SendReceipt {
  if (result.status !== 'SEND_OK') {
    return {
      outcome: outcome(DEGRADED_REASON[result.status], `send message failed, sendStatus=${result.status}`),
    };
  }
  let transactionId = result.transactionId ?? '';
  if (transactional) {
    transactionId = encodeTransactionId({
      brokerName: queue.brokerName,
      tranStateTableOffset: result.queueOffset,
      commitLogOffset: decodeOffsetMessageId(result.offsetMsgId).commitLogOffset,
      brokerTransactionId: result.transactionId || result.msgId,
    });
  }
  return {
    outcome: OK,
    messageId: result.msgId,
    transactionId,
    offset: result.queueOffset,
    recallHandle: result.recallHandle || undefined,
  };
}

/**
 * The outcome over all entries: their common reason (named by the ingress's code, without the
 * entries' texts), MultipleResults, or "send status is empty", as the Java proxy sums them up.
 */
export function overallOutcome(entries: readonly SendReceipt[]): Outcome {
  const first = entries[0];
  if (first === undefined) return outcome('Internal', 'send status is empty');
  const reason = first.outcome.reason;
  for (let i = 1; i < entries.length; i++) {
    if (entries[i]!.outcome.reason !== reason) return outcome('MultipleResults');
  }
  return reason === 'Ok' ? OK : outcome(reason);
}

export class Publisher {
  readonly #options: PublisherOptions;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(options: PublisherOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Validates and converts the messages (everything before any broker traffic). */
  convert(
    messages: readonly MessageDraft[],
    context: Pick<RequestContext, 'remoteAddress'>,
  ): OutgoingMessage[] {
    const first = messages[0];
    if (first === undefined) throw new ProxyError('MessageCorrupted', 'no message to send');
    const topic = validateTopic(first.topic);
    const namespace = first.namespace;
    const conversion = {
      limits: this.#options.limits,
      producerGroup: topic,
      remoteAddress: context.remoteAddress,
      now: this.#now(),
    };
    return messages.map((message) => {
      if (message.topic !== topic || message.namespace !== namespace) {
        throw new ProxyError('MessageCorrupted', 'topic in message is not same');
      }
      return convertMessage(message, conversion);
    });
  }

  /** Sends the messages of one topic (several: one batch). */
  async send(
    messages: readonly MessageDraft[],
    context: Pick<RequestContext, 'remoteAddress'>,
  ): Promise<SendOutcome> {
    const outgoing = this.convert(messages, context);
    const first = outgoing[0]!;
    await this.#checkType(first);
    const group = outgoing.length === 1 ? first.messageGroup : undefined;
    const entries = await this.#sendWithRetry(outgoing, group);
    return { outcome: overallOutcome(entries), entries };
  }

  /** Cancels a delay message before its delivery; resolves with its id. */
  recall(input: RecallInput): Promise<string> {
    return recallMessage(this.#options, input);
  }

  async #checkType(first: OutgoingMessage): Promise<void> {
    const topic = first.topic;
    if (first.properties.has(TRANSFER_FLAG) || topic.startsWith('%RETRY%') || topic.startsWith('%DLQ%'))
      return;
    let type: TopicType;
    let reason: string | undefined;
    try {
      type = await this.#options.metadata.topicType(topic);
      if (type === 'UNSPECIFIED') reason = `the type of topic ${topic} is unknown`;
    } catch (error) {
      // As Java: a topic whose config cannot be read has type UNSPECIFIED (a missing topic included).
      type = 'UNSPECIFIED';
      reason =
        error instanceof RemotingResponseError && error.responseCode === ResponseCode.TOPIC_NOT_EXIST
          ? `topic ${topic} does not exist`
          : `cannot read the config of topic ${topic}: ${error instanceof Error ? error.message : String(error)}`;
    }
    checkMessageKind(type, messageKindOf(first.properties), reason);
  }

  async #sendWithRetry(messages: OutgoingMessage[], group: string | undefined): Promise<SendReceipt[]> {
    const { routes, retry } = this.#options;
    const first = messages[0]!;
    const topic = first.topic;
    // FIFO keeps its queue; a half message is not re-sent (a lost answer would leave two half records).
    const maxAttempts = group !== undefined || first.transactional ? 1 : Math.max(1, retry.maxAttempts);
    let queue = await routes.selectWriteQueue(topic, group);
    for (let attempt = 1; ; attempt++) {
      if (queue === undefined) throw new ProxyError('Forbidden', 'no writable queue');
      try {
        return [await this.#sendOnce(messages, queue)];
      } catch (error) {
        if (attempt >= maxAttempts || !isRetriableSendError(error)) throw error;
        this.#options.logger.warn(
          { err: error, topic, brokerName: queue.brokerName, attempt, maxAttempts },
          'send failed; retrying on another queue',
        );
        if (error instanceof RemotingResponseError && error.responseCode === ResponseCode.TOPIC_NOT_EXIST) {
          routes.invalidate(topic);
        }
        const next = await routes.selectRetryQueue(topic, queue);
        // Only the same broker is left: give it a moment rather than hammering it.
        if (next !== undefined && next.brokerName === queue.brokerName)
          await this.#sleep(this.#backoff(attempt));
        queue = next;
      }
    }
  }

  #backoff(attempt: number): number {
    const { backoffInitialMs, backoffMaxMs, backoffMultiplier } = this.#options.retry;
    return Math.min(backoffMaxMs, backoffInitialMs * backoffMultiplier ** (attempt - 1));
  }

  async #sendOnce(messages: OutgoingMessage[], queue: AddressableQueue): Promise<SendReceipt> {
    const spec = buildSendRequest(messages, {
      queueId: queue.queueId,
      now: this.#now(),
      maxBodyBytes: this.#options.limits.maxBodyBytes,
    });
    const response = await this.#options.pool.request(queue.brokerAddr, spec, {
      timeoutMs: this.#options.timeoutMs,
    });
    const result = parseSendResult(response, spec);
    return sendReceipt(result, queue, messages[0]!.transactional);
  }
}
