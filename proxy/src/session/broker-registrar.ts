/**
 * Keeps the brokers' view of this proxy's clients: one HEART_BEAT per master, under one client id
 * for the whole proxy, listing every producer group (so CHECK_TRANSACTION_STATE for a transactional
 * topic comes back on our connection) and every consumer group (so admin tools see it online).
 * Sent at once when the groups change, every `intervalMs` (brokers forget registrations after 120 s),
 * and on every new broker connection (registrations live per TCP connection). A group whose last
 * client leaves this proxy is unregistered (UNREGISTER_CLIENT), which affects only this proxy's
 * connection, so other proxies' registrations stay intact.
 */
import type { RouteService } from '../cluster/route-service.ts';
import type { RemotingConnection } from '../remoting/connection.ts';
import type { RemotingPool } from '../remoting/pool.ts';
import {
  type ConsumerRegistration,
  type ConsumeType,
  heartbeatRequest,
  parseHeartbeat,
  parseUnregisterClient,
  unregisterClientRequest,
} from '../remoting/requests/heartbeat.ts';
import type { ClientKind } from './client-session.ts';
import type { ClientRegistry, RegistryEvent } from './registry.ts';

export interface RegistrarLogger {
  debug(object: object, message: string): void;
  warn(object: object, message: string): void;
}

export interface BrokerRegistrarOptions {
  pool: RemotingPool;
  routes: RouteService;
  registry: ClientRegistry;
  /** The client id this proxy registers under at the brokers. */
  proxyClientId: string;
  /** Default 20 s, as the Java proxy's transaction heartbeat. */
  intervalMs?: number | undefined;
  timeoutMs: number;
  logger: RegistrarLogger;
}

