/**
 * The shape and rules of a complete configuration (after defaults, file, environment and flags are
 * merged). Objects are strict so a misspelt key is reported instead of silently ignored.
 */
import { z } from 'zod';
import { LOG_LEVELS, TLS_MODES } from './keys.ts';

const MiB = 1024 * 1024;
/** The Remoting frame cap: a larger body could not reach a broker anyway. */
export const MAX_BODY_BYTES_CEILING = 16 * MiB;

/** `host:port`, `[v6]:port`; port 1..65535. Returns undefined when the text is not one. */
export function parseHostPort(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65535) return undefined;
  return { host: (match[1] ?? match[2])!, port };
}

const hostPort = z.string().refine((text) => parseHostPort(text) !== undefined, {
  message: 'expected host:port with a port from 1 to 65535',
});
const host = z.string().min(1);
const port = z.number().int().min(0).max(65535);
const millis = z.number().int().min(1);

export const configSchema = z
  .strictObject({
    namesrv: z.strictObject({ addresses: z.array(hostPort).min(1) }),
    listen: z.strictObject({ host, port }),
    advertise: z.strictObject({ address: hostPort.optional() }),
    tls: z.strictObject({
      mode: z.enum(TLS_MODES),
      certFile: z.string().min(1).optional(),
      keyFile: z.string().min(1).optional(),
    }),
    admin: z.strictObject({ host, port }),
    limits: z.strictObject({
      maxBodyBytes: z.number().int().min(1).max(MAX_BODY_BYTES_CEILING),
      maxUserProperties: z.number().int().min(0),
      maxUserPropertyBytes: z.number().int().min(1),
      maxMessageGroupBytes: z.number().int().min(1),
      maxDelayMs: millis,
      maxTransactionRecoveryMs: millis,
    }),
    timeouts: z.strictObject({
      brokerRequestMs: millis,
      clientIdleMs: millis,
      shutdownGraceMs: z.number().int().min(0),
    }),
    routes: z.strictObject({ refreshMs: millis, expireMs: millis }),
    producer: z.strictObject({
      maxAttempts: z.number().int().min(1),
      backoffInitialMs: z.number().int().min(0),
      backoffMaxMs: z.number().int().min(0),
      backoffMultiplier: z.number().min(1),
    }),
    consumer: z.strictObject({ longPollingMinMs: z.number().int().min(0), longPollingMaxMs: millis }),
    log: z.strictObject({ level: z.enum(LOG_LEVELS) }),
  })
  .superRefine((config, ctx) => {
    const { certFile, keyFile } = config.tls;
    if ((certFile === undefined) !== (keyFile === undefined)) {
      const missing = certFile === undefined ? 'certFile' : 'keyFile';
      ctx.addIssue({
        code: 'custom',
        path: ['tls', missing],
        message:
          'expected tls.certFile and tls.keyFile together (set both, or neither for a self-signed one)',
      });
    }
    if (config.producer.backoffMaxMs < config.producer.backoffInitialMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['producer', 'backoffMaxMs'],
        message: `expected at least producer.backoffInitialMs (${config.producer.backoffInitialMs}), got ${config.producer.backoffMaxMs}`,
      });
    }
    if (config.consumer.longPollingMaxMs < config.consumer.longPollingMinMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['consumer', 'longPollingMaxMs'],
        message: `expected at least consumer.longPollingMinMs (${config.consumer.longPollingMinMs}), got ${config.consumer.longPollingMaxMs}`,
      });
    }
    if (config.routes.expireMs < config.routes.refreshMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['routes', 'expireMs'],
        message: `expected at least routes.refreshMs (${config.routes.refreshMs}), got ${config.routes.expireMs}`,
      });
    }
  });

export type ProxyConfig = z.infer<typeof configSchema>;
export type TlsMode = ProxyConfig['tls']['mode'];

/** grpc-js inbound cap: a SendMessage batch of 32 full-size bodies plus 2 MiB of envelope, as the Java proxy. */
export function maxReceiveMessageBytes(config: Pick<ProxyConfig, 'limits'>): number {
  return config.limits.maxBodyBytes * 32 + 2 * MiB;
}
