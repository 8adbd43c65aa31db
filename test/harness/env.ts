/**
 * How integration tests find the peers: the global setup (one process) starts them and exports their
 * addresses as environment variables, which node:test hands down to every test-file process.
 */
import { TOPICS } from './topology.ts';

export { BROKER_TIMINGS } from './rocketmq.ts';
export { GROUP_SPECS, GROUPS, PRODUCER_GROUPS, TOPIC_LAYOUT, TOPICS } from './topology.ts';

export const PEER_ENV = {
  namesrvAddr: 'RMQP_NAMESRV_ADDR',
  brokerAddr: 'RMQP_BROKER_ADDR',
  brokerName: 'RMQP_BROKER_NAME',
  clusterName: 'RMQP_CLUSTER_NAME',
} as const;

export interface PeerInfo {
  /** `127.0.0.1:<port>` of the NameServer. */
  namesrvAddr: string;
  /** `127.0.0.1:<port>` of the master broker. */
  brokerAddr: string;
  brokerName: string;
  clusterName: string;
}

/** Writes the peer addresses into `env` (the global setup's own process.env, inherited by test files). */
export function exportPeerEnv(peers: PeerInfo, env: NodeJS.ProcessEnv = process.env): void {
  for (const key of Object.keys(PEER_ENV) as (keyof PeerInfo)[]) env[PEER_ENV[key]] = peers[key];
}

/** The peer addresses exported by the global setup, or undefined when none were exported. */
export function peersFromEnv(env: NodeJS.ProcessEnv = process.env): PeerInfo | undefined {
  const namesrvAddr = env[PEER_ENV.namesrvAddr];
  const brokerAddr = env[PEER_ENV.brokerAddr];
  if (!namesrvAddr || !brokerAddr) return undefined;
  return {
    namesrvAddr,
    brokerAddr,
    brokerName: env[PEER_ENV.brokerName] || 'broker-a',
    clusterName: env[PEER_ENV.clusterName] || 'DefaultCluster',
  };
}

/** The running peers, for integration tests; throws a helpful error outside the integration run. */
export function peers(env: NodeJS.ProcessEnv = process.env): PeerInfo {
  const found = peersFromEnv(env);
  if (found) return found;
  throw new Error(
    `${PEER_ENV.namesrvAddr}/${PEER_ENV.brokerAddr} are not set: run integration tests with ` +
      '`make test-integration`, or `node --test --test-global-setup=test/integration/global-setup.ts <file>`, ' +
      `or point them at peers started by \`node test/harness/cli.ts up\` (topics: ${Object.values(TOPICS).join(', ')})`,
  );
}
