/**
 * Runs a real Apache RocketMQ NameServer + Broker (two JVMs) on 127.0.0.1 from the cached Maven Central
 * jars. Everything they write (config, store, logs, JNI scratch files) stays in one per-run temp dir,
 * which stop() removes (unless RMQP_KEEP_PEERS=1).
 *
 *   const rocketmq = await startRocketMQ({ ports: 'auto' });
 *   try { await createTopology(rocketmq); … rocketmq.namesrvAddr … } finally { await rocketmq.stop(); }
 *
 * Integration tests normally don't call this: the global setup does, and tests read env.ts's peers().
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  clusterInfoRequest,
  masterAddress,
  parseClusterInfo,
} from '../../proxy/src/remoting/requests/route.ts';
import { waitFor } from '../support/wait.ts';
import { ensureRocketmqJars } from './fetch.ts';
import { HOST, type PeerPorts, type PortChoice, parsePortChoice, resolvePorts } from './ports.ts';
import {
  ManagedProcess,
  onAbnormalExit,
  recordPid,
  removeDir,
  startWatchdog,
  tailOfFile,
} from './process.ts';
import { call } from './remoting.ts';
import { ROCKETMQ_VERSION } from './versions.ts';

export const DEFAULT_CLUSTER_NAME = 'DefaultCluster';
export const DEFAULT_BROKER_NAME = 'broker-a';

/** Broker settings that tests depend on; exported so tests can assert or wait with the same numbers. */
export const BROKER_TIMINGS = {
  /** A half message becomes eligible for CHECK_TRANSACTION_STATE this long after it was stored. */
  transactionTimeOutMs: 2000,
  /** How often the broker scans for half messages to check. */
  transactionCheckIntervalMs: 3000,
  /** Checks per half message before the broker gives up (and discards it). */
  transactionCheckMax: 5,
  /** Precision of delay/timer messages. */
  timerPrecisionMs: 1000,
} as const;

/** SIGTERM → SIGKILL deadline: a clean broker shutdown takes 8–17 s on 2 cores (its services wind down one by one). */
export const DEFAULT_STOP_GRACE_MS = 25_000;

export interface StopOptions {
  /**
   * How long the JVMs get after SIGTERM before SIGKILL (default DEFAULT_STOP_GRACE_MS). Throw-away test
   * peers can use a short grace: their store is deleted anyway.
   */
  graceMs?: number | undefined;
}

export type ConfigValue = string | number | boolean;

export interface StartOptions {
  /** Default: $RMQP_PORTS (`auto`, `default`, or `<namesrv>,<broker>`), else `default`. */
  ports?: PortChoice | undefined;
  clusterName?: string | undefined;
  brokerName?: string | undefined;
  /** Keep the temp dir after stop (default: RMQP_KEEP_PEERS=1). */
  keep?: boolean | undefined;
  /** Whole start-up budget, both JVMs (default 90 s). */
  startTimeoutMs?: number | undefined;
  /** Extra or overriding broker.conf entries. */
  brokerConfig?: Record<string, ConfigValue> | undefined;
  /** Extra JVM flags for both processes (also from $RMQP_JVM_OPTS, space-separated). */
  jvmArgs?: string[] | undefined;
  /** Progress lines (default: silent). */
  log?: ((line: string) => void) | undefined;
  env?: NodeJS.ProcessEnv | undefined;
}

export interface RocketMQ {
  /** `127.0.0.1:<port>` of the NameServer. */
  namesrvAddr: string;
  /** `127.0.0.1:<port>` of the master broker (its main Remoting port). */
  brokerAddr: string;
  brokerName: string;
  clusterName: string;
  ports: PeerPorts;
  version: string;
  /** The per-run directory (ROCKETMQ_HOME, user.home, store, *.out logs). */
  dir: string;
  /** Stops both JVMs and removes the dir unless kept. Idempotent (later calls share the first). */
  stop(options?: StopOptions): Promise<void>;
}

/** Java 17 module openings the RocketMQ server jars need (shared with the Java proxy harness). */
export const JAVA_MODULE_FLAGS = [
  '--add-opens=java.base/java.lang=ALL-UNNAMED',
  '--add-opens=java.base/java.lang.reflect=ALL-UNNAMED',
  '--add-opens=java.base/java.nio=ALL-UNNAMED',
  '--add-opens=java.base/java.util=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.ref=ALL-UNNAMED',
  '--add-opens=java.base/jdk.internal.misc=ALL-UNNAMED',
  '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-exports=java.base/sun.nio.ch=ALL-UNNAMED',
  '--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED',
];

/** `$JAVA_HOME/bin/java`, else `java` from PATH. */
export function javaCommand(env: NodeJS.ProcessEnv): string {
  return env['JAVA_HOME'] ? join(env['JAVA_HOME'], 'bin', 'java') : 'java';
}

function properties(entries: Record<string, ConfigValue>): string {
  return `${Object.entries(entries)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')}\n`;
}

