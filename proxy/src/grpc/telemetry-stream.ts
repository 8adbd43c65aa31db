/** A Telemetry call seen as the session domain's TelemetryChannel. */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import type { OutboundTelemetryCommand, TelemetryChannel } from '../session/telemetry-channel.ts';
import type { apache } from './protocol.ts';

export type TelemetryCall = ServerDuplexStream<apache.rocketmq.v2.TelemetryCommand, OutboundTelemetryCommand>;

export class StreamTelemetryChannel implements TelemetryChannel {
  readonly #call: TelemetryCall;
  #open = true;

  constructor(call: TelemetryCall) {
    this.#call = call;
  }

  isOpen(): boolean {
    return this.#open && !this.#call.cancelled && this.#call.writable;
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
