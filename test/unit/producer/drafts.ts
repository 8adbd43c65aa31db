/** Message drafts for the producer's unit tests. */
import type { MessageDraft } from '../../../proxy/src/producer/message-draft.ts';

/** A draft with nothing set: what an ingress hands on for an empty message. */
export const EMPTY_DRAFT: MessageDraft = Object.freeze({
  topic: '',
  namespace: '',
  body: new Uint8Array(0),
  tag: '',
  keys: [],
  userProperties: {},
  messageId: '',
  type: 'UNSPECIFIED',
  bodyEncoding: 'IDENTITY',
  deliveryTime: undefined,
  messageGroup: '',
  traceContext: '',
  bornHost: '',
  bornTimestamp: undefined,
  transactionRecoverySeconds: undefined,
  deliveryAttempt: 0,
});

/** A sendable draft to topic `t` with id `M1`, and `fields` on top. */
export function draft(fields: Partial<MessageDraft> = {}): MessageDraft {
  return { ...EMPTY_DRAFT, topic: 't', body: Buffer.from('x'), messageId: 'M1', ...fields };
}
