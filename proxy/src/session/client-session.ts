/**
 * What the proxy remembers about one client (keyed by its client id): its role, the groups it
 * belongs to, the settings it was granted, its channel and when it was last heard of.
 * This state is local to one proxy and only serves that proxy's connections; nothing another proxy
 * would need lives here (cluster mode).
 */
import type { Subscription } from '../remoting/requests/heartbeat.ts';
import type { ClientChannel } from './client-channel.ts';
import type { RetryPolicy } from './retry-policy.ts';

export type ClientKind =
  | 'PRODUCER'
  | 'PUSH_CONSUMER'
  | 'SIMPLE_CONSUMER'
  | 'PULL_CONSUMER'
  | 'LITE_PUSH_CONSUMER'
  | 'LITE_SIMPLE_CONSUMER';

/** The settings the proxy granted a client (what the core needs of them later). */
export interface ClientSettings {
  /** Producers: send retries; consumers: the group's redelivery policy (max attempts before the DLQ). */
  readonly retryPolicy: RetryPolicy;
  /** Consumers: the group consumes orderly. */
  readonly fifo: boolean;
  /** The client's own request timeout, when it said. */
  readonly requestTimeoutMs: number | undefined;
}

export interface ClientRegistration {
  readonly clientId: string;
  readonly kind: ClientKind;
  /** Remoting LanguageCode name of the client. */
  readonly language: string;
  /** Producers: the topics they publish to; each topic is also the producer group (as in Java). */
  readonly producerGroups: readonly string[];
  /** Consumers: their group. */
  readonly consumerGroup?: string | undefined;
  readonly subscriptions: readonly Subscription[];
  readonly settings: ClientSettings;
}

export interface ClientSession extends ClientRegistration {
  /** When the current settings were registered (clock ms). */
  readonly registeredAt: number;
  readonly lastSeen: number;
  readonly channel: ClientChannel | undefined;
}

export function isConsumerKind(kind: ClientKind): boolean {
  return kind !== 'PRODUCER';
}
