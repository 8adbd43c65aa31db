/**
 * A stored RocketMQ message → gRPC `Message` (proxy-grpc.md §12.2), as the client sees it in a
 * RecoverOrphanedTransactionCommand (and, later, in receives): system properties from the record and
 * its reserved properties, every other property as a user property.
 */
import { createHash } from 'node:crypto';
import type { apache } from '../grpc/protocol.ts';
import { v2 } from '../grpc/protocol.ts';
import { messageKindOf } from '../producer/message-kind.ts';
import { RESERVED_PROPERTY_KEYS, TRACE_CONTEXT } from '../producer/reserved-keys.ts';
import { KEY_SEPARATOR, MessageProperty } from '../remoting/message/properties.ts';
import type { StoredMessage } from '../remoting/message/stored-message.ts';
import { MessageSysFlag } from '../remoting/message/sysflag.ts';

type GrpcMessage = apache.rocketmq.v2.Message.$Properties;
type Timestamp = { seconds: number; nanos: number };

const MESSAGE_TYPE = {
  NORMAL: v2.MessageType.NORMAL,
  FIFO: v2.MessageType.FIFO,
  DELAY: v2.MessageType.DELAY,
  TRANSACTION: v2.MessageType.TRANSACTION,
} as const;

export function timestampOf(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}

/** `%NS%topic` → namespace and name; a plain topic has an empty namespace. */
export function splitNamespace(topic: string): { resourceNamespace: string; name: string } {
  const match = /^([^%]+)%(.+)$/.exec(topic);
  if (match === null || topic.startsWith('%RETRY%') || topic.startsWith('%DLQ%')) {
    return { resourceNamespace: '', name: topic };
  }
  return { resourceNamespace: match[1]!, name: match[2]! };
}

function deliveryTimestamp(properties: ReadonlyMap<string, string>, now: number): Timestamp | undefined {
  const delaySeconds = properties.get(MessageProperty.TIMER_DELAY_SEC);
  if (delaySeconds !== undefined && /^\d+$/.test(delaySeconds)) {
    return timestampOf(now + Number(delaySeconds) * 1000);
  }
  const deliverAt = properties.get(MessageProperty.TIMER_DELIVER_MS);
  if (deliverAt !== undefined && /^\d+$/.test(deliverAt)) return timestampOf(Number(deliverAt));
  return undefined;
}

export function grpcMessageOf(message: StoredMessage, now: number = Date.now()): GrpcMessage {
  const properties = message.properties;
  const userProperties: Record<string, string> = {};
  for (const [key, value] of properties) {
    if (!RESERVED_PROPERTY_KEYS.has(key)) userProperties[key] = value;
  }
  const keys = properties.get(MessageProperty.KEYS);
  const tag = properties.get(MessageProperty.TAGS);
  const group = properties.get(MessageProperty.SHARDING_KEY);
  const traceContext = properties.get(TRACE_CONTEXT);
  const delivery = deliveryTimestamp(properties, now);
  const compressed = (message.sysFlag & MessageSysFlag.COMPRESSED) !== 0;
  return {
    topic: splitNamespace(message.topic),
    userProperties,
    systemProperties: {
      ...(tag === undefined ? {} : { tag }),
      keys: keys === undefined ? [] : keys.split(KEY_SEPARATOR),
      messageId: properties.get(MessageProperty.UNIQ_KEY) ?? message.msgId,
      bodyDigest: {
        type: v2.DigestType.MD5,
        checksum: createHash('md5').update(message.body).digest('hex').toUpperCase(),
      },
      bodyEncoding: compressed ? v2.Encoding.GZIP : v2.Encoding.IDENTITY,
      messageType: MESSAGE_TYPE[messageKindOf(properties)],
      bornTimestamp: timestampOf(message.bornTimestamp),
      bornHost: properties.get(MessageProperty.BORN_HOST) ?? message.bornHost,
      storeTimestamp: timestampOf(message.storeTimestamp),
      storeHost: message.storeHost,
      ...(delivery === undefined ? {} : { deliveryTimestamp: delivery }),
      ...(group === undefined ? {} : { messageGroup: group }),
      queueId: message.queueId,
      queueOffset: message.queueOffset,
      deliveryAttempt: message.reconsumeTimes + 1,
      ...(traceContext === undefined ? {} : { traceContext }),
    },
    body: message.body,
  };
}
