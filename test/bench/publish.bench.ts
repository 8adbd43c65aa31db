/**
 * Publish throughput and latency, side by side in one run against the same broker with the same load
 * generator: (a) direct Remoting to the broker (the ceiling), (b) the Apache Java proxy in cluster mode,
 * (c) this proxy as a separate process (`node proxy/src/cli/main.ts serve`). The generator sends 1 KiB
 * SendMessageRequests with the generated codec over a lean node:http2 gRPC client (support/grpc-raw.ts;
 * BENCH_CLIENT=grpc-js uses a grpc-js client instead, which costs ~2.5x the generator CPU per call);
 * (a) uses SEND_MESSAGE_V2 over one Remoting connection.
 * Reports msgs/s and p50/p99/p999 per concurrency, the CPU time per message of the proxy process and of
 * the generator, how busy the whole machine was, each proxy's peak RSS (VmHWM) and its startup time
 * (process start → first successful send; ours cold and with a warm compile cache). Run with `make bench`.
 *
 * Environment: BENCH_SECONDS (per case, default 10), BENCH_WARMUP_SECONDS (default 2), BENCH_CONCURRENCY
 * (default 1,16,64), BENCH_MAX_SENDS (default 2,000,000), BENCH_TARGETS (default remoting,java,rmqproxy),
 * BENCH_CLIENT (raw | grpc-js, default raw), BENCH_CHANNELS (HTTP/2 connections, default 1),
 * BENCH_PROXY_NODE_OPTIONS (Node flags of our proxy, default the recommended ones in docs/benchmarks.md),
 * RMQP_NAMESRV_ADDR/RMQP_BROKER_ADDR to reuse running peers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { type apache, v2 } from '../../proxy/src/grpc/protocol.ts';
import { MESSAGING_SERVICE } from '../../proxy/src/grpc/service-definition.ts';
import { RemotingConnection } from '../../proxy/src/remoting/connection.ts';
import { masterAddress, parseRoute, routeRequest } from '../../proxy/src/remoting/requests/route.ts';
import { parseSendResult, sendMessageRequest } from '../../proxy/src/remoting/requests/send.ts';
import { call } from '../harness/remoting.ts';
import { TOPICS } from '../harness/topology.ts';
import { rawUnaryClient } from './support/grpc-raw.ts';
import {
  acquirePeers,
  concurrencyList,
  cpuSecondsOf,
  ErrorTally,
  type LoadResult,
  log,
  mib,
  peakRssOf,
  percentile,
  positiveNumber,
  runClosedLoop,
} from './support/load.ts';

const BODY_1K = Buffer.alloc(1024, 0x61);
const TOPIC = TOPICS.normal;
const MEASURE_MS = positiveNumber('BENCH_SECONDS', 10) * 1000;
const WARMUP_MS = positiveNumber('BENCH_WARMUP_SECONDS', 2) * 1000;
const MAX_SENDS = Math.floor(positiveNumber('BENCH_MAX_SENDS', 2_000_000));
const CONCURRENCY = concurrencyList('BENCH_CONCURRENCY', '1,16,64');
const TARGETS = (process.env['BENCH_TARGETS'] || 'remoting,java,rmqproxy').split(',').map((t) => t.trim());
const CLIENT = process.env['BENCH_CLIENT'] || 'raw';
if (CLIENT !== 'raw' && CLIENT !== 'grpc-js')
  throw new Error(`BENCH_CLIENT=${CLIENT}: expected raw or grpc-js`);
const CHANNELS = Math.floor(positiveNumber('BENCH_CHANNELS', 1));
/**
 * Node flags of our proxy (docs/benchmarks.md, "Running the proxy"): V8's young generation capped at
 * 2 x 8 MiB (by default it grows to 128 MiB under this allocation rate) and the old generation
 * collected once it is 20 % over its live size. The Java proxy likewise runs with the harness's heap
 * flags (-Xms128m -Xmx384m).
 */
const PROXY_NODE_OPTIONS = (
  process.env['BENCH_PROXY_NODE_OPTIONS'] ?? '--max-semi-space-size=8 --heap-growing-percent=20'
)
  .split(' ')
  .filter((flag) => flag !== '');
const REQUEST_TIMEOUT_MS = 10_000;
const STARTUP_BUDGET_MS = 120_000;

class SendFailed extends Error {
  readonly kind: string;
  constructor(kind: string, message: string) {
    super(message);
    this.kind = kind;
  }
}

