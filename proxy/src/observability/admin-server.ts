/**
 * The admin HTTP port, separate from gRPC: `/livez` (the process answers), `/readyz` (every readiness
 * check passes; the body lists each one) and `/metrics` (Prometheus text). The operator's probes and
 * the observability work build on these paths.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ReadinessCheck } from './probes.ts';

export interface AdminServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  /** Named checks; /readyz is 200 only when all pass. A check that throws or exceeds `checkTimeoutMs` fails. */
  readonly readiness: Readonly<Record<string, ReadinessCheck>>;
  readonly checkTimeoutMs?: number;
  readonly logger: Logger;
}

export interface RunningAdminServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startAdminServer(options: AdminServerOptions): Promise<RunningAdminServer> {
  const { logger } = options;
  const checkTimeoutMs = options.checkTimeoutMs ?? 2000;

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return reply(response, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
    }
    switch (path) {
      case '/livez':
        return reply(response, 200, 'ok\n');
      case '/readyz': {
        const results = await Promise.all(
          Object.entries(options.readiness).map(
            async ([name, check]) => [name, await runCheck(check, checkTimeoutMs)] as const,
          ),
        );
        const ready = results.every(([, ok]) => ok);
        const lines = results.map(([name, ok]) => `${ok ? '[+]' : '[-]'} ${name} ${ok ? 'ok' : 'failed'}`);
        return reply(
          response,
          ready ? 200 : 503,
          `${[...lines, ready ? 'ready' : 'not ready'].join('\n')}\n`,
        );
      }
      case '/metrics':
        return reply(response, 200, await options.registry.metrics(), {
          'content-type': options.registry.contentType,
        });
      default:
        return reply(response, 404, 'not found: try /livez, /readyz or /metrics\n');
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      logger.error({ err: error, url: request.url }, 'admin request failed');
      if (!response.headersSent) reply(response, 500, 'internal error\n');
      else response.destroy();
    });
  });
  // Probes open a connection per request; do not keep idle ones around.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  logger.info({ host: options.host, port }, 'admin HTTP port listening (/livez /readyz /metrics)');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function runCheck(check: ReadinessCheck, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(check), timeout]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

function reply(
  response: ServerResponse,
  code: number,
  body: string,
  headers: Record<string, string> = {},
): void {
  response.writeHead(code, {
    'content-type': 'text/plain; charset=utf-8',
    'cache-control': 'no-store',
    ...headers,
  });
  response.end(response.req.method === 'HEAD' ? undefined : body);
}
