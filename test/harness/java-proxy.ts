/**
 * Runs the Apache RocketMQ Java proxy (`ProxyStartup -pm cluster`) from the cached 5.4.0 jars, in front of
 * a NameServer + Broker the harness already started. It is the reference peer for differential tests and
 * the endpoint the end-to-end scenarios are first validated against.
 *
 *   const proxy = await startJavaProxy({ namesrvAddr: rocketmq.namesrvAddr });
 *   try { … proxy.grpcEndpoint … } finally { await proxy.stop(); }
 *
 * Everything it writes (config, self-signed TLS material, logs under user.home) stays in one temp dir that
 * stop() removes (unless RMQP_KEEP_PEERS=1); a watchdog kills the JVM if this Node process dies first.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../support/wait.ts';
import { ensureRocketmqJars } from './fetch.ts';
import { HOST, isPortFree } from './ports.ts';
import {
  ManagedProcess,
  onAbnormalExit,
  recordPid,
  removeDir,
  startWatchdog,
  tailOfFile,
} from './process.ts';
import { DEFAULT_CLUSTER_NAME, JAVA_MODULE_FLAGS, javaCommand } from './rocketmq.ts';
import { AUTO_PORT_RANGE, DEFAULT_PORTS, ROCKETMQ_VERSION } from './versions.ts';

/** The line ProxyStartup prints on stdout once every server (gRPC, Remoting) is listening. */
export const PROXY_READY_LINE = 'rocketmq-proxy startup successfully';

export interface JavaProxyPorts {
  grpc: number;
  remoting: number;
}

export type JavaProxyPortChoice = 'auto' | 'default' | JavaProxyPorts;

export interface JavaProxyOptions {
  /** `host:port` of the NameServer the proxy reads routes from. */
  namesrvAddr: string;
  clusterName?: string | undefined;
  /** `auto` (default): free ports; `default`: 18081 gRPC / 18080 Remoting. */
  ports?: JavaProxyPortChoice | undefined;
  /** Extra or overriding rmq-proxy.json entries (ProxyConfig field names). */
  config?: Record<string, string | number | boolean> | undefined;
  /** `tls.server.mode`: permissive (Apache default: TLS and plaintext on one port), disabled or enforcing. */
  tlsMode?: 'permissive' | 'disabled' | 'enforcing' | undefined;
  keep?: boolean | undefined;
  /** Start-up budget (default 90 s; the JVM takes 5–15 s on a loaded 2-core machine). */
  startTimeoutMs?: number | undefined;
  log?: ((line: string) => void) | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

export interface JavaProxy {
  /** `127.0.0.1:<grpc port>`: what gRPC clients use as their endpoint. */
  grpcEndpoint: string;
  /** `127.0.0.1:<remoting port>`. */
  remotingEndpoint: string;
  ports: JavaProxyPorts;
  pid: number;
  dir: string;
  version: string;
  /** How long from spawn to ready, in ms. */
  startupMs: number;
  /** The last lines of proxy.log (for failure messages). */
  logTail(lines?: number): string;
  /** SIGTERM then SIGKILL after `graceMs` (default 10 s); removes the dir unless kept. Idempotent. */
  stop(options?: { graceMs?: number | undefined }): Promise<void>;
}

async function allocateProxyPorts(attempts = 200): Promise<JavaProxyPorts> {
  const { min, max } = AUTO_PORT_RANGE;
  for (let i = 0; i < attempts; i++) {
    const grpc = min + Math.floor(Math.random() * (max - min));
    const remoting = grpc + 1;
    if ((await isPortFree(grpc)) && (await isPortFree(remoting))) return { grpc, remoting };
  }
  throw new Error(`no two free adjacent ports in ${min}-${max} for the Java proxy`);
}

async function resolveProxyPorts(choice: JavaProxyPortChoice): Promise<JavaProxyPorts> {
  if (choice === 'auto') return allocateProxyPorts();
  const ports =
    choice === 'default'
      ? { grpc: DEFAULT_PORTS.javaProxyGrpc, remoting: DEFAULT_PORTS.javaProxyRemoting }
      : choice;
  for (const port of [ports.grpc, ports.remoting]) {
    if (!(await isPortFree(port))) throw new Error(`port ${HOST}:${port} for the Java proxy is in use`);
  }
  return ports;
}

/** True once something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: HOST, port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolvePromise(true);
    });
    socket.once('error', () => resolvePromise(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolvePromise(false);
    });
  });
}

/** Starts the Java proxy and waits for its ready line and its gRPC port. Retries once on an auto-port clash. */
export async function startJavaProxy(options: JavaProxyOptions): Promise<JavaProxy> {
  const choice = options.ports ?? 'auto';
  const attempts = choice === 'auto' ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, await resolveProxyPorts(choice));
    } catch (error) {
      const clash = error instanceof Error && /Address already in use|BindException/i.test(error.message);
      if (!clash || attempt >= attempts) throw error;
      options.log?.(`Java proxy port clash, retrying with other ports (${attempt}/${attempts - 1})`);
    }
  }
}

