/**
 * INGRESS STAGE ONLY — not the finished proxy. Until the RPC handlers land (issue 3), every
 * MessagingService method answers grpc UNIMPLEMENTED with a message saying so, so a client that
 * reaches this build learns why instead of timing out.
 */
import { Metadata, type ServerErrorResponse, status } from '@grpc/grpc-js';
import { METHOD_NAMES, type MessagingHandlers, type MethodName, methodKind } from './service-definition.ts';

export function placeholderMessage(method: MethodName): string {
  return `rocketmq-proxy ingress stage: ${method} is not implemented yet (the gRPC port, TLS, metadata and admin endpoints work; the RPC handlers are still being built)`;
}

function unimplemented(method: MethodName): ServerErrorResponse {
  return Object.assign(new Error(placeholderMessage(method)), {
    code: status.UNIMPLEMENTED,
    details: placeholderMessage(method),
    metadata: new Metadata(),
  });
}

interface ErrorEmitter {
  emit(event: 'error', error: ServerErrorResponse): boolean;
}
type UnaryCallback = (error: ServerErrorResponse) => void;

export function placeholderHandlers(): MessagingHandlers {
  const handlers: Record<string, unknown> = {};
  for (const method of METHOD_NAMES) {
    handlers[method] =
      methodKind(method) === 'unary'
        ? (_call: unknown, callback: UnaryCallback) => callback(unimplemented(method))
        : (call: ErrorEmitter) => call.emit('error', unimplemented(method));
  }
  return handlers as MessagingHandlers;
}
