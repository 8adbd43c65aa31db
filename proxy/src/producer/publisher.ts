/**
 * SendMessage end to end (proxy-grpc.md §8.3): validate and convert every message, check the message
 * type against the topic type, pick the queue (Java's consistent hash for a single FIFO message,
 * round-robin otherwise), send, and turn the broker's answer into SendResultEntries. A non-FIFO,
 * non-transactional send that fails at the broker or on the wire is retried on another broker (when
 * there is one) up to the producer policy's attempts, so one sick broker does not fail the call.
 */
import type { TopicType } from '../cluster/message-type.ts';
import type { MetadataService } from '../cluster/metadata-service.ts';
import type { AddressableQueue } from '../cluster/queue-views.ts';
import type { RouteService } from '../cluster/route-service.ts';
import type { apache } from '../grpc/protocol.ts';
import { Code, codeName, ProxyStatusError, type Status, status } from '../grpc/status.ts';
import { validateTopic } from '../grpc/validation.ts';
import { ResponseCode } from '../remoting/codes.ts';
import { RemotingError, RemotingResponseError } from '../remoting/errors.ts';
import { decodeOffsetMessageId } from '../remoting/message/message-id.ts';
import type { RemotingPool } from '../remoting/pool.ts';
import { parseSendResult, type SendResult, type SendStatus } from '../remoting/requests/send.ts';
import { encodeTransactionId } from '../transaction/transaction-id.ts';
import { convertMessage, type OutgoingMessage, type ProducerLimits } from './conversion.ts';
import { checkMessageKind, messageKindOf } from './message-kind.ts';
import { buildSendRequest } from './remoting-send.ts';
import { TRANSFER_FLAG } from './reserved-keys.ts';

type SendMessageRequest = apache.rocketmq.v2.ISendMessageRequest;
type SendMessageResponse = apache.rocketmq.v2.SendMessageResponse.$Properties;
type SendResultEntry = apache.rocketmq.v2.SendResultEntry.$Properties;

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
  routes: Pick<RouteService, 'selectWriteQueue' | 'selectRetryQueue' | 'invalidate'>;
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

const DEGRADED_CODE: Readonly<Record<Exclude<SendStatus, 'SEND_OK'>, Code>> = {
  FLUSH_DISK_TIMEOUT: Code.MASTER_PERSISTENCE_TIMEOUT,
  FLUSH_SLAVE_TIMEOUT: Code.SLAVE_PERSISTENCE_TIMEOUT,
  SLAVE_NOT_AVAILABLE: Code.HA_NOT_AVAILABLE,
};

/** One SendResultEntry per broker result (a batch yields one entry with comma-joined ids, as in Java). */
export function resultEntry(
  result: SendResult,
  queue: AddressableQueue,
  transactional: boolean,
): SendResultEntry {
  if (result.status !== 'SEND_OK') {
    return {
      status: status(DEGRADED_CODE[result.status], `send message failed, sendStatus=${result.status}`),
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
    status: status(Code.OK, 'OK'),
    messageId: result.msgId,
    transactionId,
    offset: result.queueOffset,
    ...(result.recallHandle ? { recallHandle: result.recallHandle } : {}),
  };
}

/** The response status over all entries: their common code, MULTIPLE_RESULTS, or "send status is empty". */
export function overallStatus(entries: readonly SendResultEntry[]): Status {
  const codes = new Set(entries.map((entry) => entry.status?.code ?? Code.OK));
  if (codes.size === 0) return status(Code.INTERNAL_SERVER_ERROR, 'send status is empty');
  if (codes.size > 1) return status(Code.MULTIPLE_RESULTS, codeName(Code.MULTIPLE_RESULTS));
  const [code] = codes as Set<Code> & Iterable<Code>;
  return status(code!, codeName(code!));
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

  /** Validates and converts the request's messages (everything before any broker traffic). */
  convert(request: SendMessageRequest, peer: string): OutgoingMessage[] {
    const messages = request.messages ?? [];
    const first = messages[0];
    if (first === undefined) throw new ProxyStatusError(Code.MESSAGE_CORRUPTED, 'no message to send');
    const topic = validateTopic(first.topic);
    const namespace = first.topic?.resourceNamespace ?? '';
    const context = { limits: this.#options.limits, producerGroup: topic, peer, now: this.#now() };
    return messages.map((message) => {
      if ((message.topic?.name ?? '') !== topic || (message.topic?.resourceNamespace ?? '') !== namespace) {
        throw new ProxyStatusError(Code.MESSAGE_CORRUPTED, 'topic in message is not same');
      }
      return convertMessage(message, context);
    });
  }

  async send(request: SendMessageRequest, peer: string): Promise<SendMessageResponse> {
    const messages = this.convert(request, peer);
    const first = messages[0]!;
    await this.#checkType(first);
    const group = messages.length === 1 ? first.messageGroup : undefined;
    const entries = await this.#sendWithRetry(messages, group);
    return { status: overallStatus(entries), entries };
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

  async #sendWithRetry(messages: OutgoingMessage[], group: string | undefined): Promise<SendResultEntry[]> {
    const { routes, retry } = this.#options;
    const first = messages[0]!;
    const topic = first.topic;
    // FIFO keeps its queue; a half message is not re-sent (a lost answer would leave two half records).
    const maxAttempts = group !== undefined || first.transactional ? 1 : Math.max(1, retry.maxAttempts);
    let queue = await routes.selectWriteQueue(topic, group);
    for (let attempt = 1; ; attempt++) {
      if (queue === undefined) throw new ProxyStatusError(Code.FORBIDDEN, 'no writable queue');
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

  async #sendOnce(messages: OutgoingMessage[], queue: AddressableQueue): Promise<SendResultEntry> {
    const spec = buildSendRequest(messages, {
      queueId: queue.queueId,
      now: this.#now(),
      maxBodyBytes: this.#options.limits.maxBodyBytes,
    });
    const response = await this.#options.pool.request(queue.brokerAddr, spec, {
      timeoutMs: this.#options.timeoutMs,
    });
    const result = parseSendResult(response, spec);
    return resultEntry(result, queue, messages[0]!.transactional);
  }
}
