/**
 * Loopback port selection for the peers: the fixed defaults, or free ports drawn from AUTO_PORT_RANGE so
 * parallel runs (and a `make run` session) never collide. The broker needs three ports: its listen port,
 * listenPort-2 (fast channel) and listenPort+1 (HA).
 */
import { createServer } from 'node:net';
import {
  AUTO_PORT_RANGE,
  BROKER_FAST_PORT_OFFSET,
  BROKER_HA_PORT_OFFSET,
  DEFAULT_PORTS,
} from './versions.ts';

export interface PeerPorts {
  namesrv: number;
  broker: number;
}

/** `default`: the Apache defaults from versions.ts; `auto`: free ports; or explicit ports. */
export type PortChoice = 'default' | 'auto' | PeerPorts;

export const HOST = '127.0.0.1';

/** Every port the broker opens for a given listen port. */
export function brokerPortsFor(listenPort: number): number[] {
  return [listenPort + BROKER_FAST_PORT_OFFSET, listenPort, listenPort + BROKER_HA_PORT_OFFSET];
}

/** True when nothing listens on 127.0.0.1:port (checked by binding it for a moment). */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolvePromise(false));
    server.listen({ host: HOST, port, exclusive: true }, () => {
      server.close(() => resolvePromise(true));
    });
  });
}

async function allFree(ports: number[]): Promise<boolean> {
  for (const port of ports) {
    if (!(await isPortFree(port))) return false;
  }
  return true;
}

function randomPort(): number {
  const { min, max } = AUTO_PORT_RANGE;
  return min + Math.floor(Math.random() * (max - min + 1));
}

/** Free ports for a NameServer and a Broker (whose neighbours are free too). Racy by nature: callers retry. */
export async function allocatePorts(attempts = 200): Promise<PeerPorts> {
  for (let i = 0; i < attempts; i++) {
    const namesrv = randomPort();
    const broker = randomPort();
    const brokerPorts = brokerPortsFor(broker);
    if (brokerPorts.includes(namesrv) || brokerPorts.some((port) => port > AUTO_PORT_RANGE.max)) continue;
    if (await allFree([namesrv, ...brokerPorts])) return { namesrv, broker };
  }
  throw new Error(
    `no free ports found in ${AUTO_PORT_RANGE.min}-${AUTO_PORT_RANGE.max} after ${attempts} tries`,
  );
}

/** Reads `auto`, `default` or `<namesrv>,<broker>` (e.g. from RMQP_PORTS or a CLI flag); empty means `fallback`. */
export function parsePortChoice(value: string | undefined, fallback: PortChoice): PortChoice {
  const text = value?.trim();
  if (!text) return fallback;
  if (text === 'auto' || text === 'default') return text;
  const match = /^(\d{1,5}),(\d{1,5})$/.exec(text);
  if (!match) throw new Error(`ports must be "auto", "default" or "<namesrv>,<broker>", got "${text}"`);
  return { namesrv: Number(match[1]), broker: Number(match[2]) };
}

export async function resolvePorts(choice: PortChoice): Promise<PeerPorts> {
  if (choice === 'auto') return allocatePorts();
  const ports =
    choice === 'default' ? { namesrv: DEFAULT_PORTS.namesrv, broker: DEFAULT_PORTS.broker } : choice;
  const busy: number[] = [];
  for (const port of [ports.namesrv, ...brokerPortsFor(ports.broker)]) {
    if (!(await isPortFree(port))) busy.push(port);
  }
  if (busy.length > 0) {
    throw new Error(
      `ports ${busy.join(', ')} on ${HOST} are in use (another RocketMQ running?); stop it or use ports "auto"`,
    );
  }
  return ports;
}
