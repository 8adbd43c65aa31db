/**
 * Remoting connections to NameServers and Brokers, one per "host:port": concurrent users share
 * one connect, a closed or draining connection is replaced on next use, failed connects back off
 * with jitter, and a GO_AWAY answer is retried once on a fresh connection.
 *
 * While an address is backing off, requests to it fail fast with a retriable RMQ_CONNECT_FAILED
 * instead of waiting: the proxy serves gRPC calls with deadlines and can usually pick another
 * broker or answer UNAVAILABLE at once, which beats parking every caller on a dead peer.
 */
import { ResponseCode } from './codes.ts';
import type { RemotingCommand, RequestSpec } from './command.ts';
import {
  type ConnectionOptions,
  RemotingConnection,
  type RemotingLogger,
  type RequestHandler,
  type RequestOptions,
  silentLogger,
} from './connection.ts';
import { RemotingError } from './errors.ts';

export type Jitter = 'full' | 'equal';

export interface BackoffOptions {
  /** Delay bound after the first failed connect (default 100 ms). */
  initialMs?: number | undefined;
  /** Largest delay bound (default 10 s). */
  maxMs?: number | undefined;
  /** Growth of the bound per consecutive failure (default 2). */
  multiplier?: number | undefined;
  /**
   * `equal` (default) waits between half the bound and the bound, so a dead peer is never
   * retried in a tight loop; `full` waits anywhere in [0, bound), spreading reconnects widest.
   */
  jitter?: Jitter | undefined;
}

export interface PoolKeepAliveOptions {
  /** Builds the keepalive request for an address: what is cheap differs for NameServers and Brokers. */
  request: (address: string) => RequestSpec;
  /** Idle time before a keepalive (default 30 s: well below the servers' 120 s idle close). */
  intervalMs?: number | undefined;
  /** Timeout of the keepalive request; a silent peer then gets the connection closed. */
  timeoutMs?: number | undefined;
}

/**
 * Runs on every new connection before any caller gets it (e.g. to send HEART_BEAT, since broker
 * registrations are per connection). A hook that throws fails that connect.
 */
export type ConnectHook = (connection: RemotingConnection) => void | Promise<void>;

export interface PoolOptions {
  /** Options of every connection (timeouts, limits, buffer sizes). */
  connection?: Omit<ConnectionOptions, 'keepAlive' | 'logger'> | undefined;
  /** Application keepalive on idle connections; without it idle connections may be closed by the
   * server after 120 s and are then replaced on next use. */
  keepAlive?: PoolKeepAliveOptions | undefined;
  backoff?: BackoffOptions | undefined;
  logger?: RemotingLogger | undefined;
  /** Uniform random numbers in [0, 1) for jitter; tests substitute their own. */
  random?: (() => number) | undefined;
}

export interface PoolStats {
  /** Connections serving new requests. */
  open: number;
  /** Connects under way (each shared by all callers of its address). */
  connecting: number;
  /** Connections finishing their in-flight requests after GO_AWAY or close. */
  draining: number;
  /** Requests awaiting a response, over all connections. */
  inFlight: number;
  /** Addresses whose last connect failed and that are waiting out their backoff. */
  backingOff: number;
}

const DEFAULT_TIMEOUT_MS = 3000;
const DEFAULT_KEEPALIVE_MS = 30_000;
const DEFAULT_BACKOFF = { initialMs: 100, maxMs: 10_000, multiplier: 2, jitter: 'equal' } as const;

/**
 * Delay before connect attempt `failures + 1`: an exponentially growing bound, capped, with
 * jitter so that many proxies do not reconnect to a restarted broker in lockstep.
 */
export function backoffDelay(failures: number, options: BackoffOptions = {}, random = Math.random): number {
  const initialMs = options.initialMs ?? DEFAULT_BACKOFF.initialMs;
  const maxMs = options.maxMs ?? DEFAULT_BACKOFF.maxMs;
  const multiplier = options.multiplier ?? DEFAULT_BACKOFF.multiplier;
  const bound = Math.min(maxMs, initialMs * multiplier ** Math.max(0, failures - 1));
  return (options.jitter ?? DEFAULT_BACKOFF.jitter) === 'full'
    ? random() * bound
    : bound / 2 + (random() * bound) / 2;
}

/** Per-address state. */
interface Slot {
  /** The connection new requests go to; a draining or closed one is replaced on next use. */
  connection: RemotingConnection | undefined;
  connecting: Promise<RemotingConnection> | undefined;
  failures: number;
  /** performance.now() before which no connect is attempted. */
  retryAt: number;
  lastError: RemotingError | undefined;
}

