/**
 * node:test global setup for the end-to-end scenarios: a real NameServer + Broker (as for the integration
 * tests, plus recall enabled), the shared topology, the Java client driver built into the cache, and the
 * Apache RocketMQ Java proxy in cluster mode in front of them.
 *
 * The endpoint under test is this project's proxy, started here as a separate process
 * (`RMQP_E2E_TARGET=apache-java` tests the Java proxy instead, to validate the scenarios themselves;
 * an RMQP_PROXY_ENDPOINT already set tests that endpoint). The Java proxy runs either way, as the
 * reference for differential checks. RMQP_NAMESRV_ADDR/RMQP_BROKER_ADDR reuse running peers.
 */
import { exportPeerEnv, peersFromEnv } from '../harness/env.ts';
import { ensureJavaClient } from '../harness/java-client.ts';
import { type JavaProxy, startJavaProxy } from '../harness/java-proxy.ts';
import { type OurProxy, startOurProxy } from '../harness/our-proxy.ts';
import { parsePortChoice } from '../harness/ports.ts';
import { type RocketMQ, startRocketMQ } from '../harness/rocketmq.ts';
import { createTopology } from '../harness/topology.ts';
import { APACHE_JAVA, RMQPROXY, TARGET_ENV } from './support/target.ts';

/** Broker settings the scenarios need on top of the harness defaults. */
export const E2E_BROKER_CONFIG = {
  // RecallMessage is refused by the broker unless enabled (off by default in 5.4.0).
  recallMessageEnable: true,
  // The Java proxy registers a transactional topic's producer group at the broker only on its next
  // transaction heartbeat (every 20 s); checks before that find no channel and still count. 15 checks
  // every 3 s keep an unresolved half message alive long enough to reach the client's checker.
  transactionCheckMax: 15,
} as const;

let startedPeers: RocketMQ | undefined;
let startedProxy: JavaProxy | undefined;
let startedOurProxy: OurProxy | undefined;

const log = (line: string): void => {
  process.stderr.write(`[e2e] ${line}\n`);
};

export async function globalSetup(): Promise<void> {
  const began = Date.now();
  // Build the Java client while the JVMs start: both are slow on a 2-core machine.
  const javaClient = ensureJavaClient({ log });
  javaClient.catch(() => {});
  try {
    let peers = peersFromEnv();
    if (peers) {
      log(`using running peers: NameServer ${peers.namesrvAddr}, broker ${peers.brokerAddr}`);
    } else {
      startedPeers = await startRocketMQ({
        ports: parsePortChoice(process.env['RMQP_PORTS'], 'auto'),
        brokerConfig: E2E_BROKER_CONFIG,
        log,
      });
      peers = startedPeers;
    }
    // Topics must exist before the Java proxy first looks them up (it caches routes and topic types).
    await createTopology(peers);
    exportPeerEnv(peers);
    startedProxy = await startJavaProxy({ namesrvAddr: peers.namesrvAddr, log });
    process.env[TARGET_ENV.javaProxyEndpoint] = startedProxy.grpcEndpoint;
    if (!process.env[TARGET_ENV.endpoint]) {
      if (process.env['RMQP_E2E_TARGET'] === APACHE_JAVA) {
        process.env[TARGET_ENV.endpoint] = startedProxy.grpcEndpoint;
        process.env[TARGET_ENV.kind] = APACHE_JAVA;
      } else {
        startedOurProxy = await startOurProxy({ namesrvAddr: peers.namesrvAddr, log });
        process.env[TARGET_ENV.endpoint] = startedOurProxy.grpcEndpoint;
        process.env[TARGET_ENV.kind] = RMQPROXY;
      }
    }
    await javaClient;
    log(
      `endpoint under test: ${process.env[TARGET_ENV.endpoint]} (${process.env[TARGET_ENV.kind] || 'external'}), ` +
        `set up in ${Date.now() - began} ms`,
    );
  } catch (error) {
    await globalTeardown();
    throw error;
  }
}

export async function globalTeardown(): Promise<void> {
  const proxy = startedProxy;
  const ours = startedOurProxy;
  const peers = startedPeers;
  startedProxy = undefined;
  startedOurProxy = undefined;
  startedPeers = undefined;
  const graceMs = Number(process.env['RMQP_STOP_GRACE_MS'] || 3000);
  await ours?.stop({ graceMs });
  await proxy?.stop({ graceMs });
  await peers?.stop({ graceMs });
}
