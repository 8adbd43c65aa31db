/**
 * The Remoting protocol over one connected socket, at either end: pipelined requests correlated by
 * `opaque`, bounded writes coalesced per event-loop turn, the peer's requests dispatched to
 * handlers, idle keepalive and graceful close. The socket is the transport and comes from outside:
 * `connect` dials one (dial.ts), `adopt` takes one a `net.Server` accepted, so a Remoting server
 * runs the same code as the client. Nothing here retries or reconnects: that is the pool's job.
 */
import type { Socket } from 'node:net';
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
import { type DialOptions, dial } from './dial.ts';
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

export { parseAddress } from './dial.ts';

/** A connection exists only once its socket is connected, so it starts 'open'. */
export type ConnectionState = 'open' | 'closing' | 'closed';

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

/** Options of the protocol, whichever end the socket came from. */
export interface ProtocolOptions {
  /** Default per-request timeout (default 3 s). */
  requestTimeoutMs?: number | undefined;
  /** Requests pending at once; beyond it `request()` fails fast with RMQ_TOO_MANY_IN_FLIGHT (default 4096). */
  maxInFlight?: number | undefined;
  /**
   * Peer requests served at once (handler running or reply not yet handed to the socket). At the
   * limit the connection stops reading until one finishes, so a peer that floods requests or does
   * not read its replies is held back by TCP instead of growing our memory. Default: 4096 on
   * adopted connections; unbounded on dialed ones, where a broker's few requests must never hold
   * back the responses read behind them.
   */
  maxPeerRequestsInFlight?: number | undefined;
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

/** Options of a connection we dial: the protocol's and the transport's (connect timeout, write bound). */
export interface ConnectionOptions extends ProtocolOptions, Omit<DialOptions, 'signal'> {}

/** `signal`: aborting it while connecting fails the connect with RMQ_ABORTED. */
export interface ConnectOptions extends ConnectionOptions, Pick<DialOptions, 'signal'> {}

export interface RequestOptions {
  /** Overrides the connection's requestTimeoutMs; a non-finite value means no timeout. */
  timeoutMs?: number | undefined;
  signal?: AbortSignal | undefined;
}

const DEFAULT_TIMEOUT_MS = 3000;
const DEFAULT_MAX_IN_FLIGHT = 4096;
const DEFAULT_TCP_KEEPALIVE_MS = 30_000;
const MAX_REMARK_CHARS = 512;

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
  /** The peer's `host:port`: the address dialed, or the accepted socket's remote end. */
  readonly address: string;
  /** Resolves (never rejects) once closed: with the error that closed it, or undefined if closed cleanly. */
  readonly closed: Promise<RemotingError | undefined>;

  readonly #socket: Socket;
  readonly #reader: FrameReader;
  readonly #logger: RemotingLogger;
  readonly #requestTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #maxInFlight: number;
  readonly #maxPeerRequests: number;
  readonly #keepAlive: KeepAliveOptions | undefined;
  readonly #handlers = new Map<number, RequestHandler>();
  readonly #pending = new Map<number, Pending>();
  /** FIFO of frames not yet handed to the socket (Set: O(1) removal of timed-out requests). */
  readonly #queue = new Set<Outbound>();
  #resolveClosed!: (error: RemotingError | undefined) => void;
  #state: ConnectionState = 'open';
  #nextOpaque: number;
  /** Peer requests whose handler runs or whose reply waits in #queue. */
  #peerRequests = 0;
  /** Reading is paused at the peer request limit; frames already read wait in #held from #heldAt. */
  #readPaused = false;
  #held: Buffer[] | undefined;
  #heldAt = 0;
  #flushScheduled = false;
  #ended = false;
  #lastActivity = performance.now();
  #closeTimer: NodeJS.Timeout | undefined;
  #keepAliveTimer: NodeJS.Timeout | undefined;

  /** Connects to `host:port`; rejects with RMQ_CONNECT_FAILED (retriable) or RMQ_ABORTED. */
  static connect(address: string, options: ConnectOptions = {}): Promise<RemotingConnection> {
    return dial(address, options, (socket) => new RemotingConnection(address, socket, options, Infinity));
  }

