/**
 * A Telemetry call seen as the core's ClientChannel: transaction checks become
 * RecoverOrphanedTransactionCommands. It remembers the last Settings reply so the settings nudge can
 * send it again.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { ClientChannel, TransactionCheck } from '../session/client-channel.ts';
import { grpcMessageOf } from './message-codec.ts';
import type { apache } from './protocol.ts';
import { OK_STATUS } from './status.ts';

export type OutboundTelemetryCommand = apache.rocketmq.v2.TelemetryCommand.$Properties;
export type TelemetryCall = ServerDuplexStream<apache.rocketmq.v2.TelemetryCommand, OutboundTelemetryCommand>;
type SettingsMessage = apache.rocketmq.v2.Settings.$Properties;

/** The writable half of a Telemetry call. */
export type TelemetryWriter = Pick<TelemetryCall, 'cancelled' | 'writable' | 'write'>;

export class StreamTelemetryChannel implements ClientChannel {
  readonly #call: TelemetryWriter;
  #open = true;
  #settings: SettingsMessage | undefined;

  constructor(call: TelemetryWriter) {
    this.#call = call;
  }

  isOpen(): boolean {
    return this.#open && !this.#call.cancelled && this.#call.writable;
  }

  checkTransaction(check: TransactionCheck): boolean {
    return this.send({
      recoverOrphanedTransactionCommand: {
        message: grpcMessageOf(check.message),
        transactionId: check.transactionId,
      },
    });
  }

  /** Answers settings the client sent, and keeps the reply for `resendSettings`. */
  sendSettings(settings: SettingsMessage): boolean {
    this.#settings = settings;
    return this.send({ status: OK_STATUS, settings });
  }

  /** Sends the last Settings reply again; false when there is none or the stream is gone. */
  resendSettings(): boolean {
    return this.#settings !== undefined && this.send({ status: OK_STATUS, settings: this.#settings });
  }

  send(command: OutboundTelemetryCommand): boolean {
    if (!this.isOpen()) return false;
    try {
      this.#call.write(command);
      return true;
    } catch {
      // A failed write means the stream is gone: stop offering it (as the Java proxy clears it).
      this.#open = false;
      return false;
    }
  }

  close(): void {
    this.#open = false;
  }
}
