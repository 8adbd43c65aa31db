#!/usr/bin/env node
/** rocketmq-proxy-operator: the CLI entry point (`rocketmq-proxy-operator run`). */
import { Command, InvalidArgumentError } from 'commander';
import { pino } from 'pino';
import { startOperator } from './operator.ts';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port 0-65535');
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InvalidArgumentError('expected an integer 1-64');
  return n;
}

const program = new Command('rocketmq-proxy-operator').description(
  'Kubernetes operator for RocketMQProxy resources',
);

program
  .command('run')
  .description('reconcile RocketMQProxy resources until SIGTERM')
  .option(
    '--kubeconfig <file>',
    'kubeconfig file (default: in-cluster service account, else $KUBECONFIG/~/.kube/config)',
  )
  .option('--namespaces <list>', 'comma-separated namespaces to watch (default: all)', '')
  .option('--http-port <port>', 'port for /healthz, /readyz and /metrics', port, 8080)
  .option('--http-host <host>', 'interface for the HTTP port', '0.0.0.0')
  .option('--workers <n>', 'concurrent reconciles (never two for one resource)', positive, 4)
  .option('--no-leader-elect', 'do not take part in Lease leader election (run one replica only)')
  .option(
    '--lease-namespace <ns>',
    'namespace of the leader-election Lease (default: $POD_NAMESPACE or default)',
  )
  .option('--log-level <level>', 'trace|debug|info|warn|error', 'info')
  .action(
    async (opts: {
      kubeconfig?: string;
      namespaces: string;
      httpPort: number;
      httpHost: string;
      workers: number;
      leaderElect: boolean;
      leaseNamespace?: string;
      logLevel: string;
    }) => {
      const logger = pino({ level: opts.logLevel, base: { component: 'rocketmq-proxy-operator' } });
      const log = {
        info: (m: string) => logger.info(m),
        warn: (m: string) => logger.warn(m),
        error: (m: string) => logger.error(m),
      };
      const namespaces = opts.namespaces
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      // Signal handlers first: a SIGTERM while starting (a standby waiting for the Lease, informers
      // listing) must still end the process cleanly rather than by the default signal action.
      let operator: Awaited<ReturnType<typeof startOperator>> | undefined;
      let signals = 0;
      const stopNow = (running: Awaited<ReturnType<typeof startOperator>>): void => {
        log.info('shutting down');
        running.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            log.error(`shutdown: ${String(error)}`);
            process.exit(1);
          },
        );
      };
      const shutdown = (): void => {
        if (++signals > 1) process.exit(1);
        // Not started yet: nothing is reconciling and no Lease is held for long (it expires).
        if (operator) stopNow(operator);
        else process.exit(0);
      };
      process.on('SIGTERM', shutdown);
      process.on('SIGINT', shutdown);
      try {
        operator = await startOperator({
          kubeconfig: opts.kubeconfig,
          namespaces,
          workers: opts.workers,
          httpPort: opts.httpPort,
          httpHost: opts.httpHost,
          leaderElection: opts.leaderElect
            ? { namespace: opts.leaseNamespace ?? process.env['POD_NAMESPACE'] ?? 'default' }
            : undefined,
          log,
        });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        process.stderr.write(`rocketmq-proxy-operator: cannot start: ${reason}\n`);
        process.exit(2);
      }
      log.info(
        `running; watching ${namespaces.length > 0 ? namespaces.join(', ') : 'all namespaces'}; http :${operator.httpPort}`,
      );
    },
  );

await program.parseAsync(process.argv);
