/**
 * node:test global setup for integration tests: starts a real NameServer + Broker on free loopback ports
 * (RMQP_PORTS overrides), creates the shared topology, and exports the addresses through environment
 * variables that every test-file process inherits (read them with test/harness/env.ts).
 *
 * If RMQP_NAMESRV_ADDR and RMQP_BROKER_ADDR are already set, those peers (e.g. `cli.ts up`) are used
 * instead and left running; only the topology is (idempotently) created on them.
 */
import { exportPeerEnv, peersFromEnv } from '../harness/env.ts';
import { parsePortChoice } from '../harness/ports.ts';
import { type RocketMQ, startRocketMQ } from '../harness/rocketmq.ts';
import { createTopology } from '../harness/topology.ts';

let started: RocketMQ | undefined;

const log = (line: string): void => {
  process.stderr.write(`[rocketmq] ${line}\n`);
};

export async function globalSetup(): Promise<void> {
  const external = peersFromEnv();
  if (external) {
    log(`using running peers: NameServer ${external.namesrvAddr}, broker ${external.brokerAddr}`);
    await createTopology(external);
    return;
  }
  const rocketmq = await startRocketMQ({ ports: parsePortChoice(process.env['RMQP_PORTS'], 'auto'), log });
  started = rocketmq;
  try {
    await createTopology(rocketmq);
  } catch (error) {
    started = undefined;
    await rocketmq.stop({ graceMs: 2000 });
    throw error;
  }
  exportPeerEnv(rocketmq);
}

export async function globalTeardown(): Promise<void> {
  const rocketmq = started;
  started = undefined;
  // The store is thrown away, so a long graceful broker shutdown buys nothing here.
  await rocketmq?.stop({ graceMs: Number(process.env['RMQP_STOP_GRACE_MS'] || 3000) });
}
