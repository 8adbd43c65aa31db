/**
 * The clients this proxy serves, keyed by client id: registered with their settings, kept alive by
 * heartbeats (and settings re-syncs), removed when they say they terminate or after `expireMs` of
 * silence. Membership changes are reported to listeners (the broker registrar keeps the brokers'
 * view of producer and consumer groups in step).
 */
import type { Clock } from '../cluster/clock.ts';
import { systemClock } from '../cluster/clock.ts';
import type { ClientChannel } from './client-channel.ts';
import type { ClientRegistration, ClientSession } from './client-session.ts';
import { isConsumerKind } from './client-session.ts';

export interface RegistryOptions {
  /** A client not heard of for this long is dropped (default 120 s, the brokers' channel expiry). */
  expireMs?: number | undefined;
  clock?: Clock | undefined;
}

export type RegistryEvent =
  | { type: 'registered'; session: ClientSession; previous: ClientSession | undefined }
  | { type: 'removed'; session: ClientSession; reason: 'terminated' | 'expired' };

export type RegistryListener = (event: RegistryEvent) => void;

export interface ConsumerGroupMembership {
  readonly group: string;
  readonly kind: ClientSession['kind'];
  readonly subscriptions: ClientSession['subscriptions'];
}

interface MutableSession extends ClientRegistration {
  registeredAt: number;
  lastSeen: number;
  channel: ClientChannel | undefined;
}

export const DEFAULT_CLIENT_EXPIRE_MS = 120_000;

export class ClientRegistry {
  readonly #clock: Clock;
  readonly #expireMs: number;
  readonly #sessions = new Map<string, MutableSession>();
  readonly #listeners: RegistryListener[] = [];
  /** Round-robin position per producer group, so checks spread over the group's clients. */
  readonly #cursor = new Map<string, number>();

  constructor(options: RegistryOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#expireMs = options.expireMs ?? DEFAULT_CLIENT_EXPIRE_MS;
  }

  get size(): number {
    return this.#sessions.size;
  }

  onChange(listener: RegistryListener): void {
    this.#listeners.push(listener);
  }

  /** Creates or replaces a client's registration (re-sent settings overwrite); keeps its channel. */
  register(registration: ClientRegistration, channel?: ClientChannel): ClientSession {
    const previous = this.#sessions.get(registration.clientId);
    const now = this.#clock();
    const session: MutableSession = {
      ...registration,
      registeredAt: now,
      lastSeen: now,
      channel: channel ?? previous?.channel,
    };
    this.#sessions.set(registration.clientId, session);
    this.#emit({ type: 'registered', session, previous: previous && { ...previous } });
    return session;
  }

  get(clientId: string): ClientSession | undefined {
    return this.#sessions.get(clientId);
  }

  /** Marks the client alive; false when it is not registered. */
  touch(clientId: string): boolean {
    const session = this.#sessions.get(clientId);
    if (session === undefined) return false;
    session.lastSeen = this.#clock();
    return true;
  }

  /** Removes and returns the client (it said it terminates). */
  remove(clientId: string): ClientSession | undefined {
    const session = this.#sessions.get(clientId);
    if (session === undefined) return undefined;
    this.#sessions.delete(clientId);
    this.#emit({ type: 'removed', session, reason: 'terminated' });
    return session;
  }

  /** Binds the client's channel (the latest one wins). */
  attachChannel(clientId: string, channel: ClientChannel): void {
    const session = this.#sessions.get(clientId);
    if (session !== undefined) session.channel = channel;
  }

  /** Unbinds `channel` if it is still the client's (a newer one may have replaced it). */
  detachChannel(clientId: string, channel: ClientChannel): void {
    const session = this.#sessions.get(clientId);
    if (session !== undefined && session.channel === channel) session.channel = undefined;
  }

  /** Drops clients silent for longer than the expiry; returns them. */
  sweep(now: number = this.#clock()): ClientSession[] {
    const expired: ClientSession[] = [];
    for (const [clientId, session] of this.#sessions) {
      if (now - session.lastSeen < this.#expireMs) continue;
      this.#sessions.delete(clientId);
      expired.push(session);
    }
    for (const session of expired) this.#emit({ type: 'removed', session, reason: 'expired' });
    return expired;
  }

  sessions(): IterableIterator<ClientSession> {
    return this.#sessions.values();
  }

  /** Producer groups with at least one registered client, sorted. */
  producerGroups(): string[] {
    const groups = new Set<string>();
    for (const session of this.#sessions.values()) {
      if (session.kind === 'PRODUCER') for (const group of session.producerGroups) groups.add(group);
    }
    return [...groups].sort();
  }

  /** Consumer groups with at least one registered client, with the first member's subscriptions. */
  consumerGroups(): ConsumerGroupMembership[] {
    const groups = new Map<string, ConsumerGroupMembership>();
    for (const session of this.#sessions.values()) {
      const group = session.consumerGroup;
      if (!isConsumerKind(session.kind) || group === undefined || groups.has(group)) continue;
      groups.set(group, { group, kind: session.kind, subscriptions: session.subscriptions });
    }
    return [...groups.values()].sort((a, b) => (a.group < b.group ? -1 : a.group > b.group ? 1 : 0));
  }

  /** Clients of a producer group, in registration order. */
  producersOf(group: string): ClientSession[] {
    return [...this.#sessions.values()].filter(
      (session) => session.kind === 'PRODUCER' && session.producerGroups.includes(group),
    );
  }

  /** Clients of a consumer group. */
  consumersOf(group: string): ClientSession[] {
    return [...this.#sessions.values()].filter(
      (session) => isConsumerKind(session.kind) && session.consumerGroup === group,
    );
  }

  /**
   * An open channel of a client of `producerGroup` (the group is the topic for gRPC producers),
   * chosen round-robin among the open ones; undefined when none is open. The transaction check
   * relay asks producers through it.
   */
  channelFor(producerGroup: string): { clientId: string; channel: ClientChannel } | undefined {
    const open = this.producersOf(producerGroup).filter((session) => session.channel?.isOpen() === true);
    if (open.length === 0) return undefined;
    const position = this.#cursor.get(producerGroup) ?? 0;
    this.#cursor.set(producerGroup, (position + 1) % 2 ** 31);
    const chosen = open[position % open.length]!;
    return { clientId: chosen.clientId, channel: chosen.channel! };
  }

  #emit(event: RegistryEvent): void {
    for (const listener of this.#listeners) listener(event);
  }
}
