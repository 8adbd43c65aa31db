/**
 * `apache.rocketmq.v2.Status` values and the mapping of the core's outcomes to v2 Codes. Responses
 * travel with gRPC status OK; the real outcome is this Status inside the response message, as the
 * Java proxy answers.
 */
import { type Outcome, outcomeOf, type Reason, reasonOfResponseCode } from '../core/errors.ts';
import { type apache, v2 } from './protocol.ts';

export const Code = v2.Code;
export type Code = apache.rocketmq.v2.Code;

/** The plain Status shape written into responses. */
export interface Status {
  readonly code: Code;
  readonly message: string;
}

const codeNames = new Map<number, string>(
  Object.entries(v2.Code)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .map(([name, value]) => [value, name]),
);

/** `40017` → `CLIENT_ID_REQUIRED`; unknown numbers → `CODE_<n>`. */
export function codeName(code: number): string {
  return codeNames.get(code) ?? `CODE_${code}`;
}

/** A Status; without a message the code's name is used, as the Java proxy does. */
export function status(code: Code, message?: string): Status {
  return { code, message: message === undefined || message === '' ? codeName(code) : message };
}

export const OK_STATUS: Status = Object.freeze({ code: Code.OK, message: 'OK' });

const CODE_OF_REASON: Readonly<Record<Reason | 'Ok', Code>> = {
  Ok: Code.OK,
  BadRequest: Code.BAD_REQUEST,
  ClientIdRequired: Code.CLIENT_ID_REQUIRED,
  UnrecognizedClientType: Code.UNRECOGNIZED_CLIENT_TYPE,
  Unauthorized: Code.UNAUTHORIZED,
  Forbidden: Code.FORBIDDEN,
  IllegalTopic: Code.ILLEGAL_TOPIC,
  IllegalConsumerGroup: Code.ILLEGAL_CONSUMER_GROUP,
  IllegalMessageTag: Code.ILLEGAL_MESSAGE_TAG,
  IllegalMessageKey: Code.ILLEGAL_MESSAGE_KEY,
  IllegalMessageGroup: Code.ILLEGAL_MESSAGE_GROUP,
  IllegalMessagePropertyKey: Code.ILLEGAL_MESSAGE_PROPERTY_KEY,
  IllegalMessageId: Code.ILLEGAL_MESSAGE_ID,
  IllegalDeliveryTime: Code.ILLEGAL_DELIVERY_TIME,
  IllegalFilterExpression: Code.ILLEGAL_FILTER_EXPRESSION,
  IllegalInvisibleTime: Code.ILLEGAL_INVISIBLE_TIME,
  IllegalPollingTime: Code.ILLEGAL_POLLING_TIME,
  IllegalOffset: Code.ILLEGAL_OFFSET,
  InvalidTransactionId: Code.INVALID_TRANSACTION_ID,
  InvalidReceiptHandle: Code.INVALID_RECEIPT_HANDLE,
  MessageCorrupted: Code.MESSAGE_CORRUPTED,
  MessageBodyEmpty: Code.MESSAGE_BODY_EMPTY,
  MessageBodyTooLarge: Code.MESSAGE_BODY_TOO_LARGE,
  MessagePropertiesTooLarge: Code.MESSAGE_PROPERTIES_TOO_LARGE,
  MessageTypeConflict: Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
  TopicNotFound: Code.TOPIC_NOT_FOUND,
  ConsumerGroupNotFound: Code.CONSUMER_GROUP_NOT_FOUND,
  MessageNotFound: Code.MESSAGE_NOT_FOUND,
  OffsetNotFound: Code.OFFSET_NOT_FOUND,
  TooManyRequests: Code.TOO_MANY_REQUESTS,
  NotImplemented: Code.NOT_IMPLEMENTED,
  BrokerTimeout: Code.PROXY_TIMEOUT,
  MasterPersistenceTimeout: Code.MASTER_PERSISTENCE_TIMEOUT,
  SlavePersistenceTimeout: Code.SLAVE_PERSISTENCE_TIMEOUT,
  HaNotAvailable: Code.HA_NOT_AVAILABLE,
  MultipleResults: Code.MULTIPLE_RESULTS,
  Internal: Code.INTERNAL_SERVER_ERROR,
};

export function codeOf(reason: Reason | 'Ok'): Code {
  return CODE_OF_REASON[reason];
}

/** The Status of a core outcome (OK outcomes included); an empty message becomes the code's name. */
export function statusOf(result: Outcome): Status {
  return result.reason === 'Ok' && result.message === 'OK'
    ? OK_STATUS
    : status(CODE_OF_REASON[result.reason], result.message);
}

/** Remoting response code → v2 Code; every code not listed is INTERNAL_SERVER_ERROR. */
export function codeForResponseCode(responseCode: number): Code {
  return CODE_OF_REASON[reasonOfResponseCode(responseCode)];
}

/** The Status for any failure (see `outcomeOf` for the order, which is the Java proxy's). */
export function statusFromError(error: unknown): Status {
  return statusOf(outcomeOf(error));
}
