/**
 * The server-to-client half of a client's Telemetry stream, as other domains see it: the transaction
 * service delivers RecoverOrphanedTransactionCommand through it. The gRPC layer implements it.
 */
import type { apache } from '../grpc/protocol.ts';

export type OutboundTelemetryCommand = apache.rocketmq.v2.TelemetryCommand.$Properties;

export interface TelemetryChannel {
  /** False once the stream has ended, failed or been cancelled. */
  isOpen(): boolean;
  /** Writes a command; false (and the channel closes) when the stream can no longer take it. */
  send(command: OutboundTelemetryCommand): boolean;
}
