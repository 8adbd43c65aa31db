/**
 * The manager's plain-HTTP port: /healthz (the process answers), /readyz (the cache has synced, or this
 * replica is a standby) and /metrics (the Prometheus registry). Plain HTTP on purpose: kubelet probes and
 * Prometheus scrapes need no certificates.
 */
import { createServer } from 'node:http';
import type { Registry } from 'prom-client';
import { closeServer, listen } from './listen.ts';

export interface HealthServerOptions {
  port: number;
  host?: string;
  registry: Registry;
  /** Undefined when ready, else why not (the 503 body). */
  notReady: () => string | undefined;
}

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

export async function startHealthServer(options: HealthServerOptions): Promise<RunningServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200).end('ok\n');
    } else if (path === '/readyz') {
      const reason = options.notReady();
      res.writeHead(reason === undefined ? 200 : 503).end(reason === undefined ? 'ok\n' : `${reason}\n`);
    } else if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': options.registry.contentType }).end(text),
        (error: unknown) => res.writeHead(500).end(String(error)),
      );
    } else res.writeHead(404).end();
  });
  const port = await listen(server, options.port, options.host ?? '0.0.0.0');
  return { port, close: () => closeServer(server) };
}
