/**
 * A message as a producer hands it to the proxy, before any validation, in RocketMQ's terms: what
 * every ingress decodes its wire message into and the publisher validates and stores. Empty strings
 * stand for "not set", as in the gRPC and Remoting wire formats.
 */
import type { Unrecognized } from '../core/unrecognized.ts';

/** The message type a producer declares (the proxy derives the stored kind from the properties). */
export type DeclaredMessageType =
  | 'UNSPECIFIED'
  | 'NORMAL'
  | 'FIFO'
  | 'DELAY'
  | 'TRANSACTION'
  | 'LITE'
  | 'PRIORITY';

/** How the body travels; an unspecified encoding is IDENTITY. */
export type BodyEncoding = 'IDENTITY' | 'GZIP';

export interface MessageDraft {
  readonly topic: string;
  /** The topic's namespace; empty without one. */
  readonly namespace: string;
  readonly body: Uint8Array;
  readonly tag: string;
  readonly keys: readonly string[];
  readonly userProperties: Readonly<Record<string, string>>;
  /** The producer's id of the message (stored as UNIQ_KEY). */
  readonly messageId: string;
  readonly type: DeclaredMessageType | Unrecognized;
  readonly bodyEncoding: BodyEncoding | Unrecognized;
  /** Epoch ms of a delay message's delivery; NaN when the producer gave a time that is not one. */
  readonly deliveryTime: number | undefined;
  readonly messageGroup: string;
  /** W3C trace context of the message. */
  readonly traceContext: string;
  /** `ip:port` of the producer as it says; blank: the connection's remote address. */
  readonly bornHost: string;
  /** Epoch ms the producer created the message; undefined when absent or not a valid time. */
  readonly bornTimestamp: number | undefined;
  /** Transaction messages: seconds before the broker first checks an orphaned half message. */
  readonly transactionRecoverySeconds: number | undefined;
  /** Deliveries so far (only read for messages sent to a %RETRY% topic). */
  readonly deliveryAttempt: number;
}
