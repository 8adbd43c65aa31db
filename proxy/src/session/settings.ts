/**
 * The settings the proxy grants a client when it registers: producers get the configured send
 * retries and the body cap; consumers get their group's redelivery policy and orderliness from the
 * broker, plus the proxy's batch size and long-polling time. Official clients depend on these (the
 * Node producer fails without a backoff policy; consumers read fifo and polling from here).
 */
import type { GroupConfig } from '../remoting/requests/admin.ts';
import type { ClientSettings } from './client-session.ts';
import { consumerRetryPolicy, type ProducerRetryConfig, producerRetryPolicy } from './retry-policy.ts';

export interface SettingsPolicy {
  readonly producer: ProducerRetryConfig;
  readonly maxBodyBytes: number;
  readonly receiveBatchSize: number;
  readonly longPollingTimeoutMs: number;
}

/** What the proxy tells a client beyond what the core keeps (the ingress writes it in its reply). */
export interface GrantedSettings extends ClientSettings {
  readonly maxBodyBytes: number;
  readonly receiveBatchSize: number;
  readonly longPollingTimeoutMs: number;
}

export function grantProducerSettings(
  policy: SettingsPolicy,
  requestTimeoutMs: number | undefined,
): GrantedSettings {
  return {
    ...serverValues(policy),
    retryPolicy: producerRetryPolicy(policy.producer),
    fifo: false,
    requestTimeoutMs,
  };
}

export function grantConsumerSettings(
  group: GroupConfig | undefined,
  policy: SettingsPolicy,
  requestTimeoutMs: number | undefined,
): GrantedSettings {
  return {
    ...serverValues(policy),
    retryPolicy: consumerRetryPolicy(group),
    fifo: group?.consumeMessageOrderly === true,
    requestTimeoutMs,
  };
}

function serverValues(
  policy: SettingsPolicy,
): Pick<GrantedSettings, 'maxBodyBytes' | 'receiveBatchSize' | 'longPollingTimeoutMs'> {
  return {
    maxBodyBytes: policy.maxBodyBytes,
    receiveBatchSize: policy.receiveBatchSize,
    longPollingTimeoutMs: policy.longPollingTimeoutMs,
  };
}
