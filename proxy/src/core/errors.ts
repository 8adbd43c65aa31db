/**
 * The core's failures, named by what went wrong rather than by any wire format: every ingress maps a
 * `Reason` to its own status (gRPC `apache.rocketmq.v2.Code`, a Remoting response code, an HTTP
 * status). Operations throw `ProxyError`; per-entry results (acks, sends) carry an `Outcome`.
 */
import { RemotingError, RemotingResponseError } from '../remoting/errors.ts';

export type Reason =
  | 'BadRequest'
  | 'ClientIdRequired'
  | 'UnrecognizedClientType'
  | 'Unauthorized'
  | 'Forbidden'
  | 'IllegalTopic'
  | 'IllegalConsumerGroup'
  | 'IllegalMessageTag'
  | 'IllegalMessageKey'
  | 'IllegalMessageGroup'
  | 'IllegalMessagePropertyKey'
  | 'IllegalMessageId'
  | 'IllegalDeliveryTime'
  | 'IllegalFilterExpression'
  | 'IllegalInvisibleTime'
  | 'IllegalPollingTime'
  | 'IllegalOffset'
  | 'InvalidTransactionId'
  | 'InvalidReceiptHandle'
  | 'MessageCorrupted'
  | 'MessageBodyEmpty'
  | 'MessageBodyTooLarge'
  | 'MessagePropertiesTooLarge'
  /** The message's kind is not one the topic's type accepts. */
  | 'MessageTypeConflict'
  | 'TopicNotFound'
  | 'ConsumerGroupNotFound'
  | 'MessageNotFound'
  | 'OffsetNotFound'
  | 'TooManyRequests'
  | 'NotImplemented'
  /** A broker did not answer in time. */
  | 'BrokerTimeout'
  | 'MasterPersistenceTimeout'
  | 'SlavePersistenceTimeout'
  | 'HaNotAvailable'
  /** Entries of one request ended differently (see their own outcomes). */
  | 'MultipleResults'
  | 'Internal';

/** The result of an operation or of one entry of it. An empty message lets the ingress use its own code name. */
export interface Outcome {
  readonly reason: Reason | 'Ok';
  readonly message: string;
}

export const OK: Outcome = Object.freeze({ reason: 'Ok', message: 'OK' });

export function outcome(reason: Reason | 'Ok', message = ''): Outcome {
  return { reason, message };
}

/** A request the core refuses, or a failure it has classified. */
export class ProxyError extends Error implements Outcome {
  override readonly name = 'ProxyError';
  readonly reason: Reason;

  constructor(reason: Reason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.reason = reason;
  }
}

/** Broker response codes the core names; every other refusal is Internal (as the Java proxy maps them). */
const RESPONSE_REASONS: ReadonlyMap<number, Reason | 'Ok'> = new Map<number, Reason | 'Ok'>([
  [0, 'Ok'], // SUCCESS
  [2, 'TooManyRequests'], // SYSTEM_BUSY
  [3, 'NotImplemented'], // REQUEST_CODE_NOT_SUPPORTED
  [17, 'TopicNotFound'], // TOPIC_NOT_EXIST
  [26, 'ConsumerGroupNotFound'], // SUBSCRIPTION_GROUP_NOT_EXIST
  [10002, 'BrokerTimeout'], // the Java client's ACCESS_BROKER_TIMEOUT
]);

export function reasonOfResponseCode(responseCode: number): Reason | 'Ok' {
  return RESPONSE_REASONS.get(responseCode) ?? 'Internal';
}

/**
 * Remoting failures that are not broker answers. Only timeouts are special (as in the Java proxy);
 * our in-flight cap is a local flow limit, so it is TooManyRequests like a full executor queue there.
 */
const TRANSPORT_REASONS: Readonly<Record<RemotingError['code'], Reason>> = {
  RMQ_RESPONSE: 'Internal', // replaced by the response code mapping
  RMQ_TIMEOUT: 'BrokerTimeout',
  RMQ_CONNECTION_CLOSED: 'Internal',
  RMQ_CONNECT_FAILED: 'Internal',
  RMQ_TOO_MANY_IN_FLIGHT: 'TooManyRequests',
  RMQ_FRAME_TOO_LARGE: 'Internal',
  RMQ_BAD_FRAME: 'Internal',
  RMQ_BAD_PAYLOAD: 'Internal',
  RMQ_ABORTED: 'Internal',
};

const TOPIC_NOT_EXIST = 17;

/**
 * The outcome of any failure, in the order of the Java proxy's `buildStatus(Throwable)`: the core's
 * own errors, "topic not exist" (also one level down the cause chain), broker responses, transport
 * failures, then Internal with the error's text.
 */
export function outcomeOf(error: unknown): Outcome {
  if (error instanceof ProxyError) return error;
  const topicNotExist = topicNotExistError(error);
  if (topicNotExist) return outcome('TopicNotFound', errorText(topicNotExist));
  if (error instanceof RemotingResponseError) {
    return outcome(reasonOfResponseCode(error.responseCode), error.remark ?? String(error.responseCode));
  }
  if (error instanceof RemotingError) return outcome(TRANSPORT_REASONS[error.code], error.message);
  return outcome('Internal', errorText(error));
}

function topicNotExistError(error: unknown): RemotingResponseError | undefined {
  for (const candidate of [error, error instanceof Error ? error.cause : undefined]) {
    if (candidate instanceof RemotingResponseError && candidate.responseCode === TOPIC_NOT_EXIST)
      return candidate;
  }
  return undefined;
}

function errorText(error: unknown): string {
  if (error instanceof RemotingResponseError) return error.remark ?? error.message;
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
