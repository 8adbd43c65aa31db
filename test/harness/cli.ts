/**
 * Harness command line:
 *   node test/harness/cli.ts fetch [--force]        cache the RocketMQ jars (`make peers`)
 *   node test/harness/cli.ts up [--ports auto]      run NameServer + Broker + topology until Ctrl-C
 */
import { Command } from 'commander';
import { PEER_ENV } from './env.ts';
import { ensureRocketmqJars } from './fetch.ts';
import { parsePortChoice } from './ports.ts';
import { startRocketMQ } from './rocketmq.ts';
import { createTopology, GROUPS, TOPICS } from './topology.ts';
import { ROCKETMQ_VERSION } from './versions.ts';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

async function fetchCommand(options: { force?: boolean }): Promise<void> {
  const libDir = await ensureRocketmqJars({ force: options.force, log });
  log(`Apache RocketMQ ${ROCKETMQ_VERSION} jars ready in ${libDir}`);
}

async function upCommand(options: { ports: string; keep?: boolean; topology: boolean }): Promise<void> {
  const rocketmq = await startRocketMQ({
    ports: parsePortChoice(options.ports, 'default'),
    keep: options.keep,
    log,
  });
  let stopping = false;
  const shutdown = (signal: NodeJS.Signals): void => {
    if (stopping) {
      // Second Ctrl-C: give up waiting; the exit hook SIGKILLs the JVMs.
      log(`${signal} again: killing the JVMs`);
      process.exit(130);
    }
    stopping = true;
    log(`${signal}: stopping RocketMQ (Ctrl-C again to kill)`);
    rocketmq.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        log(`stop failed: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  process.on('SIGHUP', shutdown);

  try {
    if (options.topology) await createTopology(rocketmq);
  } catch (error) {
    await rocketmq.stop({ graceMs: 2000 });
    throw error;
  }
  // Machine-readable on stdout (`eval "$(... up | head -4)"` style); commentary on stderr.
  process.stdout.write(
    [
      `${PEER_ENV.namesrvAddr}=${rocketmq.namesrvAddr}`,
      `${PEER_ENV.brokerAddr}=${rocketmq.brokerAddr}`,
      `${PEER_ENV.brokerName}=${rocketmq.brokerName}`,
      `${PEER_ENV.clusterName}=${rocketmq.clusterName}`,
      '',
    ].join('\n'),
  );
  if (options.topology) {
    log(`topics: ${Object.values(TOPICS).join(', ')}`);
    log(`groups: ${Object.values(GROUPS).join(', ')}`);
  }
  log(`RocketMQ ${ROCKETMQ_VERSION} is up (dir ${rocketmq.dir}); Ctrl-C to stop`);
  // Keep the event loop alive until a signal arrives.
  setInterval(() => {}, 1 << 30);
}

const program = new Command('rmqp-harness').description('Apache RocketMQ test peers for rmqproxy');
program
  .command('fetch')
  .description(`fetch the Apache RocketMQ ${ROCKETMQ_VERSION} jars from Maven Central into the cache`)
  .option('--force', 'refetch even if the cache is complete')
  .action(fetchCommand);
program
  .command('up')
  .description('start NameServer + Broker on 127.0.0.1, create the test topology, run until Ctrl-C')
  .option(
    '--ports <ports>',
    '"default", "auto" or "<namesrv>,<broker>"',
    process.env['RMQP_PORTS'] || 'default',
  )
  .option('--keep', 'keep the run directory (store, logs) after stopping')
  .option('--no-topology', 'do not create the test topics and groups')
  .action(upCommand);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  log(error instanceof Error ? error.message : String(error));
  process.exitCode = 1;
}
