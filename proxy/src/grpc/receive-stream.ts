/**
 * The server streams of consumption (ReceiveMessage, PullMessage) seen through what backpressure and
 * cancellation need, and a ReceiveMessage call as the core's ReceiveSink: the outcome becomes the
 * `status` response, each message a `message` response, and the end a `delivery_timestamp`
 * response before the stream closes, the order the official clients expect.
 */
import type { ServerWritableStream } from '@grpc/grpc-js';
import type { ReceiveSink } from '../consumer/receive.ts';
import type { Outcome } from '../core/errors.ts';
import type { MessageView } from '../core/message-view.ts';
import { grpcMessageOf, timestampOf } from './message-codec.ts';
import type { apache } from './protocol.ts';
import { statusOf } from './status.ts';

export type ReceiveResponse = apache.rocketmq.v2.ReceiveMessageResponse.$Properties;
type AnyStream = ServerWritableStream<unknown, unknown>;

/** When a server stream can take more and whether it still lives. */
export interface StreamFlow {
  /** True once the stream can take more; false when the call ended first. */
  drained(): Promise<boolean>;
  /** The client cancelled or the call broke. */
  isClosed(): boolean;
}

export function streamFlow(call: AnyStream): StreamFlow {
  let closed = false;
  const markClosed = (): void => {
    closed = true;
  };
  call.once('cancelled', markClosed);
  call.once('close', markClosed);
  call.once('error', markClosed);
  const isClosed = (): boolean => closed || call.cancelled || call.destroyed || !call.writable;
  return {
    isClosed,
    drained: () =>
      new Promise<boolean>((resolve) => {
        if (isClosed()) return resolve(false);
        if (!call.writableNeedDrain) return resolve(true);
        const done = (drained: boolean) => () => {
          call.off('drain', onDrain);
          call.off('cancelled', onClose);
          call.off('close', onClose);
          resolve(drained);
        };
        const onDrain = done(true);
        const onClose = done(false);
        call.once('drain', onDrain);
        call.once('cancelled', onClose);
        call.once('close', onClose);
      }),
  };
}

export function receiveSink(call: ServerWritableStream<unknown, ReceiveResponse>): ReceiveSink {
  const flow = streamFlow(call as AnyStream);
  return {
    drained: flow.drained,
    isClosed: flow.isClosed,
    writeStatus: (result: Outcome) => {
      call.write({ status: statusOf(result) });
    },
    writeMessage: (message: MessageView) => call.write({ message: grpcMessageOf(message) }),
    end: (answeredAt: number) => {
      call.write({ deliveryTimestamp: timestampOf(answeredAt) });
      call.end();
    },
  };
}
