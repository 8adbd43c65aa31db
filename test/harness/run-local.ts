/**
 * `make run`: a local RocketMQ (the harness's NameServer + Broker, or an external NameServer named by
 * RMQP_NAMESRV_ADDR / NAMESRV_ADDR), sample topics of every type, and the proxy on 127.0.0.1:8081
 * (RMQP_LISTEN_PORT etc. override, as for `rocketmq-proxy serve`). Prints the endpoint and a client
 * example; Ctrl-C stops everything.
 */
import { startProxy } from '../../proxy/src/cli/serve.ts';
import { ConfigError, resolveConfig } from '../../proxy/src/config/index.ts';
import { createLogger } from '../../proxy/src/observability/logger.ts';
import {
  clusterInfoRequest,
  masterAddress,
  parseClusterInfo,
} from '../../proxy/src/remoting/requests/route.ts';
import { parsePortChoice } from './ports.ts';
import { call } from './remoting.ts';
import { type RocketMQ, startRocketMQ } from './rocketmq.ts';
import { createTopology, GROUPS, TOPICS } from './topology.ts';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function externalBroker(namesrvAddr: string): Promise<string> {
  const info = await call(namesrvAddr, clusterInfoRequest(), parseClusterInfo);
  for (const broker of info.brokers.values()) {
    const address = masterAddress(broker);
    if (address !== undefined) return address;
  }
  throw new Error(`the NameServer at ${namesrvAddr} knows no broker master`);
}

function example(endpoint: string): string {
  return [
    'mkdir -p /tmp/rmq-demo && cd /tmp/rmq-demo && npm init -y >/dev/null && npm install rocketmq-client-nodejs',
    "cat > send.mjs <<'JS'",
    "import { Producer } from 'rocketmq-client-nodejs';",
    `const producer = new Producer({ endpoints: '${endpoint}', namespace: '', topics: ['${TOPICS.normal}'] });`,
    'await producer.startup();',
    `const receipt = await producer.send({ topic: '${TOPICS.normal}', tag: 'demo', body: Buffer.from('hello rocketmq') });`,
    "console.log('sent', receipt.messageId);",
    'await producer.shutdown();',
    'JS',
    'node send.mjs',
  ].join('\n');
}

async function main(): Promise<void> {
  const external = process.env['RMQP_NAMESRV_ADDR'] || process.env['NAMESRV_ADDR'];
  let rocketmq: RocketMQ | undefined;
  let namesrvAddr: string;
  if (external) {
    namesrvAddr = external.split(/[;,]/)[0]!.trim();
    log(`using the NameServer at ${namesrvAddr}`);
    await createTopology({ namesrvAddr, brokerAddr: await externalBroker(namesrvAddr) });
  } else {
    log('starting a local RocketMQ NameServer + Broker (first run downloads the jars) ...');
    rocketmq = await startRocketMQ({ ports: parsePortChoice(process.env['RMQP_PORTS'], 'auto'), log });
    namesrvAddr = rocketmq.namesrvAddr;
    try {
      await createTopology(rocketmq);
    } catch (error) {
      await rocketmq.stop({ graceMs: 2000 });
      throw error;
    }
  }

  const { config } = resolveConfig({
    // Defaults for a laptop; RMQP_* variables still override them.
    flags: { 'listen.host': '127.0.0.1', 'admin.host': '127.0.0.1', 'namesrv.addresses': namesrvAddr },
    env: process.env,
  });
  const logger = createLogger(config.log.level === 'info' ? 'warn' : config.log.level);
  const proxy = await startProxy(config, logger);
  const endpoint = `127.0.0.1:${proxy.grpc.port}`;

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) process.exit(130);
    stopping = true;
    log(`${signal}: stopping the proxy and RocketMQ (Ctrl-C again to kill)`);
    void (async () => {
      await proxy.close().catch(() => undefined);
      await rocketmq?.stop({ graceMs: 5000 }).catch(() => undefined);
      process.exit(0);
    })();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  process.stdout.write(
    [
      '',
      `rocketmq-proxy is ready: gRPC endpoint ${endpoint} (plaintext${config.tls.mode === 'disabled' ? '' : ' and TLS'}), admin http://127.0.0.1:${proxy.admin.port}/metrics`,
      `NameServer ${namesrvAddr}${rocketmq ? `, broker ${rocketmq.brokerAddr}` : ''}`,
      `topics: ${Object.entries(TOPICS)
        .map(([kind, name]) => `${name} (${kind})`)
        .join(', ')}`,
      `consumer groups: ${Object.values(GROUPS).join(', ')}`,
      '',
      'Publish a message from another terminal (Node 18+):',
      example(endpoint),
      '',
      'Ctrl-C stops everything.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  log(
    error instanceof ConfigError
      ? error.message
      : `make run failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exit(1);
});