type Sender = () => Promise<void>;

let sequence = 0;
const idPrefix = `01${randomBytes(10).toString('hex')}`.toUpperCase();
const nextMessageId = (): string => idPrefix + (sequence++).toString(16).padStart(12, '0').toUpperCase();

const GrpcClient = grpc.makeGenericClientConstructor(MESSAGING_SERVICE, 'MessagingService');
const SEND_PATH = MESSAGING_SERVICE.SendMessage.path;
const METADATA = {
  'x-mq-client-id': `rmqp-bench@${process.pid}`,
  'x-mq-language': 'JAVA',
  'x-mq-protocol': 'v2',
  'x-mq-client-version': '5.0.8',
};

function sendRequest(): apache.rocketmq.v2.ISendMessageRequest {
  return {
    messages: [
      {
        topic: { name: TOPIC, resourceNamespace: '' },
        body: BODY_1K,
        systemProperties: {
          messageId: nextMessageId(),
          messageType: v2.MessageType.NORMAL,
          bodyEncoding: v2.Encoding.IDENTITY,
          bornHost: '127.0.0.1',
        },
      },
    ],
  };
}

function checkResponse(response: {
  status?: { code?: number | null; message?: string | null } | null;
}): void {
  if (response.status?.code !== v2.Code.OK)
    throw new SendFailed(`status ${response.status?.code}`, response.status?.message ?? '');
}