function namesrvConfig(dir: string, ports: PeerPorts): Record<string, ConfigValue> {
  return {
    listenPort: ports.namesrv,
    bindAddress: HOST,
    rocketmqHome: dir,
    kvConfigPath: join(dir, 'home', 'namesrv', 'kvConfig.json'),
    configStorePath: join(dir, 'home', 'namesrv', 'namesrv.properties'),
  };
}

function brokerConfig(
  dir: string,
  ports: PeerPorts,
  clusterName: string,
  brokerName: string,
): Record<string, ConfigValue> {
  const store = join(dir, 'store');
  return {
    rocketmqHome: dir,
    brokerClusterName: clusterName,
    brokerName,
    brokerId: 0,
    brokerRole: 'ASYNC_MASTER',
    flushDiskType: 'ASYNC_FLUSH',
    namesrvAddr: `${HOST}:${ports.namesrv}`,
    // Loopback only: the defaults are the first non-loopback NIC address.
    brokerIP1: HOST,
    brokerIP2: HOST,
    bindAddress: HOST,
    listenPort: ports.broker,
    haListenPort: ports.broker + 1,
    storePathRootDir: store,
    storePathCommitLog: join(store, 'commitlog'),
    // Small (sparse, mmapped) files: 128 MiB commit log, 60k-unit consume queues, 16 MiB timer log.
    mappedFileSizeCommitLog: 134_217_728,
    mappedFileSizeConsumeQueue: 1_200_000,
    mappedFileSizeTimerLog: 16_777_216,
    maxHashSlotNum: 50_000,
    maxIndexNum: 200_000,
    deleteWhen: '04',
    fileReservedTime: 1,
    // Development disks are often nearly full; the default 90% would refuse writes.
    diskMaxUsedSpaceRatio: 95,
    diskSpaceWarningLevelRatio: 98,
    diskSpaceCleanForciblyRatio: 97,
    // A loaded 2-core machine queues sends longer than the default 200 ms before SYSTEM_BUSY.
    waitTimeMillsInSendQueue: 1000,
    autoCreateTopicEnable: true,
    autoCreateSubscriptionGroup: true,
    enablePropertyFilter: true,
    timerWheelEnable: true,
    timerPrecisionMs: BROKER_TIMINGS.timerPrecisionMs,
    transactionTimeOut: BROKER_TIMINGS.transactionTimeOutMs,
    transactionCheckInterval: BROKER_TIMINGS.transactionCheckIntervalMs,
    transactionCheckMax: BROKER_TIMINGS.transactionCheckMax,
    // RECALL_MESSAGE is refused with NO_PERMISSION unless enabled (off by default in 5.4.0).
    recallMessageEnable: true,
  };
}

interface Peer {
  process: ManagedProcess;
  name: string;
}

/** Starts NameServer + Broker and waits until the broker is registered at the NameServer. */
export async function startRocketMQ(options: StartOptions = {}): Promise<RocketMQ> {
  const env = options.env ?? process.env;
  const choice = options.ports ?? parsePortChoice(env['RMQP_PORTS'], 'default');
  // Auto ports are checked free but can be taken before the JVM binds them: retry with fresh ones.
  const attempts = choice === 'auto' ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, env, await resolvePorts(choice));
    } catch (error) {
      const clash = error instanceof Error && /Address already in use/i.test(error.message);
      if (!clash || attempt >= attempts) throw error;
      options.log?.(`port clash, retrying with other ports (${attempt}/${attempts - 1})`);
    }
  }
}

