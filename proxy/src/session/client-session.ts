/**
 * What the proxy remembers about one client (keyed by its x-mq-client-id): its role, the groups it
 * belongs to, the settings it was given, its Telemetry stream and when it was last heard of.
 * This state is local to one proxy and only serves that proxy's connections; nothing another proxy
 * would need lives here (cluster mode).
 */
import type { apache } from '../grpc/protocol.ts';
import type { Subscription } from '../remoting/requests/heartbeat.ts';
import type { TelemetryChannel } from './telemetry-channel.ts';

export type ClientKind =
  | 'PRODUCER'
  | 'PUSH_CONSUMER'
  | 'SIMPLE_CONSUMER'
  | 'PULL_CONSUMER'
  | 'LITE_PUSH_CONSUMER'
  | 'LITE_SIMPLE_CONSUMER';

export type EffectiveSettings = apache.rocketmq.v2.Settings.$Properties;

export interface ClientRegistration {
  readonly clientId: string;
  readonly kind: ClientKind;
  /** Remoting LanguageCode name (from x-mq-language). */
  readonly language: string;
  /** Producers: the topics they publish to; each topic is also the producer group (as in Java). */
  readonly producerGroups: readonly string[];
  /** Consumers: their group. */
  readonly consumerGroup?: string | undefined;
  readonly subscriptions: readonly Subscription[];
  /** The settings the proxy answered with (client values merged with the server's). */
  readonly settings: EffectiveSettings;
}

export interface ClientSession extends ClientRegistration {
  /** When the current settings were registered (clock ms). */
  readonly registeredAt: number;
  readonly lastSeen: number;
  readonly channel: TelemetryChannel | undefined;
}

export function isConsumerKind(kind: ClientKind): boolean {
  return kind !== 'PRODUCER';
}
