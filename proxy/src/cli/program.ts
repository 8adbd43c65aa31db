/**
 * The `rocketmq-proxy` command line. `runCli` returns the exit code instead of exiting, so tests can
 * drive it: 0 success, 1 a runtime failure (e.g. the port is taken), 2 a usage or configuration error.
 */
import { Command, CommanderError, Option } from 'commander';
import pkg from '../../../package.json' with { type: 'json' };
import { CONFIG_KEYS, envVarName } from '../config/keys.ts';
import { ConfigError } from '../config/layers.ts';
import { loadConfig } from '../config/load.ts';
import { createLogger } from '../observability/logger.ts';
import { startProxy } from './serve.ts';

export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM). */
  readonly stopSignal: () => Promise<string>;
}

const OVERVIEW =
  'A gRPC front door for Apache RocketMQ: official RocketMQ 5 clients (Java, Go, Node.js, Python, ...) ' +
  'connect to this proxy, which talks to your NameServer and Brokers.';

const PROGRAM_GUIDE = `
Getting started:
  rocketmq-proxy serve --namesrv 127.0.0.1:9876    # gRPC on :8081, admin HTTP on :8082
  rocketmq-proxy serve --help                      # every option, env variable and example`;

const SERVE_GUIDE = `
Where settings come from (later wins):
  built-in defaults < YAML file (--config) < environment (RMQP_*) < flags

Every key has an environment variable: RMQP_ + the key path in upper snake case,
e.g. limits.maxBodyBytes -> RMQP_LIMITS_MAX_BODY_BYTES. Keys without a flag of their
own can be set with --set key=value. The full list is in docs/configuration.md.

Examples:
  rocketmq-proxy serve --namesrv 127.0.0.1:9876
  rocketmq-proxy serve --config proxy.yaml --port 8081 --tls-mode disabled
  RMQP_LOG_LEVEL=debug rocketmq-proxy serve --set routes.refreshMs=10000
  rocketmq-proxy serve --config proxy.yaml --print-config   # check the merged result

Ports: gRPC clients connect to --port (TLS and plaintext on the same port);
/livez, /readyz and /metrics are served over HTTP on --admin-port.
Stop with Ctrl-C (SIGINT) or SIGTERM: running calls get timeouts.shutdownGraceMs to finish.`;

function flagDescription(path: string): string {
  const key = CONFIG_KEYS.find((candidate) => candidate.path === path)!;
  const fallback = Array.isArray(key.default) ? key.default.join(',') : key.default;
  const defaults = fallback === undefined ? '' : `default ${fallback}, `;
  return `${key.description.replace(/\.$/, '')} (${defaults}env ${envVarName(path)}, key ${path})`;
}

export function buildProgram(io: CliIo, onExitCode: (code: number) => void): Command {
  const program = new Command('rocketmq-proxy')
    .description(OVERVIEW)
    .version(pkg.version, '-V, --version', 'print the version and exit')
    .helpOption('-h, --help', 'show help')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .addHelpText('after', PROGRAM_GUIDE)
    .exitOverride();

  const serve = program
    .command('serve')
    .description('start the proxy: the gRPC port for clients and the admin HTTP port')
    .addOption(new Option('-c, --config <file>', 'YAML configuration file'))
    .addOption(
      new Option('--set <key=value>', 'set any configuration key (repeatable)').argParser(
        (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
      ),
    )
    .addOption(new Option('--print-config', 'print the merged configuration as YAML and exit'))
    .addHelpText('after', SERVE_GUIDE);

  const flagPaths = new Map<string, string>();
  for (const key of CONFIG_KEYS) {
    if (key.flag === undefined) continue;
    const option = new Option(key.flag, flagDescription(key.path));
    flagPaths.set(option.attributeName(), key.path);
    serve.addOption(option);
  }

  serve.action(async (options: Record<string, unknown>) => {
    const flags: Record<string, string> = {};
    for (const [attribute, path] of flagPaths) {
      const value = options[attribute];
      if (typeof value === 'string') flags[path] = value;
    }
    onExitCode(
      await runServe(io, {
        ...(typeof options['config'] === 'string' ? { configFile: options['config'] } : {}),
        flags,
        sets: (options['set'] as string[] | undefined) ?? [],
        printConfig: options['printConfig'] === true,
      }),
    );
  });
  return program;
}

interface ServeArgs {
  readonly configFile?: string;
  readonly flags: Record<string, string>;
  readonly sets: string[];
  readonly printConfig: boolean;
}

async function runServe(io: CliIo, args: ServeArgs): Promise<number> {
  let resolved: Awaited<ReturnType<typeof loadConfig>>;
  try {
    resolved = await loadConfig({ ...args, env: io.env });
  } catch (error) {
    if (error instanceof ConfigError) {
      io.stderr(`rocketmq-proxy: ${error.message}\n`);
      return EXIT_USAGE;
    }
    throw error;
  }
  if (args.printConfig) {
    // Loaded here only: the YAML library is 72 modules a plain start does not need.
    const { stringify } = await import('yaml');
    io.stdout(stringify(resolved.config));
    return EXIT_OK;
  }
  const logger = createLogger(resolved.config.log.level);
  for (const warning of resolved.warnings) logger.warn(warning);
  logger.info({ config: resolved.config }, `rocketmq-proxy ${pkg.version} starting`);
  let proxy: Awaited<ReturnType<typeof startProxy>>;
  try {
    proxy = await startProxy(resolved.config, logger);
  } catch (error) {
    logger.fatal({ err: error }, 'could not start');
    io.stderr(`rocketmq-proxy: could not start: ${(error as Error).message}\n`);
    return EXIT_RUNTIME;
  }
  const signal = await io.stopSignal();
  logger.info({ signal }, 'shutting down gracefully');
  await proxy.close();
  logger.info('stopped');
  return EXIT_OK;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let exitCode = EXIT_OK;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    io.stderr(`rocketmq-proxy: ${(error as Error).stack ?? String(error)}\n`);
    return EXIT_RUNTIME;
  }
  return exitCode;
}
