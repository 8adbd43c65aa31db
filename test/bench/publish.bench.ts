/**
 * Publish throughput and latency, side by side in one run against the same broker with the same load
 * generator: (a) direct Remoting to the broker (the ceiling), (b) the Apache Java proxy in cluster mode,
 * (c) this proxy as a separate process (`node proxy/src/cli/main.ts serve`). The generator sends 1 KiB
 * SendMessageRequests over one grpc-js channel with the generated codec (not an official client, so the
 * generator is not the bottleneck); (a) uses SEND_MESSAGE_V2 over one Remoting connection.
 * Reports msgs/s and p50/p99/p999 per concurrency, each proxy's peak RSS (VmHWM) and its startup time
 * (process start → first successful send). Run with `make bench`.
 *
 * Environment: BENCH_SECONDS (per case, default 10), BENCH_WARMUP_SECONDS (default 2), BENCH_CONCURRENCY
 * (default 1,16,64), BENCH_MAX_SENDS (default 2,000,000), BENCH_TARGETS (default remoting,java,rmqproxy),
 * RMQP_NAMESRV_ADDR/RMQP_BROKER_ADDR to reuse running peers.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { v2 } from '../../proxy/src/grpc/protocol.ts';
import { MESSAGING_SERVICE } from '../../proxy/src/grpc/service-definition.ts';
import { RemotingConnection } from '../../proxy/src/remoting/connection.ts';
import { masterAddress, parseRoute, routeRequest } from '../../proxy/src/remoting/requests/route.ts';
import { parseSendResult, sendMessageRequest } from '../../proxy/src/remoting/requests/send.ts';
import { call } from '../harness/remoting.ts';
import { TOPICS } from '../harness/topology.ts';
import {
  acquirePeers,
  concurrencyList,
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

/** A SendMessage sender over one grpc-js channel (one HTTP/2 connection). */
function grpcSender(endpoint: string): { send: Sender; close: () => void } {
  const client = new GrpcClient(endpoint, grpc.credentials.createInsecure()) as grpc.Client &
    Record<string, (...args: unknown[]) => unknown>;
  const metadata = new grpc.Metadata();
  metadata.set('x-mq-client-id', `rmqp-bench@${process.pid}`);
  metadata.set('x-mq-language', 'JAVA');
  metadata.set('x-mq-protocol', 'v2');
  metadata.set('x-mq-client-version', '5.0.8');
  const send: Sender = () =>
    new Promise((resolvePromise, reject) => {
      const request = {
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
      client['SendMessage']!(
        request,
        metadata,
        { deadline: Date.now() + REQUEST_TIMEOUT_MS },
        (error: grpc.ServiceError | null, response: { status?: { code?: number; message?: string } }) => {
          if (error) reject(new SendFailed(`grpc ${grpc.status[error.code]}`, error.details));
          else if (response.status?.code !== v2.Code.OK)
            reject(new SendFailed(`status ${response.status?.code}`, response.status?.message ?? ''));
          else resolvePromise();
        },
      );
    });
  return { send, close: () => client.close() };
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

interface TargetRun {
  name: string;
  results: LoadResult[];
  errors: ErrorTally;
  peakRss?: number | undefined;
  startupMs?: number | undefined;
  note?: string | undefined;
}

async function measure(name: string, send: Sender, tally: ErrorTally): Promise<LoadResult[]> {
  const warm = await runClosedLoop({
    concurrency: 16,
    durationMs: WARMUP_MS,
    maxSends: MAX_SENDS,
    sendOne: send,
    errors: tally,
  });
  log(`${name} warm-up: ${warm.sent} sends, ${warm.errors} errors`);
  const results: LoadResult[] = [];
  for (const concurrency of CONCURRENCY) {
    results.push(
      await runClosedLoop({
        concurrency,
        durationMs: MEASURE_MS,
        maxSends: MAX_SENDS,
        sendOne: send,
        errors: tally,
      }),
    );
    log(`${name} ${concurrency} in flight: ${results.at(-1)?.sent} sends`);
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
      results: await measure('remoting', send, errors),
      errors,
      note: 'no proxy process',
    };
  } finally {
    await connection.close();
  }
}

async function benchOurProxy(namesrvAddr: string): Promise<TargetRun> {
  const port = await freePort();
  const adminPort = await freePort();
  const started = performance.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [
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
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const sender = grpcSender(`127.0.0.1:${port}`);
  try {
    const startupMs = await firstSuccess(sender.send, started);
    const errors = new ErrorTally();
    const results = await measure('rmqproxy', sender.send, errors);
    return { name: '(c) this proxy', results, errors, startupMs, peakRss: peakRssOf(child.pid ?? 0) };
  } finally {
    sender.close();
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
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
    const results = await measure('java', sender.send, errors);
    return { name: '(b) Apache Java proxy', results, errors, startupMs, peakRss: peakRssOf(proxy.pid) };
  } finally {
    sender.close();
    await proxy.stop({ graceMs: 5000 });
  }
}

function printTable(runs: TargetRun[]): void {
  console.log('| target | in flight | msgs/s | p50 ms | p99 ms | p999 ms | errors |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const run of runs) {
    for (const r of run.results) {
      const rate = Math.round((r.sent * 1000) / r.elapsedMs).toLocaleString('en-US');
      const p = (q: number) => percentile(r.latencies, q).toFixed(2);
      console.log(
        `| ${run.name} | ${r.concurrency} | ${rate} | ${p(50)} | ${p(99)} | ${p(99.9)} | ${r.errors} |`,
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
