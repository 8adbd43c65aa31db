/**
 * The common envelope of unary RPCs (proxy-grpc.md §6.1): read the request metadata, require a client
 * id, run the handler, and answer every failure inside the response's `status` with gRPC OK, as the
 * Java proxy does. Unexpected errors are logged; the client gets INTERNAL_SERVER_ERROR with the text.
 */
import type { handleUnaryCall, ServerUnaryCall } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { parseRequestMetadata, type RequestMetadata, requireClientId } from './metadata.ts';
import type { apache } from './protocol.ts';
import { ProxyStatusError, type Status, statusFromError } from './status.ts';

export interface CallContext {
  readonly metadata: RequestMetadata;
  readonly clientId: string;
  /** The `:authority` the client dialled (host[:port]). */
  readonly authority: string | undefined;
  /** The client's `ip:port`. */
  readonly peer: string;
}

type WithStatus = { status?: apache.rocketmq.v2.Status.$Properties | null };

export function callContext(
  call: Pick<ServerUnaryCall<unknown, unknown>, 'metadata' | 'getHost' | 'getPeer'>,
): CallContext {
  const metadata = parseRequestMetadata(call.metadata);
  let authority: string | undefined;
  try {
    authority = call.getHost();
  } catch {
    authority = undefined;
  }
  return { metadata, clientId: requireClientId(metadata), authority, peer: call.getPeer() };
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
        if (!(error instanceof ProxyStatusError)) {
          logger.warn({ err: error, method, code: status.code }, 'RPC failed');
        }
        callback(null, { status } as Res);
      },
    );
  };
}
