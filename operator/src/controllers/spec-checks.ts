/**
 * What the operator checks before it changes anything: what the schema cannot express, and the proxy's
 * own configuration validation (so a pod never starts just to refuse its configuration).
 */
import { isIP } from 'node:net';
import type { ResolvedRocketMQProxy } from '../api/types.ts';
import { InvalidConfigError, type RenderedConfig, renderConfig } from '../resources/config.ts';
import type { Problem } from './problem.ts';

export function checkSpec(proxy: ResolvedRocketMQProxy): { config: RenderedConfig } | { problem: Problem } {
  if (proxy.spec.mode === 'Local')
    return {
      problem: {
        reason: 'LocalModeUnsupported',
        message: 'spec.mode Local is not implemented by this operator version; use Cluster',
      },
    };
  let config: RenderedConfig;
  try {
    config = renderConfig(proxy.spec);
  } catch (error) {
    if (!(error instanceof InvalidConfigError)) throw error;
    return {
      problem: {
        reason: 'InvalidConfig',
        message: `the proxy would refuse this configuration: ${error.problems.join('; ')}`,
      },
    };
  }
  // Not expressible in the schema without CEL's IP library (Kubernetes 1.31+): checked here instead.
  const badAddresses = proxy.spec.tls.enabled
    ? (proxy.spec.tls.ipAddresses ?? []).filter((ip) => isIP(ip) === 0)
    : [];
  if (badAddresses.length > 0)
    return {
      problem: {
        reason: 'InvalidConfig',
        message: `spec.tls.ipAddresses: not IP addresses: ${badAddresses.join(', ')}`,
      },
    };
  return { config };
}
