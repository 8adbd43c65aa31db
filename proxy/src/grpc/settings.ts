/**
 * Client Settings as the proxy answers them over Telemetry: the client's own values echoed, with the
 * settings the core granted filled in (the Java proxy answers the same way). Official clients depend
 * on it: the Node producer crashes without `backoffPolicy.exponentialBackoff`, and consumers read
 * fifo, batch size and long polling from here.
 */
import type { ExpressionType, Subscription } from '../remoting/requests/heartbeat.ts';
import type { ClientKind } from '../session/client-session.ts';
import type { RetryPolicy } from '../session/retry-policy.ts';
import type { DeclaredSettings } from '../session/session-service.ts';
import type { GrantedSettings } from '../session/settings.ts';
import { type apache, v2 } from './protocol.ts';

export type SettingsMessage = apache.rocketmq.v2.Settings.$Properties;
type DurationMessage = { seconds: number; nanos: number };

const CLIENT_KINDS: ReadonlyMap<number, ClientKind> = new Map<number, ClientKind>([
  [v2.ClientType.PRODUCER, 'PRODUCER'],
  [v2.ClientType.PUSH_CONSUMER, 'PUSH_CONSUMER'],
  [v2.ClientType.SIMPLE_CONSUMER, 'SIMPLE_CONSUMER'],
  [v2.ClientType.PULL_CONSUMER, 'PULL_CONSUMER'],
  [v2.ClientType.LITE_PUSH_CONSUMER, 'LITE_PUSH_CONSUMER'],
  [v2.ClientType.LITE_SIMPLE_CONSUMER, 'LITE_SIMPLE_CONSUMER'],
]);

export function clientKindOf(type: number | null | undefined): ClientKind | undefined {
  return type === null || type === undefined ? undefined : CLIENT_KINDS.get(type);
}

export function durationOf(ms: number): DurationMessage {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1_000_000) };
}

export function millisOf(
  duration: { seconds?: number | null; nanos?: number | null } | null | undefined,
): number | undefined {
  if (duration === null || duration === undefined) return undefined;
  return (duration.seconds ?? 0) * 1000 + Math.floor((duration.nanos ?? 0) / 1_000_000);
}

export function retryPolicyMessage(policy: RetryPolicy): apache.rocketmq.v2.RetryPolicy.$Properties {
  if (policy.exponential !== undefined) {
    return {
      maxAttempts: policy.maxAttempts,
      exponentialBackoff: {
        initial: durationOf(policy.exponential.initialMs),
        max: durationOf(policy.exponential.maxMs),
        multiplier: policy.exponential.multiplier,
      },
    };
  }
  return {
    maxAttempts: policy.maxAttempts,
    customizedBackoff: { next: (policy.customizedMs ?? []).map(durationOf) },
  };
}

/** The producer reply: the client's settings plus retry policy, body cap and type validation. */
export function producerSettingsReply(client: SettingsMessage, granted: GrantedSettings): SettingsMessage {
  return {
    ...client,
    backoffPolicy: retryPolicyMessage(granted.retryPolicy),
    publishing: {
      ...client.publishing,
      topics: client.publishing?.topics ?? [],
      maxBodySize: granted.maxBodyBytes,
      validateMessageType: true,
    },
    metric: { on: false },
  };
}

/** The consumer reply: the client's settings plus the group's retry policy, fifo flag and polling. */
export function consumerSettingsReply(client: SettingsMessage, granted: GrantedSettings): SettingsMessage {
  return {
    ...client,
    backoffPolicy: retryPolicyMessage(granted.retryPolicy),
    subscription: {
      ...client.subscription,
      subscriptions: client.subscription?.subscriptions ?? [],
      fifo: granted.fifo,
      receiveBatchSize: granted.receiveBatchSize,
      longPollingTimeout: durationOf(granted.longPollingTimeoutMs),
    },
    metric: { on: false },
  };
}

/** What the client declares in its Settings, for the core's session service. */
export function declaredSettingsOf(settings: SettingsMessage): DeclaredSettings {
  const publishing = settings.publishing ?? undefined;
  const subscription = settings.subscription ?? undefined;
  return {
    kind: clientKindOf(settings.clientType),
    publishing:
      publishing === undefined
        ? undefined
        : { topics: (publishing.topics ?? []).map((topic) => topic.name ?? '') },
    subscription:
      subscription === undefined
        ? undefined
        : { group: subscription.group?.name ?? '', subscriptions: subscriptionsOf(settings) },
    requestTimeoutMs: millisOf(settings.requestTimeout),
  };
}

/** The subscriptions of consumer settings, as brokers register them. */
export function subscriptionsOf(settings: SettingsMessage): Subscription[] {
  return (settings.subscription?.subscriptions ?? []).map((entry) => {
    const sql = entry.expression?.type === v2.FilterType.SQL;
    const expressionType: ExpressionType = sql ? 'SQL92' : 'TAG';
    return {
      topic: entry.topic?.name ?? '',
      expression: entry.expression?.expression ?? '*',
      expressionType,
    };
  });
}
