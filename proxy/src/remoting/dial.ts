/**
 * The client side of a Remoting connection's transport: a TCP connect to `host:port` with a
 * deadline and an abort signal. It hands over a connected socket and nothing else, so that
 * `RemotingConnection` runs the protocol the same way over a socket it dialed and over one a
 * server accepted.
 */
import { Socket, type SocketConstructorOpts } from 'node:net';
import { RemotingError } from './errors.ts';

export interface DialOptions {
  /** TCP connect timeout, DNS included (default 3 s). */
  connectTimeoutMs?: number | undefined;
  /**
   * The socket's writable high-water mark (default 1 MiB): the connection's write bound, which
   * only a socket's constructor can set.
   */
  maxWriteBufferBytes?: number | undefined;
  /** Aborting it while connecting fails the connect with RMQ_ABORTED. */
  signal?: AbortSignal | undefined;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 3000;
const DEFAULT_WRITE_BUFFER_BYTES = 1024 * 1024;

/** Splits `host:port`, `[v6]:port` or `v6:port` (the last colon separates the port). */
export function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':');
  const port = Number(address.slice(colon + 1));
  let host = address.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  if (colon <= 0 || host === '' || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new RemotingError('RMQ_CONNECT_FAILED', `invalid address "${address}": expected host:port`);
  }
  return { host, port };
}

/**
 * Connects to `address` and resolves with `onConnected(socket)`. It runs inside the socket's
 * 'connect' event, before our listeners come off, so the new owner's 'error' listener is in place
 * before anything else can be emitted (the first read may fail and emit on the next tick).
 * Rejects with RMQ_CONNECT_FAILED (retriable unless the address is malformed) or RMQ_ABORTED.
 */
export function dial<T>(
  address: string,
  options: DialOptions,
  onConnected: (socket: Socket) => T,
): Promise<T> {
  let target: { host: string; port: number };
  try {
    target = parseAddress(address);
  } catch (error) {
    return Promise.reject(error);
  }
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortedError(signal, address));

  // net.Socket hands its options to stream.Duplex, which @types/node does not declare.
  const socketOptions: SocketConstructorOpts & { writableHighWaterMark: number } = {
    writableHighWaterMark: options.maxWriteBufferBytes ?? DEFAULT_WRITE_BUFFER_BYTES,
  };
  const socket = new Socket(socketOptions);
  const { promise, resolve, reject } = Promise.withResolvers<T>();
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;

  let settled = false;
  const settle = (error: RemotingError | undefined): void => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    if (error === undefined) {
      try {
        resolve(onConnected(socket));
      } catch (cause) {
        socket.destroy();
        reject(cause);
      }
    } else {
      // A lookup already under way may still report an error on the dead socket; nobody needs it.
      socket.on('error', () => {});
      socket.destroy();
      reject(error);
    }
    socket.off('connect', onConnect);
    socket.off('error', onError);
    socket.off('close', onClose);
  };
  const onConnect = (): void => settle(undefined);
  const onError = (error: Error): void => settle(connectFailed(address, `failed: ${error.message}`, error));
  const onClose = (): void => settle(connectFailed(address, 'failed: socket closed'));
  const onAbort = (): void => settle(abortedError(signal!, address));
  const timer = setTimeout(
    () => settle(connectFailed(address, `timed out after ${connectTimeoutMs} ms`)),
    connectTimeoutMs,
  );

  socket.once('connect', onConnect);
  socket.once('error', onError);
  socket.once('close', onClose);
  signal?.addEventListener('abort', onAbort, { once: true });
  socket.connect({ host: target.host, port: target.port });
  return promise;
}

function connectFailed(address: string, what: string, cause?: unknown): RemotingError {
  return new RemotingError('RMQ_CONNECT_FAILED', `connect to ${address} ${what}`, { retriable: true, cause });
}

function abortedError(signal: AbortSignal, address: string): RemotingError {
  return new RemotingError('RMQ_ABORTED', `connect to ${address} aborted`, { cause: signal.reason });
}