/** A SendMessage sender over BENCH_CHANNELS HTTP/2 connections, with the BENCH_CLIENT client. */
function grpcSender(endpoint: string): { send: Sender; close: () => void } {
  if (CLIENT === 'raw') {
    const client = rawUnaryClient(endpoint, {
      channels: CHANNELS,
      metadata: METADATA,
      timeoutMs: REQUEST_TIMEOUT_MS,
    });
    const send: Sender = async () => {
      const bytes = v2.SendMessageRequest.encode(sendRequest()).finish();
      checkResponse(v2.SendMessageResponse.decode(await client.call(SEND_PATH, bytes)));
    };
    return { send, close: () => client.close() };
  }
  type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  // grpc-js shares connections between clients through its global subchannel pool; a local pool each splits them.
  const clients = Array.from(
    { length: CHANNELS },
    () =>
      new GrpcClient(endpoint, grpc.credentials.createInsecure(), {
        'grpc.use_local_subchannel_pool': 1,
      }) as Client,
  );
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(METADATA)) metadata.set(key, value);
  let next = 0;
  const send: Sender = () =>
    new Promise((resolvePromise, reject) => {
      const client = clients[next++ % clients.length]!;
      client['SendMessage']!(
        sendRequest(),
        metadata,
        { deadline: Date.now() + REQUEST_TIMEOUT_MS },
        (error: grpc.ServiceError | null, response: apache.rocketmq.v2.SendMessageResponse) => {
          if (error) {
            reject(new SendFailed(`grpc ${grpc.status[error.code]}`, error.details));
            return;
          }
          try {
            checkResponse(response);
            resolvePromise();
          } catch (failure) {
            reject(failure);
          }
        },
      );
    });
  return {
    send,
    close: () => {
      for (const client of clients) client.close();
    },
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePromise(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** Sends until one succeeds (or the budget runs out): the end of "startup" as a client sees it. */
async function firstSuccess(send: Sender, since: number): Promise<number> {
  for (;;) {
    try {
      await send();
      return performance.now() - since;
    } catch (error) {
      if (performance.now() - since > STARTUP_BUDGET_MS) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** Busy and total jiffies of the whole machine (all CPUs), from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const values = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
  const total = values.reduce((sum, value) => sum + (Number.isFinite(value) ? value : 0), 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

interface CaseResult extends LoadResult {
  /** CPU time of the proxy process per successful send (µs); undefined without a proxy process. */
  proxyCpuUs: number | undefined;
  /** CPU time of this (generator) process per successful send (µs). */
  generatorCpuUs: number;
  /** Share of all CPUs busy during the case (every process on the machine), 0..1. */
  machineBusy: number;
}

interface TargetRun {
  name: string;
  results: CaseResult[];
  errors: ErrorTally;
  peakRss?: number | undefined;
  startupMs?: number | undefined;
  note?: string | undefined;
}

async function measure(
  name: string,
  send: Sender,
  tally: ErrorTally,
  proxyPid: number | undefined,
): Promise<CaseResult[]> {
  const warm = await runClosedLoop({
    concurrency: 16,
    durationMs: WARMUP_MS,
    maxSends: MAX_SENDS,
    sendOne: send,
    errors: tally,
  });
  log(`${name} warm-up: ${warm.sent} sends, ${warm.errors} errors`);
  const results: CaseResult[] = [];
  for (const concurrency of CONCURRENCY) {
    const proxyBefore = proxyPid === undefined ? undefined : cpuSecondsOf(proxyPid);
    const generatorBefore = process.cpuUsage();
    const machineBefore = machineTicks();
    const result = await runClosedLoop({
      concurrency,
      durationMs: MEASURE_MS,
      maxSends: MAX_SENDS,
      sendOne: send,
      errors: tally,
    });
    const generator = process.cpuUsage(generatorBefore);
    const machineAfter = machineTicks();
    const proxyAfter = proxyPid === undefined ? undefined : cpuSecondsOf(proxyPid);
    const sends = Math.max(1, result.sent);
    results.push({
      ...result,
      // The tail of the window (sends still in flight are awaited) adds a little CPU: an upper bound.
      proxyCpuUs:
        proxyBefore === undefined || proxyAfter === undefined
          ? undefined
          : ((proxyAfter - proxyBefore) * 1e6) / sends,
      generatorCpuUs: (generator.user + generator.system) / sends,
      machineBusy:
        (machineAfter.busy - machineBefore.busy) / Math.max(1, machineAfter.total - machineBefore.total),
    });
    log(`${name} ${concurrency} in flight: ${result.sent} sends`);
  }
  return results;
}

async function benchRemoting(namesrvAddr: string, brokerAddr: string): Promise<TargetRun> {
  const route = await call(namesrvAddr, routeRequest(TOPIC), parseRoute);
  const group = route.brokerDatas.find((broker) => masterAddress(broker) === brokerAddr);
  const queues = route.queueDatas.find((queue) => queue.brokerName === group?.brokerName);
  if (!group || !queues) throw new Error(`the route of ${TOPIC} does not lead to ${brokerAddr}`);
  const connection = await RemotingConnection.connect(brokerAddr, { requestTimeoutMs: REQUEST_TIMEOUT_MS });
  let next = 0;
  const send: Sender = async () => {
    const queueId = next;
    next = (next + 1) % queues.writeQueueNums;
    const spec = sendMessageRequest({
      producerGroup: TOPIC,
      topic: TOPIC,
      brokerName: group.brokerName,
      queueId,
      body: BODY_1K,
    });
    parseSendResult(await connection.request(spec, { timeoutMs: REQUEST_TIMEOUT_MS }), spec);
  };
  const errors = new ErrorTally();
  try {
    return {
      name: '(a) direct Remoting',
      results: await measure('remoting', send, errors, undefined),
      errors,
      note: 'no proxy process',
    };
  } finally {
    await connection.close();
  }
}

/** Starts our proxy with its compile cache in `cacheDir`; resolves with the child and its sender. */
async function startOurProxy(
  namesrvAddr: string,
  cacheDir: string,
): Promise<{ child: ChildProcess; sender: ReturnType<typeof grpcSender>; startupMs: number }> {
  const port = await freePort();
  const adminPort = await freePort();
  const started = performance.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [
      ...PROXY_NODE_OPTIONS,
      resolve(import.meta.dirname, '../../proxy/src/cli/main.ts'),
      'serve',
      '--namesrv',
      namesrvAddr,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--admin-port',
      String(adminPort),
      '--tls-mode',
      'disabled',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, NODE_COMPILE_CACHE: cacheDir } },
  );
  const sender = grpcSender(`127.0.0.1:${port}`);
  try {
    return { child, sender, startupMs: await firstSuccess(sender.send, started) };
  } catch (error) {
    sender.close();
    await stopChild(child);
    throw error;
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
}

async function benchOurProxy(namesrvAddr: string): Promise<TargetRun> {
  // A fresh compile cache: the first start is cold (as a new container without a baked-in cache),
  // the second warm (as any restart, or an image built with NODE_COMPILE_CACHE populated).
  const cacheDir = mkdtempSync(join(tmpdir(), 'rmqp-bench-compile-cache-'));
  try {
    const cold = await startOurProxy(namesrvAddr, cacheDir);
    cold.sender.close();
    await stopChild(cold.child);
    const { child, sender, startupMs } = await startOurProxy(namesrvAddr, cacheDir);
    try {
      const errors = new ErrorTally();
      const results = await measure('rmqproxy', sender.send, errors, child.pid);
      return {
        name: '(c) this proxy',
        results,
        errors,
        startupMs,
        peakRss: peakRssOf(child.pid ?? 0),
        note: `warm compile cache; cold ${Math.round(cold.startupMs)} ms; node ${PROXY_NODE_OPTIONS.join(' ') || '(no flags)'}`,
      };
    } finally {
      sender.close();
      await stopChild(child);
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

async function benchJavaProxy(namesrvAddr: string, clusterName: string): Promise<TargetRun> {
  let harness: typeof import('../harness/java-proxy.ts');
  try {
    harness = await import('../harness/java-proxy.ts');
  } catch (error) {
    return {
      name: '(b) Apache Java proxy',
      results: [],
      errors: new ErrorTally(),
      note: `not run: ${String(error)}`,
    };
  }
  const started = performance.now();
  const proxy = await harness.startJavaProxy({ namesrvAddr, clusterName, tlsMode: 'disabled', log });
  const sender = grpcSender(proxy.grpcEndpoint);
  try {
    const startupMs = await firstSuccess(sender.send, started);
    const errors = new ErrorTally();
    const results = await measure('java', sender.send, errors, proxy.pid);
    return { name: '(b) Apache Java proxy', results, errors, startupMs, peakRss: peakRssOf(proxy.pid) };
  } finally {
    sender.close();
    await proxy.stop({ graceMs: 5000 });
  }
}

function printTable(runs: TargetRun[]): void {
  console.log(
    '| target | in flight | msgs/s | p50 ms | p99 ms | p999 ms | errors | proxy CPU µs/msg | generator CPU µs/msg | machine busy |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const run of runs) {
    for (const r of run.results) {
      const rate = Math.round((r.sent * 1000) / r.elapsedMs).toLocaleString('en-US');
      const p = (q: number) => percentile(r.latencies, q).toFixed(2);
      const proxyCpu = r.proxyCpuUs === undefined ? '—' : Math.round(r.proxyCpuUs).toString();
      console.log(
        `| ${run.name} | ${r.concurrency} | ${rate} | ${p(50)} | ${p(99)} | ${p(99.9)} | ${r.errors} | ${proxyCpu} | ${Math.round(r.generatorCpuUs)} | ${Math.round(r.machineBusy * 100)} % |`,
      );
    }
  }
  console.log('');
  console.log('| target | peak RSS (VmHWM) | startup (process start → first successful send) |');
  console.log('|---|---:|---:|');
  for (const run of runs) {
    const rss = run.peakRss === undefined ? '—' : `${mib(run.peakRss)} MiB`;
    const startup = run.startupMs === undefined ? '—' : `${Math.round(run.startupMs)} ms`;
    console.log(`| ${run.name} | ${rss} | ${startup}${run.note ? ` (${run.note})` : ''} |`);
  }
}

async function main(): Promise<void> {
  const { peers, started } = await acquirePeers();
  const runs: TargetRun[] = [];
  try {
    const [load1, load5] = loadavg();
    console.log(
      `node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ${mib(totalmem())} MiB RAM, Linux ${release()}; ` +
        `broker ${peers.brokerAddr}, topic ${TOPIC}, 1 KiB bodies, ${WARMUP_MS / 1000} s warm-up, ${MEASURE_MS / 1000} s per case, ` +
        `${CLIENT} gRPC client over ${CHANNELS} connection(s), ` +
        `load average ${load1?.toFixed(2)} / ${load5?.toFixed(2)}`,
    );
    for (const target of TARGETS) {
      if (target === 'remoting') runs.push(await benchRemoting(peers.namesrvAddr, peers.brokerAddr));
      else if (target === 'java') runs.push(await benchJavaProxy(peers.namesrvAddr, peers.clusterName));
      else if (target === 'rmqproxy') runs.push(await benchOurProxy(peers.namesrvAddr));
      else throw new Error(`BENCH_TARGETS: unknown target ${target} (remoting, java, rmqproxy)`);
    }
    printTable(runs);
    let failed = false;
    for (const run of runs) {
      for (const [kind, { count, message }] of run.errors.kinds) {
        failed = true;
        console.log(`${run.name}: ${count} x ${kind}: ${message}`);
      }
    }
    if (failed) process.exitCode = 1;
  } finally {
    if (started) await started.stop({ graceMs: Number(process.env['RMQP_STOP_GRACE_MS'] || 3000) });
  }
}

await main();
