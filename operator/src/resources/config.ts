/**
 * The proxy configuration file (proxy.yaml) rendered from the spec, checked with the proxy's own loader
 * (so the operator refuses exactly what the proxy would refuse at start), and its hash, which goes into
 * the pod template so a configuration change — and nothing else — rolls the pods.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { ConfigError, resolveConfig } from '../../../proxy/src/config/index.ts';
import type { ResolvedSpec } from '../api/types.ts';

export const CONFIG_DIR = '/etc/rocketmq-proxy';
export const CONFIG_FILE_NAME = 'proxy.yaml';
export const TLS_DIR = '/etc/rocketmq-proxy/tls';

export interface RenderedConfig {
  yaml: string;
  hash: string;
}

/** Thrown for a spec the proxy would refuse; the reconciler turns it into Degraded/InvalidConfig. */
export class InvalidConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`invalid proxy configuration: ${problems.join('; ')}`);
    this.name = 'InvalidConfigError';
    this.problems = problems;
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (typeof next === 'object' && next !== null && !Array.isArray(next))
      node = next as Record<string, unknown>;
    else {
      const created: Record<string, unknown> = {};
      node[part] = created;
      node = created;
    }
  }
  node[parts.at(-1)!] = value;
}

export function renderConfig(spec: ResolvedSpec): RenderedConfig {
  const tree: Record<string, unknown> = {};
  // User keys first (sorted, so the hash does not depend on key order), then the managed ones.
  for (const key of Object.keys(spec.config ?? {}).sort()) setPath(tree, key, spec.config?.[key]);
  setPath(tree, 'namesrv.addresses', spec.nameServers.addresses);
  setPath(tree, 'listen.host', '0.0.0.0');
  setPath(tree, 'listen.port', spec.ports.grpc);
  setPath(tree, 'admin.host', '0.0.0.0');
  setPath(tree, 'admin.port', spec.ports.admin);
  setPath(tree, 'tls.mode', spec.tls.enabled ? spec.tls.mode.toLowerCase() : 'disabled');
  if (spec.tls.enabled) {
    setPath(tree, 'tls.certFile', `${TLS_DIR}/tls.crt`);
    setPath(tree, 'tls.keyFile', `${TLS_DIR}/tls.key`);
  }
  const yaml = `# Rendered by rocketmq-proxy-operator from the RocketMQProxy spec; edits are overwritten.\n${stringify(tree, { sortMapEntries: true })}`;
  try {
    resolveConfig({ file: { name: 'spec.config', text: yaml } });
  } catch (error) {
    if (error instanceof ConfigError) throw new InvalidConfigError(error.problems);
    throw error;
  }
  return { yaml, hash: createHash('sha256').update(yaml).digest('hex').slice(0, 16) };
}