async function startOnce(options: StartOptions, env: NodeJS.ProcessEnv, ports: PeerPorts): Promise<RocketMQ> {
  const log = options.log ?? (() => {});
  const clusterName = options.clusterName ?? DEFAULT_CLUSTER_NAME;
  const brokerName = options.brokerName ?? DEFAULT_BROKER_NAME;
  const keep = options.keep ?? env['RMQP_KEEP_PEERS'] === '1';
  const deadline = Date.now() + (options.startTimeoutMs ?? 90_000);
  const libDir = await ensureRocketmqJars({ env, log });

  const dir = mkdtempSync(join(tmpdir(), 'rmqp-peers-'));
  for (const sub of ['conf', 'home', 'tmp', 'store']) mkdirSync(join(dir, sub));
  const pidFile = join(dir, 'pids');
  writeFileSync(pidFile, '');
  const retireWatchdog = startWatchdog(pidFile, dir, keep);
  const forgetCleanup = onAbnormalExit(() => {
    retireWatchdog();
    if (!keep) removeDir(dir);
  });

  writeFileSync(join(dir, 'conf', 'namesrv.conf'), properties(namesrvConfig(dir, ports)));
  writeFileSync(
    join(dir, 'conf', 'broker.conf'),
    properties({ ...brokerConfig(dir, ports, clusterName, brokerName), ...options.brokerConfig }),
  );

  const jvmEnv: NodeJS.ProcessEnv = { ...env, ROCKETMQ_HOME: dir, NAMESRV_ADDR: `${HOST}:${ports.namesrv}` };
  const extraJvmArgs = [
    ...(env['RMQP_JVM_OPTS']?.split(/\s+/).filter(Boolean) ?? []),
    ...(options.jvmArgs ?? []),
  ];
  const commonJvmArgs = [
    '-server',
    '-XX:+UseSerialGC',
    '-XX:-OmitStackTraceInFastThrow',
    // No /tmp/hsperfdata_<user> file: nothing may be left outside the run dir.
    '-XX:-UsePerfData',
    `-Duser.home=${join(dir, 'home')}`,
    `-Djava.io.tmpdir=${join(dir, 'tmp')}`,
    `-Drocketmq.home.dir=${dir}`,
    ...JAVA_MODULE_FLAGS,
    '-cp',
    `${libDir}/*`,
  ];
  const java = javaCommand(env);
  const peers: Peer[] = [];
  const spawnPeer = (name: string, heap: string[], logback: string, main: string, conf: string): Peer => {
    const managed = new ManagedProcess({
      name,
      command: java,
      args: [
        ...heap,
        `-Drmq.logback.configurationFile=${logback}`,
        ...extraJvmArgs,
        ...commonJvmArgs,
        main,
        '-c',
        join(dir, 'conf', conf),
      ],
      cwd: dir,
      env: jvmEnv,
      logFile: join(dir, `${name}.out`),
    });
    recordPid(pidFile, managed.pid);
    const peer = { process: managed, name };
    peers.push(peer);
    return peer;
  };

  let stopped: Promise<void> | undefined;
  const stop = (stopOptions: StopOptions = {}): Promise<void> => {
    const graceMs = stopOptions.graceMs ?? DEFAULT_STOP_GRACE_MS;
    stopped ??= (async () => {
      // In parallel: the broker's shutdown alone takes ~8 s, and its unregistration failing is harmless.
      await Promise.all(peers.map((peer) => peer.process.stop(graceMs)));
      retireWatchdog();
      forgetCleanup();
      if (keep) log(`kept ${dir}`);
      else removeDir(dir);
    })();
    return stopped;
  };

  const namesrvAddr = `${HOST}:${ports.namesrv}`;
  const brokerAddr = `${HOST}:${ports.broker}`;
  try {
    const started = Date.now();
    const namesrv = spawnPeer(
      'namesrv',
      ['-Xms128m', '-Xmx256m'],
      'rmq.namesrv.logback.xml',
      'org.apache.rocketmq.namesrv.NamesrvStartup',
      'namesrv.conf',
    );
    await waitFor(namesrv, deadline, 'the NameServer to answer GET_BROKER_CLUSTER_INFO', async () => {
      await call(namesrvAddr, clusterInfoRequest(), parseClusterInfo, { timeoutMs: 1000 });
      return true;
    });
    log(`NameServer up at ${namesrvAddr} after ${Date.now() - started} ms`);
    const broker = spawnPeer(
      'broker',
      ['-Xms256m', '-Xmx512m', '-XX:MaxDirectMemorySize=512m'],
      'rmq.broker.logback.xml',
      'org.apache.rocketmq.broker.BrokerStartup',
      'broker.conf',
    );
    await waitFor(broker, deadline, `broker ${brokerName} to register at the NameServer`, async () => {
      const info = await call(namesrvAddr, clusterInfoRequest(), parseClusterInfo, { timeoutMs: 1000 });
      const registered = info.brokers.get(brokerName);
      return registered !== undefined && masterAddress(registered) === brokerAddr;
    });
    log(`Broker ${brokerName} up at ${brokerAddr} after ${Date.now() - started} ms (dir ${dir})`);
  } catch (error) {
    const tails = peers
      .map(
        (peer) => `--- ${peer.name} (${peer.process.logFile}) ---\n${peer.process.tail(40, LOGBACK_STATUS)}`,
      )
      .concat(brokerLogTail(dir))
      .join('\n');
    await stop({ graceMs: 2000 });
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`RocketMQ ${ROCKETMQ_VERSION} failed to start: ${message}\n${tails}`, { cause: error });
  }

  return {
    namesrvAddr,
    brokerAddr,
    brokerName,
    clusterName,
    ports,
    version: ROCKETMQ_VERSION,
    dir,
    stop,
  };
}

/** Logback's own start-up chatter (`12:34:56,789 |-INFO in …`), which buries the real error in stdout. */
const LOGBACK_STATUS = /^\d\d:\d\d:\d\d,\d{3} \|-/;

/** broker.log often says more than stdout (e.g. store or port errors). */
function brokerLogTail(dir: string): string[] {
  const tail = tailOfFile(join(dir, 'home', 'logs', 'rocketmqlogs', 'broker.log'), 30);
  return tail ? [`--- broker.log ---\n${tail}`] : [];
}
