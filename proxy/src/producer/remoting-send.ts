/**
 * Converted messages → the Remoting send request: one message is a SEND_MESSAGE_V2, several a
 * SEND_BATCH_MESSAGE; the producer group is the topic (as the Java proxy sends for gRPC producers).
 * Builder refusals (MessageValidationError) become the matching reason.
 */
import { ProxyError, type Reason } from '../core/errors.ts';
import { MessageSysFlag } from '../remoting/message/sysflag.ts';
import {
  MessageValidationError,
  type SendBatchRequestSpec,
  type SendRequestSpec,
  sendBatchRequest,
  sendMessageRequest,
} from '../remoting/requests/send.ts';
import type { OutgoingMessage } from './conversion.ts';

const RETRY_TOPIC_PREFIX = '%RETRY%';
/** V2 header key of sysFlag. */
const SYS_FLAG_KEY = 'f';

const REASON_OF_PROBLEM: Readonly<Record<MessageValidationError['problem'], Reason>> = {
  ILLEGAL_TOPIC: 'IllegalTopic',
  ILLEGAL_PRODUCER_GROUP: 'BadRequest',
  MESSAGE_BODY_EMPTY: 'MessageBodyEmpty',
  MESSAGE_BODY_TOO_LARGE: 'MessageBodyTooLarge',
  MESSAGE_PROPERTIES_TOO_LARGE: 'MessagePropertiesTooLarge',
  ILLEGAL_MESSAGE_PROPERTY: 'IllegalMessagePropertyKey',
  ILLEGAL_MESSAGE_TAG: 'IllegalMessageTag',
  ILLEGAL_MESSAGE_KEY: 'IllegalMessageKey',
  ILLEGAL_DELIVERY_TIME: 'IllegalDeliveryTime',
  ILLEGAL_ARGUMENT: 'BadRequest',
};

export interface SendTarget {
  queueId: number;
  /** Fallback born timestamp when the first message has none. */
  now: number;
  /** Body cap (≤ 0: none besides the Remoting frame). */
  maxBodyBytes: number;
}

export type BuiltSend = SendRequestSpec | SendBatchRequestSpec;

export function buildSendRequest(messages: readonly OutgoingMessage[], target: SendTarget): BuiltSend {
  const first = messages[0];
  if (first === undefined) throw new ProxyError('MessageCorrupted', 'no message to send');
  const topic = first.topic;
  const maxBodyBytes = target.maxBodyBytes > 0 ? target.maxBodyBytes : Number.MAX_SAFE_INTEGER;
  const bornTimestamp = first.bornTimestamp ?? target.now;
  try {
    let spec: BuiltSend;
    if (messages.length === 1) {
      const retryTopic = topic.startsWith(RETRY_TOPIC_PREFIX);
      spec = sendMessageRequest({
        producerGroup: topic,
        topic,
        body: first.body,
        properties: first.properties,
        uniqueId: first.messageId,
        queueId: target.queueId,
        transactional: first.transactional,
        bornTimestamp,
        maxBodyBytes,
        reconsumeTimes: retryTopic ? first.deliveryAttempt : undefined,
      });
    } else {
      // Brokers refuse prepared and delayed batches (MESSAGE_ILLEGAL); say so before the round trip.
      if (messages.some((message) => message.transactional)) {
        throw new ProxyError('BadRequest', 'transactional messages cannot be sent in a batch');
      }
      spec = sendBatchRequest({
        producerGroup: topic,
        topic,
        messages: messages.map((message) => ({
          body: message.body,
          properties: message.properties,
          uniqueId: message.messageId,
        })),
        queueId: target.queueId,
        bornTimestamp,
        maxBodyBytes,
      });
    }
    // A zlib body (see conversion.ts): only the flag tells readers; type bits 0 mean ZLIB.
    if (first.compressed && spec.extFields !== undefined) {
      const sysFlag = Number(spec.extFields[SYS_FLAG_KEY] ?? '0') | MessageSysFlag.COMPRESSED;
      spec.extFields[SYS_FLAG_KEY] = String(sysFlag);
    }
    return spec;
  } catch (error) {
    if (error instanceof MessageValidationError) {
      throw new ProxyError(REASON_OF_PROBLEM[error.problem], error.message, { cause: error });
    }
    throw error;
  }
}
