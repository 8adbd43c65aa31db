/**
 * Runs this project's proxy (`rocketmq-proxy serve`) as a separate process, as users run it, in front of
 * a NameServer + Broker the harness already started: the endpoint the end-to-end scenarios test.
 *
 *   const proxy = await startOurProxy({ namesrvAddr: rocketmq.namesrvAddr });
 *   try { … proxy.grpcEndpoint … } finally { await proxy.stop(); }
 *
 * Its log goes to a temp dir that stop() removes (unless RMQP_KEEP_PEERS=1); readiness is the proxy's
 * own /readyz, so a start that never gets ready fails with the log tail.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from '../support/wait.ts';
import { HOST, isPortFree } from './ports.ts';
import { ManagedProcess, removeDir } from './process.ts';
import { AUTO_PORT_RANGE } from './versions.ts';

const MAIN = resolve(import.meta.dirname, '../../proxy/src/cli/main.ts');

export interface OurProxyOptions {
  namesrvAddr: string;
  /** `tls.mode`; permissive (the default) serves TLS and plaintext on the one gRPC port. */
  tlsMode?: 'permissive' | 'disabled' | 'enforcing' | undefined;
  logLevel?: string | undefined;
  /** Start-up budget (default 30 s). */
  startTimeoutMs?: number | undefined;
  keep?: boolean | undefined;
  log?: ((line: string) => void) | undefined;
}

export interface OurProxy {
  grpcEndpoint: string;
  adminEndpoint: string;
  pid: number;
  /** Process start → /readyz answering 200. */
  startupMs: number;
  logTail(lines?: number): string;
  stop(options?: { graceMs?: number }): Promise<void>;
}

export async function startOurProxy(options: OurProxyOptions): Promise<OurProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'rmqp-proxy-'));
  const keep = options.keep ?? process.env['RMQP_KEEP_PEERS'] === '1';
  const [grpcPort, adminPort] = await freePorts(2);
  const began = performance.now();
  const child = new ManagedProcess({
    name: 'rocketmq-proxy',
    command: process.execPath,
    args: [
      MAIN,
      'serve',
      '--namesrv',
      options.namesrvAddr,
      '--host',
      HOST,
      '--port',
      String(grpcPort),
      '--set',
      `admin.host=${HOST}`,
      '--admin-port',
      String(adminPort),
      '--tls-mode',
      options.tlsMode ?? 'permissive',
      '--log-level',
      options.logLevel ?? 'info',
    ],
    logFile: join(dir, 'proxy.log'),
    cwd: dir,
    env: process.env,
  });
  const adminEndpoint = `${HOST}:${adminPort}`;
  const stop = async ({ graceMs = 5000 }: { graceMs?: number } = {}): Promise<void> => {
    await child.stop(graceMs);
    if (!keep) removeDir(dir);
  };
  try {
    const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
    // A refused connection (not listening yet) counts as "not yet"; 100 ms steps keep startupMs precise.
    await waitFor(
      { name: 'rocketmq-proxy', process: child },
      deadline,
      `/readyz at ${adminEndpoint}`,
      async () =>
        (await fetch(`http://${adminEndpoint}/readyz`, { signal: AbortSignal.timeout(1000) })).status === 200,
      100,
    );
  } catch (error) {
    const tail = child.tail(40);
    await stop({ graceMs: 1000 });
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n--- proxy log ---\n${tail}`);
  }
  const startupMs = Math.round(performance.now() - began);
  options.log?.(`our proxy: gRPC ${HOST}:${grpcPort}, admin ${adminEndpoint}, ready in ${startupMs} ms`);
  return {
    grpcEndpoint: `${HOST}:${grpcPort}`,
    adminEndpoint,
    pid: child.pid,
    startupMs,
    logTail: (lines = 40) => child.tail(lines),
    stop,
  };
}

async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  const { min, max } = AUTO_PORT_RANGE;
  for (let attempt = 0; ports.length < count && attempt < 500; attempt++) {
    const port = min + Math.floor(Math.random() * (max - min + 1));
    if (!ports.includes(port) && (await isPortFree(port))) ports.push(port);
  }
  if (ports.length < count) throw new Error(`no ${count} free ports in ${min}-${max}`);
  return ports;
}