export class BrokerRegistrar {
  readonly #options: BrokerRegistrarOptions;
  /** Brokers we have registered with; the connect hook only talks to these (never to NameServers). */
  readonly #brokers = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #pending: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(options: BrokerRegistrarOptions) {
    this.#options = options;
  }

  start(): void {
    const { pool, registry } = this.#options;
    registry.onChange((event) => this.#onRegistryChange(event));
    pool.onConnect((connection) => this.#onConnect(connection));
    this.#timer = setInterval(() => void this.sync(), this.#options.intervalMs ?? 20_000);
    this.#timer.unref();
  }

  /** Sends the current groups to every master now (coalescing concurrent calls). */
  sync(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    if (this.#pending !== undefined) {
      this.#again = true;
      return this.#pending;
    }
    this.#pending = this.#syncOnce().finally(() => {
      this.#pending = undefined;
      if (this.#again) {
        this.#again = false;
        void this.sync();
      }
    });
    return this.#pending;
  }

  /** Stops the timer and unregisters every group this proxy registered (best effort). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#pending?.catch(() => undefined);
    const { registry } = this.#options;
    await this.#unregister(
      registry.producerGroups(),
      registry.consumerGroups().map((membership) => membership.group),
    );
  }

  #heartbeat(): ReturnType<typeof heartbeatRequest> | undefined {
    const { registry, proxyClientId } = this.#options;
    const producerGroups = registry.producerGroups();
    const consumers: ConsumerRegistration[] = registry.consumerGroups().map((membership) => ({
      group: membership.group,
      consumeType: consumeTypeOf(membership.kind),
      messageModel: 'CLUSTERING',
      subscriptions: [...membership.subscriptions],
    }));
    if (producerGroups.length === 0 && consumers.length === 0) return undefined;
    return heartbeatRequest({ clientId: proxyClientId, producerGroups, consumers });
  }

  async #syncOnce(): Promise<void> {
    const spec = this.#heartbeat();
    if (spec === undefined) return;
    let masters: string[];
    try {
      masters = await this.#options.routes.masterAddresses();
    } catch (error) {
      this.#options.logger.warn({ err: error }, 'broker registration: cannot list the brokers');
      return;
    }
    await Promise.all(
      masters.map(async (address) => {
        this.#brokers.add(address);
        try {
          parseHeartbeat(
            await this.#options.pool.request(address, spec, { timeoutMs: this.#options.timeoutMs }),
          );
        } catch (error) {
          this.#options.logger.warn(
            { err: error, broker: address },
            'broker registration: HEART_BEAT failed',
          );
        }
      }),
    );
  }

  /** A new connection to a known broker carries no registrations yet: register before first use. */
  async #onConnect(connection: RemotingConnection): Promise<void> {
    if (this.#stopped || !this.#brokers.has(connection.address)) return;
    const spec = this.#heartbeat();
    if (spec === undefined) return;
    try {
      parseHeartbeat(await connection.request(spec, { timeoutMs: this.#options.timeoutMs }));
    } catch (error) {
      // Never fail the connect over this; the periodic heartbeat tries again.
      this.#options.logger.warn(
        { err: error, broker: connection.address },
        'broker registration on a new connection failed',
      );
    }
  }

  #onRegistryChange(event: RegistryEvent): void {
    if (this.#stopped) return;
    if (event.type === 'registered') {
      const before = groupsOf(event.previous);
      const added = groupsOf(event.session).filter((group) => !before.includes(group));
      if (added.length > 0) void this.sync();
      const removed = before.filter((group) => !groupsOf(event.session).includes(group));
      if (removed.length > 0) void this.#unregisterOrphans(event.previous);
      return;
    }
    void this.#unregisterOrphans(event.session);
  }

  /** Unregisters the groups of `session` that no remaining client of this proxy belongs to. */
  async #unregisterOrphans(session: RegistryEvent['session'] | undefined): Promise<void> {
    if (session === undefined) return;
    const { registry } = this.#options;
    const liveProducers = new Set(registry.producerGroups());
    const liveConsumers = new Set(registry.consumerGroups().map((membership) => membership.group));
    const producerGroups =
      session.kind === 'PRODUCER' ? session.producerGroups.filter((g) => !liveProducers.has(g)) : [];
    const consumerGroups =
      session.kind !== 'PRODUCER' &&
      session.consumerGroup !== undefined &&
      !liveConsumers.has(session.consumerGroup)
        ? [session.consumerGroup]
        : [];
    await this.#unregister(producerGroups, consumerGroups);
  }

  async #unregister(producerGroups: readonly string[], consumerGroups: readonly string[]): Promise<void> {
    if (producerGroups.length === 0 && consumerGroups.length === 0) return;
    const { pool, proxyClientId, timeoutMs, logger } = this.#options;
    const requests = [
      ...producerGroups.map((producerGroup) => unregisterClientRequest(proxyClientId, { producerGroup })),
      ...consumerGroups.map((consumerGroup) => unregisterClientRequest(proxyClientId, { consumerGroup })),
    ];
    await Promise.all(
      [...this.#brokers].flatMap((address) =>
        requests.map(async (spec) => {
          try {
            parseUnregisterClient(await pool.request(address, spec, { timeoutMs }));
          } catch (error) {
            logger.debug({ err: error, broker: address }, 'UNREGISTER_CLIENT failed');
          }
        }),
      ),
    );
  }
}

function groupsOf(session: RegistryEvent['session'] | undefined): string[] {
  if (session === undefined) return [];
  if (session.kind === 'PRODUCER') return session.producerGroups.map((group) => `p:${group}`);
  return session.consumerGroup === undefined ? [] : [`c:${session.consumerGroup}`];
}

/** Push consumers are "passive" (the broker pushes in Remoting terms), everything else pops actively. */
function consumeTypeOf(kind: ClientKind): ConsumeType {
  return kind === 'PUSH_CONSUMER' || kind === 'LITE_PUSH_CONSUMER' ? 'CONSUME_PASSIVELY' : 'CONSUME_ACTIVELY';
}