  /**
   * Runs the protocol over a socket a `net.Server` accepted (plain or TLS), for a Remoting server.
   * The connection owns the socket from now on. Its write bound is the socket's own writable
   * high-water mark, which only the socket's creator can set: create the server with
   * `highWaterMark`. A socket that already closed gives a connection that is already closed.
   */
  static adopt(socket: Socket, options: ProtocolOptions = {}): RemotingConnection {
    if (socket.connecting || (socket.pending && !socket.destroyed)) {
      throw new TypeError('RemotingConnection.adopt needs a connected socket (dial with connect())');
    }
    return new RemotingConnection(remoteAddressOf(socket), socket, options, DEFAULT_MAX_IN_FLIGHT);
  }

  private constructor(
    address: string,
    socket: Socket,
    options: ProtocolOptions,
    defaultMaxPeerRequests: number,
  ) {
    this.address = address;
    this.#socket = socket;
    this.#logger = options.logger ?? silentLogger;
    this.#requestTimeoutMs = options.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
    // At least one, or the first peer request would pause reading for good.
    this.#maxPeerRequests = Math.max(1, options.maxPeerRequestsInFlight ?? defaultMaxPeerRequests);
    this.#keepAlive = options.keepAlive;
    this.#nextOpaque = options.firstOpaque ?? 0;
    this.#reader = new FrameReader(options.maxFrameBytes ?? MAX_FRAME_BYTES);
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
    socket.on('data', this.#onData);
    socket.on('drain', this.#flush);
    socket.on('error', this.#onError);
    // A FIN means no response will ever come, so 'end' finishes us as 'close' does.
    socket.on('end', this.#onClose);
    socket.on('close', this.#onClose);
    // An accepted socket may have closed before it was handed over; its events are gone by then.
    if (socket.destroyed || socket.readableEnded) {
      this.#terminate(this.#closedError('socket closed before the connection took it over'), 'debug');
      return;
    }
    socket.setNoDelay(true);
    // Kernel probes catch a dead peer even when no keepalive request is configured.
    socket.setKeepAlive(true, options.tcpKeepAliveDelayMs ?? DEFAULT_TCP_KEEPALIVE_MS);
    // A server may hand over a paused socket (pauseOnConnect, or after peeking at its first bytes).
    socket.resume();
    if (this.#keepAlive !== undefined) this.#armKeepAlive(this.#keepAlive.intervalMs);
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Requests awaiting a response or (oneway) their write. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Requests from the peer being served: handler running or reply not yet handed to the socket. */
  get peerRequestsInFlight(): number {
    return this.#peerRequests;
  }

  /** Frames waiting for room in the socket's write buffer. */
  get queuedFrames(): number {
    return this.#queue.size;
  }

  /**
   * Bytes the socket holds but the kernel has not taken yet: at most the socket's writable
   * high-water mark (maxWriteBufferBytes when dialed) plus one frame.
   */
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
   * Stops accepting requests, waits up to `timeoutMs` for in-flight ones (ours awaiting responses,
   * the peer's awaiting our replies), then half-closes and waits for the peer to close.
   * Requests still pending at the deadline fail with RMQ_CONNECTION_CLOSED.
   */
  async close(timeoutMs: number = this.#closeTimeoutMs): Promise<void> {
    if (this.#state === 'open') {
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

  // ---- sending -----------------------------------------------------------------------------

  #send(spec: RequestSpec, flag: number, options: RequestOptions): Promise<RemotingCommand> {
    if (this.#state !== 'open') {
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
    // While the socket is over its high-water mark, frames stay queued until 'drain' calls us again.
    if (this.#state === 'closed' || this.#ended || this.#queue.size === 0 || socket.writableNeedDrain) return;
    let replies = 0;
    socket.cork();
    try {
      for (const item of this.#queue) {
        this.#queue.delete(item);
        let frame: Buffer | undefined;
        let callback: ((error?: Error | null) => void) | undefined;
        if (item instanceof Pending) {
          frame = this.#encodeRequest(item);
          if (frame === undefined) continue;
          item.written = true;
          if (item.oneway) callback = (error) => this.#onOnewayWritten(item, error);
        } else {
          // Handed to the socket (or dropped), a reply frees its peer request's slot.
          replies++;
          frame = this.#encodeReply(item);
          if (frame === undefined) continue;
        }
        if (!socket.write(frame, callback)) break;
      }
    } finally {
      socket.uncork();
    }
    this.#lastActivity = performance.now();
    if (replies > 0) this.#peerRequestsDone(replies);
    else this.#maybeEnd();
  };

  #encodeRequest(pending: Pending): Buffer | undefined {
    try {
      return encodeFrame(pending.command, 'JSON');
    } catch (error) {
      this.#fail(pending, asRemotingError(error, 'RMQ_BAD_FRAME'));
      return undefined;
    }
  }

  #encodeReply(reply: RemotingCommand): Buffer | undefined {
    try {
      return encodeFrame(reply, 'JSON');
    } catch (error) {
      const cause = asRemotingError(error, 'RMQ_BAD_FRAME');
      this.#logger.error({ address: this.address, code: cause.code, err: cause }, 'cannot encode reply');
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
    this.#dispatch(frames, 0);
  };

  /** Handles frames in order from `from`; at the peer request limit it pauses and holds the rest. */
  #dispatch(frames: Buffer[], from: number): void {
    for (let i = from; i < frames.length; i++) {
      let command: RemotingCommand;
      try {
        command = decodeFrame(frames[i]!);
      } catch (error) {
        this.#onProtocolError(error);
        return;
      }
      if (isResponse(command)) {
        this.#onResponse(command);
      } else {
        this.#onPeerRequest(command);
        if (this.#peerRequests >= this.#maxPeerRequests && this.#state !== 'closed') {
          this.#pauseReading(frames, i + 1);
          return;
        }
      }
      // A handler or a resolved caller may have closed us synchronously.
      if (this.#state === 'closed') return;
    }
  }

  #pauseReading(frames: Buffer[], next: number): void {
    if (next < frames.length) {
      this.#held = frames;
      this.#heldAt = next;
    }
    if (this.#readPaused) return;
    this.#readPaused = true;
    this.#socket.pause();
  }

  #peerRequestsDone(count: number): void {
    this.#peerRequests -= count;
    if (this.#readPaused && this.#peerRequests < this.#maxPeerRequests) this.#resumeReading();
    this.#maybeEnd();
  }

  #resumeReading(): void {
    this.#readPaused = false;
    const held = this.#held;
    if (held !== undefined) {
      this.#held = undefined;
      this.#dispatch(held, this.#heldAt);
    }
    // The held frames may have reached the limit again.
    if (!this.#readPaused && this.#state !== 'closed') this.#socket.resume();
  }

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
      this.#peerRequests++;
      void this.#runHandler(handler, command);
    } else if (isOneway(command)) {
      this.#logger.debug(
        { address: this.address, requestCode: command.code },
        'ignored oneway request: no handler',
      );
    } else {
      this.#peerRequests++;
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
    else this.#peerRequestsDone(1);
  }

  #reply(request: RemotingCommand, reply: ReplySpec): void {
    if (this.#state !== 'open' && this.#state !== 'closing') {
      this.#logger.debug(
        { address: this.address, opaque: request.opaque },
        'dropped a reply: connection closed',
      );
      this.#peerRequestsDone(1);
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

  /** Half-closes once a closing connection has nothing left to send, await or answer. */
  #maybeEnd(): void {
    if (
      this.#state !== 'closing' ||
      this.#ended ||
      this.#pending.size > 0 ||
      this.#queue.size > 0 ||
      this.#peerRequests > 0
    ) {
      return;
    }
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
    this.#terminate(this.#closedError(`socket error: ${error.message}`, error), 'warn');
  };

  #onClose = (): void => {
    const clean = this.#ended && this.#pending.size === 0;
    this.#terminate(
      this.#closedError(this.#ended ? 'connection closed' : 'connection closed by peer'),
      'debug',
      clean,
    );
  };

  /** The one place that ends a connection: idempotent, synchronous, fails everything pending. */
  #terminate(cause: RemotingError, log: 'none' | 'debug' | 'warn', clean = false): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#closeTimer);
    this.#clearKeepAlive();
    this.#socket.destroy();
    this.#queue.clear();
    this.#held = undefined;
    if (log !== 'none') {
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
    this.#resolveClosed(clean ? undefined : cause);
  }

  #closedError(reason: string, cause?: unknown): RemotingError {
    return new RemotingError('RMQ_CONNECTION_CLOSED', `${this.address}: ${reason}`, {
      retriable: true,
      cause,
    });
  }
}

/** `host:port` of the peer, bracketing IPv6 hosts as parseAddress reads them. */
function remoteAddressOf(socket: Socket): string {
  const host = socket.remoteAddress;
  if (host === undefined) return 'unknown';
  return `${host.includes(':') ? `[${host}]` : host}:${socket.remotePort}`;
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
