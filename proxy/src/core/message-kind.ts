/**
 * The message kind the Java proxy derives from a message's stored properties — not from the type the
 * client declared — and the topic-type check of a send built on it.
 */
import { acceptsMessageKind, type MessageKind, type TopicType } from '../cluster/message-type.ts';
import { MessageProperty } from '../remoting/message/properties.ts';
import { ProxyError } from './errors.ts';

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
 * MessageTypeConflict unless the topic accepts the message's kind. A topic whose type
 * is unknown (UNSPECIFIED: missing, or its config unreadable) accepts nothing, as in Java; `reason`
 * says why the type is unknown.
 */
export function checkMessageKind(topicType: TopicType, kind: MessageKind, reason?: string): void {
  if (acceptsMessageKind(topicType, kind)) return;
  const detail = reason === undefined ? '' : ` (${reason})`;
  throw new ProxyError(
    'MessageTypeConflict',
    `TopicMessageType validate failed, the expected type is ${topicType}, but actual type is ${kind}${detail}`,
  );
}
