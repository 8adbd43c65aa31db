/**
 * A lean unary gRPC client for the load generator, straight on node:http2: one POST stream per call
 * with the 5-byte length-prefixed message, the status from the trailers (or a trailers-only answer).
 * grpc-js's client spends ~2.5x the CPU per call (channel, picker, filter stack, retry bookkeeping);
 * on a 2-core machine shared with the proxy and the broker that CPU is taken from the system being
 * measured, so the publish benchmark uses this one by default (BENCH_CLIENT=grpc-js for the other).
 * Deadlines, compression and retries are not implemented: the benchmark needs none of them.
 */
import { type ClientHttp2Session, connect, type IncomingHttpHeaders } from 'node:http2';

export interface RawUnaryClient {
  /** Sends one request message; resolves with the response message bytes (gRPC status OK only). */
  call(path: string, message: Uint8Array): Promise<Buffer>;
  close(): void;
}

/** A call answered with a non-OK gRPC status (or broken at the HTTP/2 level). */
export class RawGrpcError extends Error {
  readonly kind: string;
  constructor(kind: string, message: string) {
    super(message);
    this.kind = kind;
  }
}

/**
 * `channels` HTTP/2 connections to `endpoint` (host:port, plaintext), used round-robin. `metadata` is
 * sent with every call (lower-case keys, as HTTP/2 requires).
 */
export function rawUnaryClient(
  endpoint: string,
  options: { channels?: number; metadata?: Readonly<Record<string, string>>; timeoutMs?: number } = {},
): RawUnaryClient {
  const sessions: ClientHttp2Session[] = [];
  const channels = Math.max(1, options.channels ?? 1);
  let next = 0;
  const session = (): ClientHttp2Session => {
    const index = next++ % channels;
    let current = sessions[index];
    if (current === undefined || current.closed || current.destroyed) {
      current = connect(`http://${endpoint}`);
      // Failed calls report the error; the session itself must not crash the process.
      current.on('error', () => {});
      sessions[index] = current;
    }
    return current;
  };
  const timeout = options.timeoutMs === undefined ? {} : { 'grpc-timeout': `${options.timeoutMs}m` };

  const call = (path: string, message: Uint8Array): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const frame = Buffer.allocUnsafe(5 + message.length);
      frame[0] = 0;
      frame.writeUInt32BE(message.length, 1);
      frame.set(message, 5);
      const stream = session().request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        ...timeout,
        ...options.metadata,
      });
      const chunks: Buffer[] = [];
      let status: IncomingHttpHeaders | undefined;
      stream.on('response', (headers) => {
        if (headers['grpc-status'] !== undefined) status = headers; // trailers-only answer
      });
      stream.on('trailers', (trailers) => {
        status = trailers;
      });
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (error) => reject(new RawGrpcError('http2', error.message)));
      stream.on('close', () => {
        const code = status?.['grpc-status'];
        if (code !== '0') {
          const detail = status?.['grpc-message'];
          reject(
            new RawGrpcError(
              code === undefined ? 'no grpc-status' : `grpc status ${code}`,
              typeof detail === 'string' ? decodeURIComponent(detail) : `stream closed (${stream.rstCode})`,
            ),
          );
          return;
        }
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        if (body.length < 5 || body[0] !== 0 || body.readUInt32BE(1) !== body.length - 5) {
          reject(new RawGrpcError('bad response frame', `${body.length} bytes`));
          return;
        }
        resolve(body.subarray(5));
      });
      stream.end(frame);
    });

  return {
    call,
    close() {
      for (const current of sessions) current?.close();
    },
  };
}
