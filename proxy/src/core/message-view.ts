/**
 * A stored RocketMQ message as a client sees it, whatever the ingress: system fields from the record
 * and its reserved properties, every other property a user property, the kind derived from the
 * properties (as the Java proxy does), and the receipt handle and dead-letter origin of deliveries.
 * Ingresses turn this into their wire message (gRPC `Message`, …).
 */
import type { MessageKind } from '../cluster/message-type.ts';
import { KEY_SEPARATOR, MessageProperty } from '../remoting/message/properties.ts';
import type { StoredMessage } from '../remoting/message/stored-message.ts';
import { MessageSysFlag } from '../remoting/message/sysflag.ts';
import { messageKindOf } from './message-kind.ts';
import { RESERVED_PROPERTY_KEYS, TRACE_CONTEXT } from './reserved-keys.ts';

export interface MessageView {
  readonly topic: string;
  /** The namespace part of `NS%topic`; empty for a plain topic. */
  readonly namespace: string;
  readonly body: Uint8Array;
  /** The body is zlib-compressed as stored (the COMPRESSED flag). */
  readonly compressed: boolean;
  readonly userProperties: Readonly<Record<string, string>>;
  readonly tag: string | undefined;
  readonly keys: readonly string[];
  readonly messageId: string;
  readonly kind: Exclude<MessageKind, 'UNSPECIFIED'>;
  readonly bornTimestamp: number;
  readonly bornHost: string;
  readonly storeTimestamp: number;
  readonly storeHost: string;
  /** Epoch ms of a delay message's delivery. */
  readonly deliveryTimestamp: number | undefined;
  readonly messageGroup: string | undefined;
  readonly queueId: number;
  readonly queueOffset: number;
  /** 1 for the first delivery. */
  readonly deliveryAttempt: number;
  readonly traceContext: string | undefined;
  /** Deliveries of a pop: the handle acks and invisible-time changes name. */
  readonly receiptHandle?: string | undefined;
  /** A message read from a DLQ: where it came from. */
  readonly deadLetter?: { readonly topic: string; readonly messageId: string } | undefined;
}

/** `NS%topic` → namespace and name; a plain topic, a retry or a DLQ topic has an empty namespace. */
export function splitNamespace(topic: string): { namespace: string; name: string } {
  const match = /^([^%]+)%(.+)$/.exec(topic);
  if (match === null || topic.startsWith('%RETRY%') || topic.startsWith('%DLQ%')) {
    return { namespace: '', name: topic };
  }
  return { namespace: match[1]!, name: match[2]! };
}

function deliveryTimestamp(properties: ReadonlyMap<string, string>, now: number): number | undefined {
  const delaySeconds = properties.get(MessageProperty.TIMER_DELAY_SEC);
  if (delaySeconds !== undefined && /^\d+$/.test(delaySeconds)) return now + Number(delaySeconds) * 1000;
  const deliverAt = properties.get(MessageProperty.TIMER_DELIVER_MS);
  if (deliverAt !== undefined && /^\d+$/.test(deliverAt)) return Number(deliverAt);
  return undefined;
}

/** The id the client knows a message by: UNIQ_KEY, else the offset message id. */
export function messageIdOf(message: StoredMessage): string {
  const unique = message.properties.get(MessageProperty.UNIQ_KEY);
  return unique === undefined || unique.trim() === '' ? message.msgId : unique;
}

/** The view of a stored message; `receiptHandle` for pops. */
export function messageView(message: StoredMessage, now: number, receiptHandle?: string): MessageView {
  const properties = message.properties;
  const userProperties: Record<string, string> = {};
  for (const [key, value] of properties) {
    if (!RESERVED_PROPERTY_KEYS.has(key)) userProperties[key] = value;
  }
  const keys = properties.get(MessageProperty.KEYS);
  const { namespace, name } = splitNamespace(message.topic);
  const originTopic = properties.get(MessageProperty.DLQ_ORIGIN_TOPIC);
  const originId = properties.get(MessageProperty.DLQ_ORIGIN_MESSAGE_ID);
  return {
    topic: name,
    namespace,
    body: message.body,
    compressed: (message.sysFlag & MessageSysFlag.COMPRESSED) !== 0,
    userProperties,
    tag: properties.get(MessageProperty.TAGS),
    keys: keys === undefined ? [] : keys.split(KEY_SEPARATOR),
    messageId: properties.get(MessageProperty.UNIQ_KEY) ?? message.msgId,
    kind: messageKindOf(properties),
    bornTimestamp: message.bornTimestamp,
    bornHost: properties.get(MessageProperty.BORN_HOST) ?? message.bornHost,
    storeTimestamp: message.storeTimestamp,
    storeHost: message.storeHost,
    deliveryTimestamp: deliveryTimestamp(properties, now),
    messageGroup: properties.get(MessageProperty.SHARDING_KEY),
    queueId: message.queueId,
    queueOffset: message.queueOffset,
    deliveryAttempt: message.reconsumeTimes + 1,
    traceContext: properties.get(TRACE_CONTEXT),
    receiptHandle,
    deadLetter:
      originTopic !== undefined && originId !== undefined
        ? { topic: originTopic, messageId: originId }
        : undefined,
  };
}