export class RemotingPool {
  readonly #options: PoolOptions;
  readonly #logger: RemotingLogger;
  readonly #random: () => number;
  readonly #slots = new Map<string, Slot>();
  /** Every connection not yet closed, draining ones included: close() and stats need them all. */
  readonly #live = new Set<RemotingConnection>();
  readonly #handlers = new Map<number, RequestHandler>();
  readonly #hooks: ConnectHook[] = [];
  #closing: Promise<void> | undefined;

  constructor(options: PoolOptions = {}) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#random = options.random ?? Math.random;
  }

  /** Adds a hook run on every connection opened from now on, in registration order. */
  onConnect(hook: ConnectHook): void {
    this.#hooks.push(hook);
  }

  /** Registers a handler for peer-initiated requests on every current and future connection. */
  onRequest(code: number, handler: RequestHandler): void {
    this.#handlers.set(code, handler);
    for (const connection of this.#live) connection.onRequest(code, handler);
  }

  /**
   * The open connection to `address`, connecting if needed. Rejects with RMQ_CONNECT_FAILED
   * (retriable; at once while backing off), RMQ_ABORTED, or RMQ_CONNECTION_CLOSED once closed.
   */
  get(address: string, signal?: AbortSignal): Promise<RemotingConnection> {
    if (this.#closing !== undefined) return Promise.reject(poolClosedError());
    let slot = this.#slots.get(address);
    if (slot === undefined) {
      slot = { connection: undefined, connecting: undefined, failures: 0, retryAt: 0, lastError: undefined };
      this.#slots.set(address, slot);
    }
    if (slot.connection?.state === 'open') return Promise.resolve(slot.connection);
    if (slot.connecting === undefined) {
      const waitMs = slot.retryAt - performance.now();
      if (waitMs > 0) {
        return Promise.reject(
          new RemotingError(
            'RMQ_CONNECT_FAILED',
            `${address}: not reconnecting for another ${Math.ceil(waitMs)} ms after ${slot.failures} failed connect(s): ${slot.lastError?.message}`,
            { retriable: true, cause: slot.lastError },
          ),
        );
      }
      slot.connecting = this.#connect(address, slot);
    }
    return raceAbort(slot.connecting, signal, `connect to ${address}`);
  }

  /**
   * Sends a request and resolves with its response, whatever the code (see `expectSuccess`).
   * `timeoutMs` covers waiting for the connection too. A GO_AWAY answer (the server is shutting
   * down and did not process the request) is retried once on a new connection.
   */
  async request(address: string, spec: RequestSpec, options: RequestOptions = {}): Promise<RemotingCommand> {
    const deadline = performance.now() + this.#timeoutMs(options);
    const response = await this.#request(address, spec, options, deadline);
    if (response.code !== ResponseCode.GO_AWAY) return response;
    this.#logger.debug(
      { address, requestCode: spec.code },
      'peer answered GO_AWAY; retrying once on a new connection',
    );
    return this.#request(address, spec, options, deadline);
  }

  /** Sends a oneway request; resolves once written. */
  async oneway(address: string, spec: RequestSpec, options: RequestOptions = {}): Promise<void> {
    const deadline = performance.now() + this.#timeoutMs(options);
    const connection = await this.#openConnection(address, options.signal);
    await connection.oneway(spec, {
      timeoutMs: remainingMs(deadline, address, spec),
      signal: options.signal,
    });
  }

  /**
   * Refuses new requests, lets every connection finish its in-flight requests (up to
   * `timeoutMs` each, default the connections' closeTimeoutMs) and closes them.
   */
  close(timeoutMs?: number): Promise<void> {
    this.#closing ??= this.#closeAll(timeoutMs);
    return this.#closing;
  }

  stats(): PoolStats {
    const stats: PoolStats = { open: 0, connecting: 0, draining: 0, inFlight: 0, backingOff: 0 };
    for (const connection of this.#live) {
      stats.inFlight += connection.inFlight;
      if (connection.state === 'open') stats.open++;
      else stats.draining++;
    }
    const now = performance.now();
    for (const slot of this.#slots.values()) {
      if (slot.connecting !== undefined) stats.connecting++;
      else if (slot.retryAt > now) stats.backingOff++;
    }
    return stats;
  }

  // ---- internals ---------------------------------------------------------------------------

  #timeoutMs(options: RequestOptions): number {
    return options.timeoutMs ?? this.#options.connection?.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  async #request(
    address: string,
    spec: RequestSpec,
    options: RequestOptions,
    deadline: number,
  ): Promise<RemotingCommand> {
    const connection = await this.#openConnection(address, options.signal);
    return connection.request(spec, {
      timeoutMs: remainingMs(deadline, address, spec),
      signal: options.signal,
    });
  }

  /**
   * get() only hands out open connections, but one may start draining (GO_AWAY on another
   * request) before our continuation runs; a draining connection takes no new requests, so ask
   * again, which connects afresh.
   */
  async #openConnection(address: string, signal: AbortSignal | undefined): Promise<RemotingConnection> {
    const connection = await this.get(address, signal);
    if (connection.state === 'open') return connection;
    return this.get(address, signal);
  }

  async #connect(address: string, slot: Slot): Promise<RemotingConnection> {
    let connection: RemotingConnection | undefined;
    try {
      connection = await RemotingConnection.connect(address, this.#connectionOptions(address));
      this.#track(address, connection);
      for (const [code, handler] of this.#handlers) connection.onRequest(code, handler);
      for (const hook of this.#hooks) await this.#runHook(hook, connection);
      if (this.#closing !== undefined) throw poolClosedError();
      if (connection.state !== 'open') {
        throw new RemotingError('RMQ_CONNECTION_CLOSED', `${address}: closed while being set up`, {
          retriable: true,
        });
      }
    } catch (error) {
      connection?.destroy();
      const cause =
        error instanceof RemotingError
          ? error
          : new RemotingError('RMQ_CONNECT_FAILED', `${address}: ${String(error)}`, { retriable: true });
      if (this.#closing === undefined) this.#recordFailure(address, slot, cause);
      throw cause;
    } finally {
      slot.connecting = undefined;
    }
    slot.failures = 0;
    slot.retryAt = 0;
    slot.lastError = undefined;
    slot.connection = connection;
    return connection;
  }

  async #runHook(hook: ConnectHook, connection: RemotingConnection): Promise<void> {
    try {
      await hook(connection);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new RemotingError(
        'RMQ_CONNECT_FAILED',
        `${connection.address}: on-connect hook failed: ${reason}`,
        {
          retriable: true,
          cause: error,
        },
      );
    }
  }

  #recordFailure(address: string, slot: Slot, cause: RemotingError): void {
    slot.failures++;
    const delayMs = backoffDelay(slot.failures, this.#options.backoff, this.#random);
    slot.retryAt = performance.now() + delayMs;
    slot.lastError = cause;
    this.#logger.warn(
      { address, failures: slot.failures, backoffMs: Math.round(delayMs), code: cause.code, err: cause },
      'connect failed; backing off',
    );
  }

  #connectionOptions(address: string): ConnectionOptions {
    const keepAlive = this.#options.keepAlive;
    return {
      ...this.#options.connection,
      logger: this.#logger,
      keepAlive:
        keepAlive === undefined
          ? undefined
          : {
              intervalMs: keepAlive.intervalMs ?? DEFAULT_KEEPALIVE_MS,
              timeoutMs: keepAlive.timeoutMs,
              request: () => keepAlive.request(address),
            },
    };
  }

  #track(address: string, connection: RemotingConnection): void {
    this.#live.add(connection);
    void connection.closed.then((error) => {
      this.#live.delete(connection);
      const slot = this.#slots.get(address);
      if (slot === undefined || slot.connection !== connection) return;
      slot.connection = undefined;
      // Forget addresses with nothing to remember, so the map follows the routes over time.
      if (slot.connecting === undefined && slot.failures === 0) this.#slots.delete(address);
      if (error !== undefined) {
        this.#logger.debug(
          { address, code: error.code, err: error },
          'connection closed; replaced on next use',
        );
      }
    });
  }

  async #closeAll(timeoutMs: number | undefined): Promise<void> {
    const connecting = [...this.#slots.values()].flatMap((slot) =>
      slot.connecting === undefined ? [] : [slot.connecting],
    );
    // Connects still under way see the pool closing and destroy their connection themselves.
    await Promise.all([
      ...[...this.#live].map((connection) => connection.close(timeoutMs)),
      ...connecting.map((promise) => promise.catch(() => undefined)),
    ]);
    this.#slots.clear();
  }
}

function poolClosedError(): RemotingError {
  return new RemotingError('RMQ_CONNECTION_CLOSED', 'the connection pool is closed');
}

function remainingMs(deadline: number, address: string, spec: RequestSpec): number {
  const remaining = deadline - performance.now();
  if (remaining > 0) return remaining;
  throw new RemotingError(
    'RMQ_TIMEOUT',
    `request ${spec.code} to ${address} timed out while waiting for a connection`,
    { retriable: true },
  );
}

/** Lets one waiter give up on a shared connect without cancelling it for the others. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal === undefined) return promise;
  const aborted = (): RemotingError =>
    new RemotingError('RMQ_ABORTED', `${what} aborted`, { cause: signal.reason });
  if (signal.aborted) return Promise.reject(aborted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(aborted());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