async function startOnce(options: JavaProxyOptions, ports: JavaProxyPorts): Promise<JavaProxy> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const keep = options.keep ?? env['RMQP_KEEP_PEERS'] === '1';
  const libDir = await ensureRocketmqJars({ env, log });
  const dir = mkdtempSync(join(tmpdir(), 'rmqp-javaproxy-'));
  for (const sub of ['conf', 'home', 'tmp']) mkdirSync(join(dir, sub));
  const pidFile = join(dir, 'pids');
  writeFileSync(pidFile, '');
  const retireWatchdog = startWatchdog(pidFile, dir, keep);
  const forgetCleanup = onAbnormalExit(() => {
    retireWatchdog();
    if (!keep) removeDir(dir);
  });

  const config = {
    rocketMQClusterName: options.clusterName ?? DEFAULT_CLUSTER_NAME,
    proxyMode: 'cluster',
    namesrvAddr: options.namesrvAddr,
    grpcServerPort: ports.grpc,
    remotingListenPort: ports.remoting,
    // Loopback only: by default the proxy advertises the first non-loopback NIC address.
    localServeAddr: HOST,
    remotingAccessAddr: HOST,
    enableTopicMessageTypeCheck: true,
    ...options.config,
  };
  const configPath = join(dir, 'conf', 'rmq-proxy.json');
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);

  const java = javaCommand(env);
  const extraJvmArgs = env['RMQP_JVM_OPTS']?.split(/\s+/).filter(Boolean) ?? [];
  const args = [
    '-server',
    '-Xms128m',
    '-Xmx384m',
    '-XX:MaxDirectMemorySize=256m',
    '-XX:+UseSerialGC',
    '-XX:-OmitStackTraceInFastThrow',
    '-XX:-UsePerfData',
    `-Duser.home=${join(dir, 'home')}`,
    `-Djava.io.tmpdir=${join(dir, 'tmp')}`,
    `-Drocketmq.home.dir=${dir}`,
    '-Drmq.logback.configurationFile=rmq.proxy.logback.xml',
    `-Dtls.server.mode=${options.tlsMode ?? 'permissive'}`,
    ...extraJvmArgs,
    ...JAVA_MODULE_FLAGS,
    '-cp',
    `${libDir}/*`,
    'org.apache.rocketmq.proxy.ProxyStartup',
    '-pm',
    'cluster',
    '-pc',
    configPath,
  ];
  const started = Date.now();
  const managed = new ManagedProcess({
    name: 'java-proxy',
    command: java,
    args,
    cwd: dir,
    env: { ...env, ROCKETMQ_HOME: dir, RMQ_PROXY_HOME: dir, NAMESRV_ADDR: options.namesrvAddr },
    logFile: join(dir, 'proxy.out'),
  });
  recordPid(pidFile, managed.pid);

  const proxyLog = join(dir, 'home', 'logs', 'rocketmqlogs', 'proxy.log');
  let stopped: Promise<void> | undefined;
  const stop = (stopOptions: { graceMs?: number | undefined } = {}): Promise<void> => {
    stopped ??= (async () => {
      await managed.stop(stopOptions.graceMs ?? 10_000);
      retireWatchdog();
      forgetCleanup();
      if (keep) log(`kept ${dir}`);
      else removeDir(dir);
    })();
    return stopped;
  };

  const deadline = started + (options.startTimeoutMs ?? 90_000);
  try {
    await waitFor(
      { name: 'Java proxy', process: managed },
      deadline,
      `its start-up line and gRPC port ${ports.grpc}`,
      async () => managed.tail(200).includes(PROXY_READY_LINE) && (await accepts(ports.grpc)),
      200,
    );
  } catch (error) {
    const tails = `--- proxy.out ---\n${managed.tail(40, /^\d\d:\d\d:\d\d,\d{3} \|-/)}\n--- proxy.log ---\n${tailOfFile(proxyLog, 30)}`;
    await stop({ graceMs: 2000 });
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`Apache RocketMQ ${ROCKETMQ_VERSION} proxy failed to start: ${message}\n${tails}`, {
      cause: error,
    });
  }
  const startupMs = Date.now() - started;
  log(
    `Java proxy up at gRPC ${HOST}:${ports.grpc}, Remoting ${HOST}:${ports.remoting} after ${startupMs} ms`,
  );
  return {
    grpcEndpoint: `${HOST}:${ports.grpc}`,
    remotingEndpoint: `${HOST}:${ports.remoting}`,
    ports,
    pid: managed.pid,
    dir,
    version: ROCKETMQ_VERSION,
    startupMs,
    logTail: (lines = 40) => tailOfFile(proxyLog, lines),
    stop,
  };
}
