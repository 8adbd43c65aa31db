/**
 * A topic's message type (its `message.type` attribute) and which client message types it accepts.
 * UNSPECIFIED means "unknown" (the topic is missing or its config could not be read), as in Java.
 */
export type TopicType = 'UNSPECIFIED' | 'NORMAL' | 'FIFO' | 'DELAY' | 'TRANSACTION' | 'MIXED';
export type MessageKind = 'UNSPECIFIED' | 'NORMAL' | 'FIFO' | 'DELAY' | 'TRANSACTION';

const KNOWN: ReadonlySet<string> = new Set([
  'UNSPECIFIED',
  'NORMAL',
  'FIFO',
  'DELAY',
  'TRANSACTION',
  'MIXED',
]);

/** The attribute value as a type; an absent attribute means NORMAL, anything unknown UNSPECIFIED. */
export function topicTypeFromAttribute(value: string | undefined): TopicType {
  if (value === undefined || value === '') return 'NORMAL';
  const upper = value.toUpperCase();
  return KNOWN.has(upper) ? (upper as TopicType) : 'UNSPECIFIED';
}

export function acceptedMessageKinds(type: TopicType): MessageKind[] {
  switch (type) {
    case 'NORMAL':
    case 'FIFO':
    case 'DELAY':
    case 'TRANSACTION':
      return [type];
    case 'MIXED':
      return ['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION'];
    default:
      return ['UNSPECIFIED'];
  }
}

/** Whether a message of `kind` may be sent to a topic of `type` (SendMessage's type check). */
export function acceptsMessageKind(type: TopicType, kind: MessageKind): boolean {
  if (kind === 'UNSPECIFIED') return false;
  return type === 'MIXED' || type === kind;
}
