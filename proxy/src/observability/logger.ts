/** The process logger: JSON lines (pino) on stdout, level from `log.level`. */
import { type DestinationStream, type Logger, pino } from 'pino';
import type { ProxyConfig } from '../config/schema.ts';

export type { Logger };

export function createLogger(level: ProxyConfig['log']['level'], destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'rocketmq-proxy' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Errors keep their stack and cause under `err`, the key pino's serializer knows.
    serializers: { err: pino.stdSerializers.err },
  };
  return destination ? pino(options, destination) : pino(options);
}
