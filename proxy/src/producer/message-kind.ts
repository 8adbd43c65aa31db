/**
 * The message type the Java proxy derives from a message's stored properties (proxy-grpc.md §8.3
 * step 6, §12.2) — not from the `message_type` the client declared — and the topic-type check of
 * SendMessage built on it.
 */
import { acceptsMessageKind, type MessageKind, type TopicType } from '../cluster/message-type.ts';
import { Code, ProxyStatusError } from '../grpc/status.ts';
import { MessageProperty } from '../remoting/message/properties.ts';

const DELAY_KEYS = [
  MessageProperty.DELAY_TIME_LEVEL,
  MessageProperty.TIMER_DELIVER_MS,
  MessageProperty.TIMER_DELAY_SEC,
  MessageProperty.TIMER_DELAY_MS,
] as const;

/** TRAN_MSG=true → TRANSACTION; any delay/timer key → DELAY; a message group → FIFO; else NORMAL. */
export function messageKindOf(properties: ReadonlyMap<string, string>): Exclude<MessageKind, 'UNSPECIFIED'> {
  if (properties.get(MessageProperty.TRANSACTION_PREPARED) === 'true') return 'TRANSACTION';
  if (DELAY_KEYS.some((key) => properties.has(key))) return 'DELAY';
  if (properties.has(MessageProperty.SHARDING_KEY)) return 'FIFO';
  return 'NORMAL';
}

/**
 * MESSAGE_PROPERTY_CONFLICT_WITH_TYPE unless the topic accepts the message's kind. A topic whose type
 * is unknown (UNSPECIFIED: missing, or its config unreadable) accepts nothing, as in Java; `reason`
 * says why the type is unknown.
 */
export function checkMessageKind(topicType: TopicType, kind: MessageKind, reason?: string): void {
  if (acceptsMessageKind(topicType, kind)) return;
  const detail = reason === undefined ? '' : ` (${reason})`;
  throw new ProxyStatusError(
    Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
    `TopicMessageType validate failed, the expected type is ${topicType}, but actual type is ${kind}${detail}`,
  );
}
