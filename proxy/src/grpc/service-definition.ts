/**
 * The grpc-js service definition of apache.rocketmq.v2.MessagingService, built from the generated
 * protobufjs static code (which carries no method metadata, hence the table below). The same
 * definition serves the server and, in tests, `makeGenericClientConstructor` clients.
 */

import type * as grpc from '@grpc/grpc-js';
import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import { type apache, v2 } from './protocol.ts';

type pb = typeof apache.rocketmq.v2;

interface Codec<P> {
  encode(message: P): { finish(): Uint8Array };
  decode(bytes: Uint8Array): P;
}

type Kind = 'unary' | 'serverStream' | 'bidi';

function method<ReqP, ResP, K extends Kind>(
  name: string,
  kind: K,
  request: Codec<ReqP>,
  response: Codec<ResP>,
): MethodDefinition<ReqP, ResP> & { kind: K } {
  const toBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    kind,
    path: `/apache.rocketmq.v2.MessagingService/${name}`,
    originalName: name,
    requestStream: kind === 'bidi',
    responseStream: kind !== 'unary',
    requestSerialize: (message) => toBuffer(request.encode(message).finish()),
    requestDeserialize: (bytes) => request.decode(bytes),
    responseSerialize: (message) => toBuffer(response.encode(message).finish()),
    responseDeserialize: (bytes) => response.decode(bytes),
  };
}

/** Request type (as decoded) and response type (as written) of every RPC. */
export interface MessagingMethods {
  QueryRoute: [apache.rocketmq.v2.QueryRouteRequest, apache.rocketmq.v2.QueryRouteResponse.$Properties];
  Heartbeat: [apache.rocketmq.v2.HeartbeatRequest, apache.rocketmq.v2.HeartbeatResponse.$Properties];
  SendMessage: [apache.rocketmq.v2.SendMessageRequest, apache.rocketmq.v2.SendMessageResponse.$Properties];
  QueryAssignment: [
    apache.rocketmq.v2.QueryAssignmentRequest,
    apache.rocketmq.v2.QueryAssignmentResponse.$Properties,
  ];
  ReceiveMessage: [
    apache.rocketmq.v2.ReceiveMessageRequest,
    apache.rocketmq.v2.ReceiveMessageResponse.$Properties,
  ];
  AckMessage: [apache.rocketmq.v2.AckMessageRequest, apache.rocketmq.v2.AckMessageResponse.$Properties];
  ForwardMessageToDeadLetterQueue: [
    apache.rocketmq.v2.ForwardMessageToDeadLetterQueueRequest,
    apache.rocketmq.v2.ForwardMessageToDeadLetterQueueResponse.$Properties,
  ];
  PullMessage: [apache.rocketmq.v2.PullMessageRequest, apache.rocketmq.v2.PullMessageResponse.$Properties];
  UpdateOffset: [apache.rocketmq.v2.UpdateOffsetRequest, apache.rocketmq.v2.UpdateOffsetResponse.$Properties];
  GetOffset: [apache.rocketmq.v2.GetOffsetRequest, apache.rocketmq.v2.GetOffsetResponse.$Properties];
  QueryOffset: [apache.rocketmq.v2.QueryOffsetRequest, apache.rocketmq.v2.QueryOffsetResponse.$Properties];
  EndTransaction: [
    apache.rocketmq.v2.EndTransactionRequest,
    apache.rocketmq.v2.EndTransactionResponse.$Properties,
  ];
  Telemetry: [apache.rocketmq.v2.TelemetryCommand, apache.rocketmq.v2.TelemetryCommand.$Properties];
  NotifyClientTermination: [
    apache.rocketmq.v2.NotifyClientTerminationRequest,
    apache.rocketmq.v2.NotifyClientTerminationResponse.$Properties,
  ];
  ChangeInvisibleDuration: [
    apache.rocketmq.v2.ChangeInvisibleDurationRequest,
    apache.rocketmq.v2.ChangeInvisibleDurationResponse.$Properties,
  ];
  RecallMessage: [
    apache.rocketmq.v2.RecallMessageRequest,
    apache.rocketmq.v2.RecallMessageResponse.$Properties,
  ];
  SyncLiteSubscription: [
    apache.rocketmq.v2.SyncLiteSubscriptionRequest,
    apache.rocketmq.v2.SyncLiteSubscriptionResponse.$Properties,
  ];
}
export type MethodName = keyof MessagingMethods;

const m: pb = v2;
const definition = {
  QueryRoute: method('QueryRoute', 'unary', m.QueryRouteRequest, m.QueryRouteResponse),
  Heartbeat: method('Heartbeat', 'unary', m.HeartbeatRequest, m.HeartbeatResponse),
  SendMessage: method('SendMessage', 'unary', m.SendMessageRequest, m.SendMessageResponse),
  QueryAssignment: method('QueryAssignment', 'unary', m.QueryAssignmentRequest, m.QueryAssignmentResponse),
  ReceiveMessage: method('ReceiveMessage', 'serverStream', m.ReceiveMessageRequest, m.ReceiveMessageResponse),
  AckMessage: method('AckMessage', 'unary', m.AckMessageRequest, m.AckMessageResponse),
  ForwardMessageToDeadLetterQueue: method(
    'ForwardMessageToDeadLetterQueue',
    'unary',
    m.ForwardMessageToDeadLetterQueueRequest,
    m.ForwardMessageToDeadLetterQueueResponse,
  ),
  PullMessage: method('PullMessage', 'serverStream', m.PullMessageRequest, m.PullMessageResponse),
  UpdateOffset: method('UpdateOffset', 'unary', m.UpdateOffsetRequest, m.UpdateOffsetResponse),
  GetOffset: method('GetOffset', 'unary', m.GetOffsetRequest, m.GetOffsetResponse),
  QueryOffset: method('QueryOffset', 'unary', m.QueryOffsetRequest, m.QueryOffsetResponse),
  EndTransaction: method('EndTransaction', 'unary', m.EndTransactionRequest, m.EndTransactionResponse),
  Telemetry: method('Telemetry', 'bidi', m.TelemetryCommand, m.TelemetryCommand),
  NotifyClientTermination: method(
    'NotifyClientTermination',
    'unary',
    m.NotifyClientTerminationRequest,
    m.NotifyClientTerminationResponse,
  ),
  ChangeInvisibleDuration: method(
    'ChangeInvisibleDuration',
    'unary',
    m.ChangeInvisibleDurationRequest,
    m.ChangeInvisibleDurationResponse,
  ),
  RecallMessage: method('RecallMessage', 'unary', m.RecallMessageRequest, m.RecallMessageResponse),
  SyncLiteSubscription: method(
    'SyncLiteSubscription',
    'unary',
    m.SyncLiteSubscriptionRequest,
    m.SyncLiteSubscriptionResponse,
  ),
} satisfies Record<MethodName, { kind: Kind; path: string }>;

export const MESSAGING_SERVICE: ServiceDefinition & typeof definition = definition;

type Req<N extends MethodName> = MessagingMethods[N][0];
type Res<N extends MethodName> = MessagingMethods[N][1];

/** Handler signature of each RPC, as grpc-js calls it. */
export type MessagingHandlers = {
  [N in MethodName]: (typeof definition)[N]['kind'] extends 'unary'
    ? grpc.handleUnaryCall<Req<N>, Res<N>>
    : (typeof definition)[N]['kind'] extends 'serverStream'
      ? grpc.handleServerStreamingCall<Req<N>, Res<N>>
      : grpc.handleBidiStreamingCall<Req<N>, Res<N>>;
};
