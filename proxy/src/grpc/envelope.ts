/**
 * The common envelope of unary RPCs: read the request metadata into the core's RequestContext,
 * require a client id, run the handler, and answer every failure inside the response's `status` with
 * gRPC OK, as the Java proxy does. Unexpected errors are logged; the client gets
 * INTERNAL_SERVER_ERROR with the text.
 */
import type { handleUnaryCall, ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { RequestContext } from '../core/context.ts';
import { ProxyError } from '../core/errors.ts';
import { parseRequestMetadata, type RequestMetadata, requireClientId } from './metadata.ts';
import type { apache } from './protocol.ts';
import { codeName, type Status, statusFromError } from './status.ts';

/** The core's context of a gRPC call, with what only the gRPC layer reads. */
export interface CallContext extends RequestContext {
  readonly metadata: RequestMetadata;
  /** The `:authority` the client dialled (host[:port]). */
  readonly authority: string | undefined;
}

type WithStatus = { status?: apache.rocketmq.v2.Status.$Properties | null };
type CallInfo = Pick<ServerUnaryCall<unknown, unknown>, 'metadata' | 'getHost' | 'getPeer' | 'getDeadline'>;

/** Epoch ms of a call's deadline; Infinity without one. */
export function deadlineOf(call: Pick<CallInfo, 'getDeadline'>): number {
  const deadline = call.getDeadline();
  const at = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  return Number.isFinite(at) ? at : Number.POSITIVE_INFINITY;
}

export function callContext(call: CallInfo): CallContext {
  const metadata = parseRequestMetadata(call.metadata);
  let authority: string | undefined;
  try {
    authority = call.getHost();
  } catch {
    authority = undefined;
  }
  return {
    protocol: 'grpc',
    clientId: requireClientId(metadata),
    remoteAddress: call.getPeer(),
    language: metadata.remotingLanguage,
    clientVersion: metadata.clientVersion,
    namespace: metadata.namespace,
    deadline: deadlineOf(call),
    traceContext: metadata.traceParent,
    metadata,
    authority,
  };
}

export function unary<Req, Res extends WithStatus>(
  method: string,
  logger: Logger,
  handle: (request: Req, context: CallContext) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const run = async (): Promise<Res> => handle(call.request, callContext(call));
    run().then(
      (response) => callback(null, response),
      (error: unknown) => {
        const status: Status = statusFromError(error);
        if (error instanceof ProxyError) {
          // A request the proxy refused: visible at debug, with who sent it and why.
          logger.debug(
            {
              method,
              clientId: parseRequestMetadata(call.metadata).clientId,
              code: codeName(status.code),
              message: status.message,
            },
            'request refused',
          );
        } else {
          logger.warn({ err: error, method, code: status.code }, 'RPC failed');
        }
        callback(null, { status } as Res);
      },
    );
  };
}
