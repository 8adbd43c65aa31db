/** Readiness checks used by /readyz. */
import { connect } from 'node:net';
import { parseHostPort } from '../config/schema.ts';

export type ReadinessCheck = () => boolean | Promise<boolean>;

/** True when at least one of the `host:port` addresses accepts a TCP connection within the timeout. */
export async function anyReachable(addresses: readonly string[], timeoutMs: number): Promise<boolean> {
  const attempts = addresses.map((address) => tcpReachable(address, timeoutMs));
  return (await Promise.all(attempts)).some(Boolean);
}

export function tcpReachable(address: string, timeoutMs: number): Promise<boolean> {
  const target = parseHostPort(address);
  if (!target) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ host: target.host, port: target.port });
    const done = (ok: boolean) => {
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Reuses a check's answer for `ttlMs` so frequent probes do not each open connections. */
export function cached(check: ReadinessCheck, ttlMs: number, now: () => number = Date.now): ReadinessCheck {
  let last: { at: number; value: Promise<boolean> } | undefined;
  return () => {
    const time = now();
    if (!last || time - last.at >= ttlMs) last = { at: time, value: Promise.resolve().then(check) };
    return last.value;
  };
}
