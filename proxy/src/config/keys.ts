/**
 * Every configuration key of the proxy in one table: its path in the YAML file, the value kind used to
 * read it from strings (environment variables and flags), its default and what it means. The
 * environment variable name is derived from the path, so the mapping needs no second table; the CLI,
 * the loader and docs/configuration.md all read this list.
 */

export type ValueKind = 'string' | 'integer' | 'number' | 'list' | 'enum';

export interface ConfigKey {
  /** Dotted path in the YAML file, e.g. `limits.maxBodyBytes`. */
  readonly path: string;
  readonly kind: ValueKind;
  /** `undefined` means "unset unless configured". */
  readonly default: string | number | readonly string[] | undefined;
  /** Long CLI flag with its argument placeholder, for the common keys only; others go through `--set`. */
  readonly flag?: string;
  readonly description: string;
}

export const TLS_MODES = ['disabled', 'permissive', 'enforcing'] as const;
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

const MiB = 1024 * 1024;

export const CONFIG_KEYS: readonly ConfigKey[] = [
  {
    path: 'namesrv.addresses',
    kind: 'list',
    default: ['127.0.0.1:9876'],
    flag: '--namesrv <host:port,...>',
    description: 'NameServer addresses (`host:port`), comma or semicolon separated in env and flags.',
  },
  {
    path: 'listen.host',
    kind: 'string',
    default: '0.0.0.0',
    flag: '--host <host>',
    description: 'Interface the gRPC port binds to.',
  },
  {
    path: 'listen.port',
    kind: 'integer',
    default: 8081,
    flag: '--port <port>',
    description: 'gRPC port; TLS and plaintext share it (0 picks a free port).',
  },
  {
    path: 'advertise.address',
    kind: 'string',
    default: undefined,
    flag: '--advertise <host:port>',
    description:
      'Address written into routes so clients reconnect to this proxy. Unset: the access point each client was configured with (its endpoints).',
  },
  {
    path: 'tls.mode',
    kind: 'enum',
    default: 'permissive',
    flag: '--tls-mode <mode>',
    description:
      '`disabled` (plaintext only), `permissive` (TLS and plaintext on one port), `enforcing` (TLS only).',
  },
  {
    path: 'tls.certFile',
    kind: 'string',
    default: undefined,
    flag: '--tls-cert <file>',
    description: 'PEM certificate chain. Unset with TLS on: a self-signed certificate is generated at start.',
  },
  {
    path: 'tls.keyFile',
    kind: 'string',
    default: undefined,
    flag: '--tls-key <file>',
    description: 'PEM private key of `tls.certFile` (set both or neither).',
  },
  {
    path: 'admin.host',
    kind: 'string',
    default: '0.0.0.0',
    description:
      'Interface of the admin HTTP port (`/metrics` there has no authentication: see docs/security.md).',
  },
  {
    path: 'admin.port',
    kind: 'integer',
    default: 8082,
    flag: '--admin-port <port>',
    description: 'Admin HTTP port serving `/livez`, `/readyz` and `/metrics` (0 picks a free port).',
  },
  {
    path: 'limits.maxBodyBytes',
    kind: 'integer',
    default: 4 * MiB,
    flag: '--max-body-bytes <bytes>',
    description:
      'Largest message body accepted (at most 16 MiB, the Remoting frame cap). Also sizes the gRPC inbound cap.',
  },
  {
    path: 'limits.maxUserProperties',
    kind: 'integer',
    default: 128,
    description: 'Most user properties on one message.',
  },
  {
    path: 'limits.maxUserPropertyBytes',
    kind: 'integer',
    default: 16 * 1024,
    description: 'Largest total UTF-8 size of user properties, tag and keys of one message.',
  },
  {
    path: 'limits.maxMessageGroupBytes',
    kind: 'integer',
    default: 64,
    description: 'A FIFO message group must be shorter than this many UTF-8 bytes.',
  },
  {
    path: 'limits.maxDelayMs',
    kind: 'integer',
    default: 24 * 60 * 60 * 1000,
    description: 'Furthest delivery time of a delay message, from now.',
  },
  {
    path: 'limits.maxTransactionRecoveryMs',
    kind: 'integer',
    default: 60 * 60 * 1000,
    description: 'Longest `orphaned_transaction_recovery_duration` a transactional message may ask for.',
  },
  {
    path: 'timeouts.brokerRequestMs',
    kind: 'integer',
    default: 3000,
    description: 'Timeout of one request to a NameServer or Broker (a shorter gRPC deadline wins).',
  },
  {
    path: 'timeouts.clientIdleMs',
    kind: 'integer',
    default: 120_000,
    description: 'A gRPC connection without calls for this long is closed (GOAWAY).',
  },
  {
    path: 'timeouts.shutdownGraceMs',
    kind: 'integer',
    default: 30_000,
    description: 'On SIGINT/SIGTERM, how long running calls may finish before connections are cut.',
  },
  {
    path: 'routes.refreshMs',
    kind: 'integer',
    default: 20_000,
    description: 'A cached topic route older than this is refreshed from the NameServer.',
  },
  {
    path: 'routes.expireMs',
    kind: 'integer',
    default: 300_000,
    description: 'A cached topic route nobody asked for during this long is dropped.',
  },
  {
    path: 'producer.maxAttempts',
    kind: 'integer',
    default: 3,
    description: 'Send attempts (first try included) told to producers in Settings.',
  },
  {
    path: 'producer.backoffInitialMs',
    kind: 'integer',
    default: 10,
    description: 'First retry delay told to producers.',
  },
  {
    path: 'producer.backoffMaxMs',
    kind: 'integer',
    default: 1000,
    description: 'Largest retry delay told to producers.',
  },
  {
    path: 'producer.backoffMultiplier',
    kind: 'number',
    default: 2,
    description: 'Growth factor of the producer retry delay.',
  },
  {
    path: 'consumer.longPollingMinMs',
    kind: 'integer',
    default: 5000,
    description: 'Shortest long-polling wait of a ReceiveMessage call.',
  },
  {
    path: 'consumer.longPollingMaxMs',
    kind: 'integer',
    default: 20_000,
    description: 'Longest long-polling wait of a ReceiveMessage call (also told to consumers).',
  },
  {
    path: 'log.level',
    kind: 'enum',
    default: 'info',
    flag: '--log-level <level>',
    description: `Log level: ${LOG_LEVELS.join(', ')}.`,
  },
];

/** `limits.maxBodyBytes` → `RMQP_LIMITS_MAX_BODY_BYTES`. */
export function envVarName(path: string): string {
  return `RMQP_${path
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/\./g, '_')
    .toUpperCase()}`;
}

/** Variables outside the RMQP_ scheme that RocketMQ users already set; they lose to the RMQP_ names. */
export const LEGACY_ENV: Readonly<Record<string, string>> = { NAMESRV_ADDR: 'namesrv.addresses' };

const keysByPath = new Map(CONFIG_KEYS.map((key) => [key.path, key]));

export function configKey(path: string): ConfigKey | undefined {
  return keysByPath.get(path);
}
