/**
 * The core's MessageView → `apache.rocketmq.v2.Message`, as clients receive it in ReceiveMessage,
 * PullMessage and RecoverOrphanedTransactionCommand. The body digest is MD5 in upper-case hex, as the
 * Java proxy writes it; a compressed body is announced as GZIP, as there.
 */
import { createHash } from 'node:crypto';
import type { MessageKind } from '../cluster/message-type.ts';
import type { MessageView } from '../core/message-view.ts';
import { type apache, v2 } from './protocol.ts';

export type GrpcMessage = apache.rocketmq.v2.Message.$Properties;
type Timestamp = { seconds: number; nanos: number };

const MESSAGE_TYPE: Readonly<Record<Exclude<MessageKind, 'UNSPECIFIED'>, apache.rocketmq.v2.MessageType>> = {
  NORMAL: v2.MessageType.NORMAL,
  FIFO: v2.MessageType.FIFO,
  DELAY: v2.MessageType.DELAY,
  TRANSACTION: v2.MessageType.TRANSACTION,
};

export function timestampOf(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}

export function grpcMessageOf(view: MessageView): GrpcMessage {
  return {
    topic: { resourceNamespace: view.namespace, name: view.topic },
    userProperties: view.userProperties as Record<string, string>,
    systemProperties: {
      ...(view.tag === undefined ? {} : { tag: view.tag }),
      keys: [...view.keys],
      messageId: view.messageId,
      bodyDigest: {
        type: v2.DigestType.MD5,
        checksum: createHash('md5').update(view.body).digest('hex').toUpperCase(),
      },
      bodyEncoding: view.compressed ? v2.Encoding.GZIP : v2.Encoding.IDENTITY,
      messageType: MESSAGE_TYPE[view.kind],
      bornTimestamp: timestampOf(view.bornTimestamp),
      bornHost: view.bornHost,
      storeTimestamp: timestampOf(view.storeTimestamp),
      storeHost: view.storeHost,
      ...(view.deliveryTimestamp === undefined
        ? {}
        : { deliveryTimestamp: timestampOf(view.deliveryTimestamp) }),
      ...(view.messageGroup === undefined ? {} : { messageGroup: view.messageGroup }),
      queueId: view.queueId,
      queueOffset: view.queueOffset,
      deliveryAttempt: view.deliveryAttempt,
      ...(view.traceContext === undefined ? {} : { traceContext: view.traceContext }),
      ...(view.receiptHandle === undefined ? {} : { receiptHandle: view.receiptHandle }),
      ...(view.deadLetter === undefined
        ? {}
        : { deadLetterQueue: { topic: view.deadLetter.topic, messageId: view.deadLetter.messageId } }),
    },
    body: view.body,
  };
}
