/**
 * A popped or pulled message as the client receives it (proxy-grpc.md §12.2): the shared stored
 * message → gRPC conversion, plus the receipt handle and the dead-letter origin.
 */
import type { apache } from '../grpc/protocol.ts';
import { MessageProperty } from '../remoting/message/properties.ts';
import type { StoredMessage } from '../remoting/message/stored-message.ts';
import { grpcMessageOf } from '../transaction/message-view.ts';

export type GrpcMessage = apache.rocketmq.v2.Message.$Properties;

export function deliveredMessage(
  message: StoredMessage,
  receiptHandle: string | undefined,
  now: number,
): GrpcMessage {
  const converted = grpcMessageOf(message, now);
  const originTopic = message.properties.get(MessageProperty.DLQ_ORIGIN_TOPIC);
  const originId = message.properties.get(MessageProperty.DLQ_ORIGIN_MESSAGE_ID);
  return {
    ...converted,
    systemProperties: {
      ...converted.systemProperties,
      ...(receiptHandle === undefined ? {} : { receiptHandle }),
      ...(originTopic !== undefined && originId !== undefined
        ? { deadLetterQueue: { topic: originTopic, messageId: originId } }
        : {}),
    },
  };
}

/** The id the client knows a message by: UNIQ_KEY, else the offset message id. */
export function messageIdOf(message: StoredMessage): string {
  const unique = message.properties.get(MessageProperty.UNIQ_KEY);
  return unique === undefined || unique.trim() === '' ? message.msgId : unique;
}
