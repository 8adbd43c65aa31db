/**
 * One Remoting TCP connection to a NameServer or Broker: pipelined requests correlated by
 * `opaque`, bounded writes coalesced per event-loop turn, server-initiated request dispatch,
 * idle keepalive and graceful close. Nothing here retries or reconnects: that is the pool's job.
 */
import { Socket, type SocketConstructorOpts } from 'node:net';
import { ResponseCode } from './codes.ts';
import {
  CLIENT_LANGUAGE,
  CLIENT_VERSION,
  FLAG_ONEWAY,
  FLAG_RESPONSE,
  isOneway,
  isResponse,
  type RemotingCommand,
  type RequestSpec,
} from './command.ts';
import { RemotingError } from './errors.ts';
import { decodeFrame, encodeFrame, FrameReader, MAX_FRAME_BYTES } from './frame.ts';

/** The subset of a pino logger this layer uses; a pino instance fits as is. */
export interface RemotingLogger {
  debug(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

const noop = (): void => {};
export const silentLogger: RemotingLogger = { debug: noop, warn: noop, error: noop };

export type ConnectionState = 'connecting' | 'open' | 'closing' | 'closed';

/** What a handler of a peer-initiated request answers; the connection adds opaque and flags. */
export interface ReplySpec {
  /** A response code (`ResponseCode`). */
  code: number;
  remark?: string | undefined;
  extFields?: Record<string, string> | undefined;
  body?: Buffer | undefined;
}

/**
 * Handles a request the peer sent us (e.g. CHECK_TRANSACTION_STATE). Returning `undefined` for a
 * non-oneway request sends no response, as a Java processor returning null does.
 */
export type RequestHandler = (
  command: RemotingCommand,
  connection: RemotingConnection,
) => ReplySpec | undefined | Promise<ReplySpec | undefined>;

export interface KeepAliveOptions {
  /** Send `request()` after this long without any read or write. */
  intervalMs: number;
  request: () => RequestSpec;
  /** Timeout of the keepalive request (default: the connection's requestTimeoutMs). */
  timeoutMs?: number | undefined;
}

export interface ConnectionOptions {
  /** TCP connect timeout, DNS included (default 3 s). */
  connectTimeoutMs?: number | undefined;
  /** Default per-request timeout (default 3 s). */
  requestTimeoutMs?: number | undefined;
  /** Requests pending at once; beyond it `request()` fails fast with RMQ_TOO_MANY_IN_FLIGHT (default 4096). */
  maxInFlight?: number | undefined;
  /**
   * Bytes the socket may buffer before further frames wait in the request queue (the socket's
   * writable high-water mark; default 1 MiB). At most one frame more can be buffered.
   */
  maxWriteBufferBytes?: number | undefined;
  /** Largest frame accepted from the peer, length field included (default 16 MiB). */
  maxFrameBytes?: number | undefined;
  /** How long `close()` waits for in-flight requests before destroying (default 3 s). */
  closeTimeoutMs?: number | undefined;
  /** Idle time before the first TCP keepalive probe (default 30 s). */
  tcpKeepAliveDelayMs?: number | undefined;
  /** Application-level keepalive; off unless given. */
  keepAlive?: KeepAliveOptions | undefined;
  logger?: RemotingLogger | undefined;
  /** First opaque to assign (default 0); exists so tests can exercise the int32 wrap. */
  firstOpaque?: number | undefined;
}

export interface ConnectOptions extends ConnectionOptions {
  /** Aborting it while connecting fails the connect with RMQ_ABORTED. */
  signal?: AbortSignal | undefined;
}

export interface RequestOptions {
  /** Overrides the connection's requestTimeoutMs; a non-finite value means no timeout. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

const DEFAULT_TIMEOUT_MS = 3000;
const DEFAULT_MAX_IN_FLIGHT = 4096;
const DEFAULT_WRITE_BUFFER_BYTES = 1024 * 1024;
const DEFAULT_TCP_KEEPALIVE_MS = 30_000;
const MAX_REMARK_CHARS = 512;

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

/** A request awaiting its response (or, for oneway, its write). */
class Pending {
  readonly opaque: number;
  readonly command: RemotingCommand;
  readonly oneway: boolean;
  readonly resolve: (response: RemotingCommand) => void;
  readonly reject: (error: Error) => void;
  timer: NodeJS.Timeout | undefined = undefined;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  /** Handed to the socket; before that it sits in the write queue and can still be dropped. */
  written = false;

  constructor(
    command: RemotingCommand,
    resolve: (response: RemotingCommand) => void,
    reject: (error: Error) => void,
  ) {
    this.opaque = command.opaque;
    this.command = command;
    this.oneway = isOneway(command);
    this.resolve = resolve;
    this.reject = reject;
  }

  release(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onAbort !== undefined) this.signal?.removeEventListener('abort', this.onAbort);
  }
}

/** A queued frame: a request (with its Pending) or our reply to a peer's request. */
type Outbound = Pending | RemotingCommand;

export class RemotingConnection {
  readonly address: string;
  /** Resolves (never rejects) once closed: with the error that closed it, or undefined if closed cleanly. */
  readonly closed: Promise<RemotingError | undefined>;

  readonly #socket: Socket;
  readonly #reader: FrameReader;
  readonly #logger: RemotingLogger;
  readonly #requestTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #maxInFlight: number;
  readonly #tcpKeepAliveDelayMs: number;
  readonly #keepAlive: KeepAliveOptions | undefined;
  readonly #handlers = new Map<number, RequestHandler>();
  readonly #pending = new Map<number, Pending>();
  /** FIFO of frames not yet handed to the socket (Set: O(1) removal of timed-out requests). */
  readonly #queue = new Set<Outbound>();
  #resolveClosed!: (error: RemotingError | undefined) => void;
  #connecting: PromiseWithResolvers<void> | undefined;
  #state: ConnectionState = 'connecting';
  #nextOpaque: number;
  #flushScheduled = false;
  #ended = false;
  #lastActivity = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #closeTimer: NodeJS.Timeout | undefined;
  #keepAliveTimer: NodeJS.Timeout | undefined;

  /** Connects to `host:port`; rejects with RMQ_CONNECT_FAILED (retriable) or RMQ_ABORTED. */
  static async connect(address: string, options: ConnectOptions = {}): Promise<RemotingConnection> {
    const connection = new RemotingConnection(address, options);
    await connection.#open(parseAddress(address), options.signal);
    return connection;
  }

  private constructor(address: string, options: ConnectionOptions) {
    this.address = address;
    this.#logger = options.logger ?? silentLogger;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    this.#tcpKeepAliveDelayMs = options.tcpKeepAliveDelayMs ?? DEFAULT_TCP_KEEPALIVE_MS;
    this.#keepAlive = options.keepAlive;
    this.#nextOpaque = options.firstOpaque ?? 0;
    this.#reader = new FrameReader(options.maxFrameBytes ?? MAX_FRAME_BYTES);
    // Our write bound is the socket's own high-water mark, so write() returning false and 'drain'
    // mean exactly "over the bound" and "room again".
    // net.Socket hands its options to stream.Duplex, which @types/node does not declare.
    const socketOptions: SocketConstructorOpts & { writableHighWaterMark: number } = {
      writableHighWaterMark: options.maxWriteBufferBytes ?? DEFAULT_WRITE_BUFFER_BYTES,
    };
    this.#socket = new Socket(socketOptions);
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Requests awaiting a response or (oneway) their write. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Frames waiting for room in the socket's write buffer. */
  get queuedFrames(): number {
    return this.#queue.size;
  }

  /** Bytes the socket holds but the kernel has not taken yet; ≤ maxWriteBufferBytes + one frame. */
  get queuedBytes(): number {
    return this.#socket.writableLength;
  }

  /** Milliseconds since the last byte was read or written. */
  get idleMs(): number {
    return performance.now() - this.#lastActivity;
  }

  /** Registers the handler for peer-initiated requests with this code (replacing any earlier one). */
  onRequest(code: number, handler: RequestHandler): void {
    this.#handlers.set(code, handler);
  }

  /**
   * Sends a request and resolves with its response, whatever the response code (see
   * `expectSuccess`). Rejects with RMQ_TIMEOUT, RMQ_ABORTED, RMQ_CONNECTION_CLOSED,
   * RMQ_TOO_MANY_IN_FLIGHT or RMQ_FRAME_TOO_LARGE.
   */
  request(spec: RequestSpec, options: RequestOptions = {}): Promise<RemotingCommand> {
    return this.#send(spec, 0, options);
  }

  /** Sends a oneway request; resolves once the socket has flushed it (no response exists). */
  async oneway(spec: RequestSpec, options: RequestOptions = {}): Promise<void> {
    await this.#send(spec, FLAG_ONEWAY, options);
  }

  /**
   * Stops accepting requests, waits up to `timeoutMs` for in-flight ones, then closes.
   * Requests still pending at the deadline fail with RMQ_CONNECTION_CLOSED.
   */
  async close(timeoutMs: number = this.#closeTimeoutMs): Promise<void> {
    if (this.#state === 'connecting') {
      this.destroy();
    } else if (this.#state === 'open') {
      this.#state = 'closing';
      this.#clearKeepAlive();
      this.#closeTimer = setTimeout(() => {
        this.#terminate(this.#closedError(`close deadline of ${timeoutMs} ms passed`), 'warn');
      }, timeoutMs);
      this.#maybeEnd();
    }
    await this.closed;
  }

  /** Closes at once; pending requests fail with `error` (default RMQ_CONNECTION_CLOSED). */
  destroy(error?: RemotingError): void {
    this.#terminate(error ?? this.#closedError('connection destroyed locally'), 'debug', error === undefined);
  }

  // ---- connecting --------------------------------------------------------------------------

  #open(target: { host: string; port: number }, signal: AbortSignal | undefined): Promise<void> {
    const socket = this.#socket;
    this.#connecting = Promise.withResolvers<void>();
    socket.on('connect', this.#onConnect);
    socket.on('data', this.#onData);
    socket.on('drain', this.#flush);
    socket.on('error', this.#onError);
    // A FIN means no response will ever come, so 'end' finishes us as 'close' does.
    socket.on('end', this.#onClose);
    socket.on('close', this.#onClose);
    if (signal?.aborted) {
      this.#terminate(abortedError(signal, `connect to ${this.address}`), 'debug');
      return this.#connecting.promise;
    }
    if (signal !== undefined) {
      const onAbort = (): void =>
        this.#terminate(abortedError(signal, `connect to ${this.address}`), 'debug');
      signal.addEventListener('abort', onAbort, { once: true });
      void this.#connecting.promise.then(
        () => signal.removeEventListener('abort', onAbort),
        () => signal.removeEventListener('abort', onAbort),
      );
    }
    this.#timer = setTimeout(() => {
      this.#terminate(
        new RemotingError(
          'RMQ_CONNECT_FAILED',
          `connect to ${this.address} timed out after ${this.#connectTimeoutMs} ms`,
          {
            retriable: true,
          },
        ),
        'debug',
      );
    }, this.#connectTimeoutMs);
    socket.connect({ host: target.host, port: target.port });
    return this.#connecting.promise;
  }

  #onConnect = (): void => {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#state !== 'connecting') return;
    this.#state = 'open';
    this.#socket.setNoDelay(true);
    // Kernel probes catch a dead peer even when no keepalive request is configured.
    this.#socket.setKeepAlive(true, this.#tcpKeepAliveDelayMs);
    this.#lastActivity = performance.now();
    if (this.#keepAlive !== undefined) this.#armKeepAlive(this.#keepAlive.intervalMs);
    this.#connecting?.resolve();
    this.#connecting = undefined;
    this.#scheduleFlush();
  };

  // ---- sending -----------------------------------------------------------------------------

  #send(spec: RequestSpec, flag: number, options: RequestOptions): Promise<RemotingCommand> {
    if (this.#state === 'closing' || this.#state === 'closed') {
      return Promise.reject(this.#closedError(`connection is ${this.#state}`));
    }
    if (this.#pending.size >= this.#maxInFlight) {
      return Promise.reject(
        new RemotingError(
          'RMQ_TOO_MANY_IN_FLIGHT',
          `${this.#pending.size} requests already in flight to ${this.address} (max ${this.#maxInFlight})`,
          { retriable: true },
        ),
      );
    }
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortedError(signal, `request ${spec.code}`));

    const command: RemotingCommand = {
      code: spec.code,
      language: CLIENT_LANGUAGE,
      version: CLIENT_VERSION,
      opaque: this.#allocateOpaque(),
      flag,
      extFields: spec.extFields,
      body: spec.body,
    };
    const { promise, resolve, reject } = Promise.withResolvers<RemotingCommand>();
    const pending = new Pending(command, resolve, reject);
    this.#pending.set(pending.opaque, pending);
    const timeoutMs = options.timeoutMs ?? this.#requestTimeoutMs;
    if (Number.isFinite(timeoutMs))
      pending.timer = setTimeout(this.#onTimeout, timeoutMs, pending, timeoutMs);
    if (signal !== undefined) {
      pending.signal = signal;
      pending.onAbort = () => this.#fail(pending, abortedError(signal, `request ${command.code}`));
      signal.addEventListener('abort', pending.onAbort, { once: true });
    }
    this.#enqueue(pending);
    return promise;
  }

  /** Next int32 opaque, wrapping, skipping any still pending (only possible after a full wrap). */
  #allocateOpaque(): number {
    let opaque = this.#nextOpaque;
    while (this.#pending.has(opaque)) opaque = (opaque + 1) | 0;
    this.#nextOpaque = (opaque + 1) | 0;
    return opaque;
  }

  #enqueue(item: Outbound): void {
    this.#queue.add(item);
    this.#scheduleFlush();
  }

  /**
   * Flushing in setImmediate turns every frame queued during this event-loop turn into one corked
   * writev. A microtask is not enough: each gRPC call arrives in its own native callback, which
   * drains microtasks on return, so a proxy under load paid one write syscall per request (a fifth
   * of its CPU on loopback). setImmediate runs right after the poll phase, so an idle connection
   * still writes at once.
   */
  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(this.#flush);
  }

  #flush = (): void => {
    this.#flushScheduled = false;
    const socket = this.#socket;
    const writable = this.#state === 'open' || this.#state === 'closing';
    // While the socket is over its high-water mark, frames stay queued until 'drain' calls us again.
    if (!writable || this.#ended || this.#queue.size === 0 || socket.writableNeedDrain) return;
    socket.cork();
    try {
      for (const item of this.#queue) {
        this.#queue.delete(item);
        const frame = this.#encode(item);
        if (frame === undefined) continue;
        let callback: ((error?: Error | null) => void) | undefined;
        if (item instanceof Pending) {
          item.written = true;
          if (item.oneway) callback = (error) => this.#onOnewayWritten(item, error);
        }
        if (!socket.write(frame, callback)) break;
      }
    } finally {
      socket.uncork();
    }
    this.#lastActivity = performance.now();
    this.#maybeEnd();
  };

  #encode(item: Outbound): Buffer | undefined {
    const command = item instanceof Pending ? item.command : item;
    try {
      return encodeFrame(command, 'JSON');
    } catch (error) {
      const cause = asRemotingError(error, 'RMQ_BAD_FRAME');
      if (item instanceof Pending) {
        this.#fail(item, cause);
      } else {
        this.#logger.error({ address: this.address, code: cause.code, err: cause }, 'cannot encode reply');
      }
      return undefined;
    }
  }

  #onOnewayWritten(pending: Pending, error: Error | null | undefined): void {
    if (this.#pending.get(pending.opaque) !== pending) return;
    if (error) this.#fail(pending, this.#closedError('oneway write failed', error));
    else this.#complete(pending, pending.command);
  }

  // ---- settling ----------------------------------------------------------------------------

  #complete(pending: Pending, response: RemotingCommand): void {
    this.#pending.delete(pending.opaque);
    // Only a confused peer answers an unsent request, but then it must not be sent afterwards.
    if (!pending.written) this.#queue.delete(pending);
    pending.release();
    pending.resolve(response);
    this.#maybeEnd();
  }

