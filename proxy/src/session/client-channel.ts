/**
 * The server-to-client half of a client's connection, as the core sees it: the transaction service
 * asks a producer to resolve a half message through it. Each ingress implements it (gRPC: the
 * client's Telemetry stream).
 */
import type { MessageView } from '../core/message-view.ts';

/** A broker asks the producers of a group whether a half message commits or rolls back. */
export interface TransactionCheck {
  readonly message: MessageView;
  /** The id EndTransaction names (any proxy can end it). */
  readonly transactionId: string;
}

export interface ClientChannel {
  /** False once the connection has ended, failed or been cancelled. */
  isOpen(): boolean;
  /** Delivers the check; false (and the channel closes) when the connection can no longer take it. */
  checkTransaction(check: TransactionCheck): boolean;
}