  #fail(pending: Pending, error: Error): void {
    if (this.#pending.get(pending.opaque) !== pending) return;
    this.#pending.delete(pending.opaque);
    this.#queue.delete(pending);
    pending.release();
    pending.reject(error);
    this.#maybeEnd();
  }

  #onTimeout = (pending: Pending, timeoutMs: number): void => {
    const where = pending.written ? 'sent' : 'still queued behind a full write buffer';
    this.#fail(
      pending,
      new RemotingError(
        'RMQ_TIMEOUT',
        `request ${pending.command.code} (opaque ${pending.opaque}) to ${this.address} timed out after ${timeoutMs} ms (${where})`,
        { retriable: true },
      ),
    );
  };

  // ---- receiving ---------------------------------------------------------------------------

  #onData = (chunk: Buffer): void => {
    this.#lastActivity = performance.now();
    let frames: Buffer[];
    try {
      frames = this.#reader.push(chunk);
    } catch (error) {
      this.#onProtocolError(error);
      return;
    }
    for (const frame of frames) {
      let command: RemotingCommand;
      try {
        command = decodeFrame(frame);
      } catch (error) {
        this.#onProtocolError(error);
        return;
      }
      if (isResponse(command)) this.#onResponse(command);
      else this.#onPeerRequest(command);
      // A handler or a resolved caller may have closed us synchronously.
      if (this.#state === 'closed') return;
    }
  };

  #onResponse(response: RemotingCommand): void {
    const pending = this.#pending.get(response.opaque);
    if (pending === undefined || pending.oneway) {
      this.#logger.debug(
        { address: this.address, opaque: response.opaque, responseCode: response.code },
        'dropped a response no request is waiting for (late after a timeout or abort)',
      );
      return;
    }
    this.#complete(pending, response);
    if (response.code === ResponseCode.GO_AWAY && this.#state === 'open') {
      // The server is shutting down: finish what is in flight here, new requests go to a new connection.
      this.#logger.warn({ address: this.address }, 'peer answered GO_AWAY; draining the connection');
      void this.close();
    }
  }

  #onPeerRequest(command: RemotingCommand): void {
    const handler = this.#handlers.get(command.code);
    if (handler !== undefined) {
      void this.#runHandler(handler, command);
    } else if (isOneway(command)) {
      this.#logger.debug(
        { address: this.address, requestCode: command.code },
        'ignored oneway request: no handler',
      );
    } else {
      this.#reply(command, {
        code: ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
        remark: ` request type ${command.code} not supported`,
      });
    }
  }

  /** Never rejects: a failing handler becomes a SYSTEM_ERROR reply and a log line. */
  async #runHandler(handler: RequestHandler, command: RemotingCommand): Promise<void> {
    let reply: ReplySpec | undefined;
    try {
      reply = await handler(command, this);
    } catch (error) {
      this.#logger.error(
        { address: this.address, requestCode: command.code, opaque: command.opaque, err: error },
        'handler for a peer request failed',
      );
      reply = { code: ResponseCode.SYSTEM_ERROR, remark: describe(error) };
    }
    // The peer expects nothing for oneway requests, not even errors.
    if (reply !== undefined && !isOneway(command)) this.#reply(command, reply);
  }

  #reply(request: RemotingCommand, reply: ReplySpec): void {
    if (this.#state !== 'open' && this.#state !== 'closing') {
      this.#logger.debug(
        { address: this.address, opaque: request.opaque },
        'dropped a reply: connection closed',
      );
      return;
    }
    this.#enqueue({
      code: reply.code,
      language: CLIENT_LANGUAGE,
      version: CLIENT_VERSION,
      opaque: request.opaque,
      flag: FLAG_RESPONSE,
      remark: reply.remark,
      extFields: reply.extFields,
      body: reply.body,
    });
  }

  // ---- keepalive ---------------------------------------------------------------------------

  #armKeepAlive(delayMs: number): void {
    this.#keepAliveTimer = setTimeout(this.#onKeepAliveTimer, Math.max(1, delayMs));
    this.#keepAliveTimer.unref();
  }

  #clearKeepAlive(): void {
    clearTimeout(this.#keepAliveTimer);
    this.#keepAliveTimer = undefined;
  }

  /** One timer re-armed from the last activity, so busy connections cost no timer churn. */
  #onKeepAliveTimer = (): void => {
    this.#keepAliveTimer = undefined;
    const keepAlive = this.#keepAlive;
    if (keepAlive === undefined || this.#state !== 'open') return;
    const idle = this.idleMs;
    if (idle < keepAlive.intervalMs) {
      this.#armKeepAlive(keepAlive.intervalMs - idle);
      return;
    }
    let spec: RequestSpec;
    try {
      spec = keepAlive.request();
    } catch (error) {
      this.#logger.error({ address: this.address, err: error }, 'keepalive request builder failed');
      this.#armKeepAlive(keepAlive.intervalMs);
      return;
    }
    this.request(spec, { timeoutMs: keepAlive.timeoutMs }).then(
      (response) => {
        if (response.code !== ResponseCode.SUCCESS) {
          this.#logger.debug(
            { address: this.address, responseCode: response.code, remark: response.remark },
            'keepalive request answered with an error code',
          );
        }
        if (this.#state === 'open') this.#armKeepAlive(keepAlive.intervalMs);
      },
      (error: unknown) => {
        if (error instanceof RemotingError && error.code === 'RMQ_TIMEOUT') {
          // Only sent when idle, so silence here means a dead or half-open peer, not a busy one.
          this.#logger.warn(
            { address: this.address, err: error },
            'keepalive timed out; closing the connection',
          );
          this.destroy(this.#closedError('keepalive request timed out', error));
        } else if (this.#state === 'open') {
          this.#logger.debug({ address: this.address, err: error }, 'keepalive request failed');
          this.#armKeepAlive(keepAlive.intervalMs);
        }
      },
    );
  };

  // ---- closing -----------------------------------------------------------------------------

  /** Half-closes once a closing connection has nothing left to send or await. */
  #maybeEnd(): void {
    if (this.#state !== 'closing' || this.#ended || this.#pending.size > 0 || this.#queue.size > 0) return;
    this.#ended = true;
    // The peer answers our FIN by closing; the close deadline covers a peer that does not.
    this.#socket.end();
  }

  #onProtocolError(error: unknown): void {
    const cause = asRemotingError(error, 'RMQ_BAD_FRAME');
    this.#logger.error(
      { address: this.address, code: cause.code, err: cause },
      'protocol error from peer; closing the connection',
    );
    this.#terminate(
      new RemotingError(cause.code, `connection to ${this.address} failed: ${cause.message}`, { cause }),
      'none',
    );
  }

  #onError = (error: Error): void => {
    const cause =
      this.#state === 'connecting'
        ? new RemotingError('RMQ_CONNECT_FAILED', `connect to ${this.address} failed: ${error.message}`, {
            retriable: true,
            cause: error,
          })
        : this.#closedError(`socket error: ${error.message}`, error);
    this.#terminate(cause, this.#state === 'connecting' ? 'debug' : 'warn');
  };

  #onClose = (): void => {
    if (this.#state === 'connecting') {
      this.#terminate(
        new RemotingError('RMQ_CONNECT_FAILED', `connect to ${this.address} failed: socket closed`, {
          retriable: true,
        }),
        'debug',
      );
    } else {
      const clean = this.#ended && this.#pending.size === 0;
      this.#terminate(
        this.#closedError(this.#ended ? 'connection closed' : 'connection closed by peer'),
        'debug',
        clean,
      );
    }
  };

  /** The one place that ends a connection: idempotent, synchronous, fails everything pending. */
  #terminate(cause: RemotingError, log: 'none' | 'debug' | 'warn', clean = false): void {
    if (this.#state === 'closed') return;
    const wasConnecting = this.#state === 'connecting';
    this.#state = 'closed';
    clearTimeout(this.#timer);
    clearTimeout(this.#closeTimer);
    this.#clearKeepAlive();
    this.#socket.destroy();
    this.#queue.clear();
    if (log !== 'none' && !wasConnecting) {
      this.#logger[log](
        { address: this.address, code: cause.code, inFlight: this.#pending.size, err: cause },
        'connection closed',
      );
    }
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const entry of pending) {
      entry.release();
      entry.reject(cause);
    }
    if (wasConnecting) this.#connecting?.reject(cause);
    this.#connecting = undefined;
    this.#resolveClosed(clean ? undefined : cause);
  }

  #closedError(reason: string, cause?: unknown): RemotingError {
    return new RemotingError('RMQ_CONNECTION_CLOSED', `${this.address}: ${reason}`, {
      retriable: true,
      cause,
    });
  }
}

function abortedError(signal: AbortSignal, what: string): RemotingError {
  return new RemotingError('RMQ_ABORTED', `${what} aborted`, { cause: signal.reason });
}

function asRemotingError(error: unknown, code: 'RMQ_BAD_FRAME'): RemotingError {
  return error instanceof RemotingError ? error : new RemotingError(code, describe(error), { cause: error });
}

function describe(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > MAX_REMARK_CHARS ? `${text.slice(0, MAX_REMARK_CHARS)}…` : text;
}
