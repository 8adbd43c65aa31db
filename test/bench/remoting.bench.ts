/**
 * Remoting client throughput and latency against the REAL broker: N concurrent 1 KiB SEND_MESSAGE_V2
 * requests pipelined through ONE RemotingConnection, for a fixed time per N. Run with `make bench-remoting`.
 *
 * Starts its own NameServer + Broker on free loopback ports (and stops them at the end), unless
 * RMQP_NAMESRV_ADDR and RMQP_BROKER_ADDR point at running peers, which are then reused and left running.
 *
 * Environment: BENCH_SECONDS (per N, default 10), BENCH_WARMUP_SECONDS (default 2),
 * BENCH_CONCURRENCY (comma-separated, default 1,16,64), BENCH_MAX_SENDS (cap per N, default 2,000,000).
 */
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { RemotingConnection } from '../../proxy/src/remoting/connection.ts';
import { masterAddress, parseRoute, routeRequest } from '../../proxy/src/remoting/requests/route.ts';
import { parseSendResult, sendMessageRequest } from '../../proxy/src/remoting/requests/send.ts';
import { call } from '../harness/remoting.ts';
import { TOPICS } from '../harness/topology.ts';
import {
  acquirePeers,
  ErrorTally,
  type LoadResult,
  log,
  mib,
  percentile,
  positiveNumber,
  runClosedLoop,
} from './support/load.ts';

const BODY_1K = Buffer.alloc(1024, 0x61);
const TOPIC = TOPICS.normal;
const PRODUCER_GROUP = 'rmqp-bench-producer';
const RSS_SAMPLE_MS = 20;
const REQUEST_TIMEOUT_MS = 10_000;

const MEASURE_MS = positiveNumber('BENCH_SECONDS', 10) * 1000;
const WARMUP_MS = positiveNumber('BENCH_WARMUP_SECONDS', 2) * 1000;
const MAX_SENDS = Math.floor(positiveNumber('BENCH_MAX_SENDS', 2_000_000));
const CONCURRENCY = (process.env['BENCH_CONCURRENCY'] || '1,16,64').split(',').map((part) => {
  const n = Number(part.trim());
  if (!Number.isInteger(n) || n <= 0)
    throw new Error(`BENCH_CONCURRENCY: "${part}" is not a positive integer`);
  return n;
});

/** Peak RSS of this process, sampled on a timer, with the memory breakdown at the peak to explain it. */
class RssSampler {
  #peak: NodeJS.MemoryUsage = process.memoryUsage();
  #timer: NodeJS.Timeout | undefined;

  start(): void {
    this.#peak = process.memoryUsage();
    this.#timer = setInterval(() => this.sample(), RSS_SAMPLE_MS);
  }

  sample(): void {
    // rss() alone is cheap; the full breakdown (heap statistics) only when a new peak is seen.
    if (process.memoryUsage.rss() > this.#peak.rss) this.#peak = process.memoryUsage();
  }

  /** Stops sampling and returns the memory usage at the highest RSS seen since start(). */
  stop(): NodeJS.MemoryUsage {
    clearInterval(this.#timer);
    this.sample();
    return this.#peak;
  }
}

interface RunResult extends LoadResult {
  /** Memory usage at the highest sampled RSS. */
  peak: NodeJS.MemoryUsage;
}

/** Errors of every case, by kind (printed at the end). */
const errorTally = new ErrorTally();

/**
 * Runs `concurrency` send loops for `durationMs` (or until `maxSends` sends completed). Only sends that
 * finish inside the window count; the ones still in flight at its end are awaited but not counted.
 */
async function run(
  connection: RemotingConnection,
  brokerName: string,
  writeQueueNums: number,
  concurrency: number,
  durationMs: number,
  maxSends: number,
): Promise<RunResult> {
  let nextQueue = 0;
  const rss = new RssSampler();
  rss.start();
  const result = await runClosedLoop({
    concurrency,
    durationMs,
    maxSends,
    errors: errorTally,
    // Round-robin over the write queues, as a producer does; the latency includes building the request.
    sendOne: async () => {
      const queueId = nextQueue;
      nextQueue = (nextQueue + 1) % writeQueueNums;
      const spec = sendMessageRequest({
        producerGroup: PRODUCER_GROUP,
        topic: TOPIC,
        brokerName,
        queueId,
        body: BODY_1K,
      });
      parseSendResult(await connection.request(spec, { timeoutMs: REQUEST_TIMEOUT_MS }), spec);
    },
  });
  return { ...result, peak: rss.stop() };
}

function report(result: RunResult): void {
  const perSecond = (result.sent * 1000) / result.elapsedMs;
  const mibPerSecond = (perSecond * BODY_1K.length) / (1024 * 1024);
  const name = `SEND_MESSAGE_V2 1 KiB, ${result.concurrency} in flight`;
  console.log(
    `${name.padEnd(36)} ${Math.round(perSecond).toLocaleString('en-US').padStart(8)} msgs/s ${mibPerSecond.toFixed(1).padStart(5)} MiB/s` +
      `  p50 ${percentile(result.latencies, 50).toFixed(2).padStart(6)} ms  p99 ${percentile(result.latencies, 99).toFixed(2).padStart(6)} ms` +
      `  peak RSS ${mib(result.peak.rss).padStart(6)} MiB  (${result.sent.toLocaleString('en-US')} sends, ${result.errors} errors)`,
  );
  const { heapTotal, heapUsed, external, arrayBuffers } = result.peak;
  console.log(
    `${''.padEnd(36)} at peak RSS: V8 heap ${mib(heapUsed)} used / ${mib(heapTotal)} MiB reserved, ` +
      `external ${mib(external)} MiB (ArrayBuffers ${mib(arrayBuffers)} MiB)`,
  );
}

async function main(): Promise<void> {
  const { peers, started } = await acquirePeers();
  let connection: RemotingConnection | undefined;
  try {
    // The route says which broker group owns the topic and how many queues to spread the sends over.
    const route = await call(peers.namesrvAddr, routeRequest(TOPIC), parseRoute);
    const group = route.brokerDatas.find((broker) => masterAddress(broker) === peers.brokerAddr);
    const queues = route.queueDatas.find((queue) => queue.brokerName === group?.brokerName);
    if (!group || !queues) throw new Error(`the route of ${TOPIC} does not lead to ${peers.brokerAddr}`);

    connection = await RemotingConnection.connect(peers.brokerAddr, {
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      closeTimeoutMs: REQUEST_TIMEOUT_MS,
    });
    const rssBefore = process.memoryUsage.rss();
    const [load1, load5] = loadavg();
    console.log(
      `node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores, ` +
        `${mib(totalmem())} MiB RAM, Linux ${release()}`,
    );
    console.log(
      `broker ${peers.brokerAddr} (${group.brokerName}), topic ${TOPIC} (${queues.writeQueueNums} write queues), ` +
        `${WARMUP_MS / 1000} s warm-up, ${MEASURE_MS / 1000} s per case, load average ${load1?.toFixed(2)} / ${load5?.toFixed(2)} (1 / 5 min)`,
    );

    console.log(
      `client RSS before the first send: ${mib(rssBefore)} MiB (Node, type stripping, harness and client code loaded)`,
    );
    const warm = await run(connection, group.brokerName, queues.writeQueueNums, 16, WARMUP_MS, MAX_SENDS);
    log(`warm-up: ${warm.sent} sends, ${warm.errors} errors`);
    let errors = warm.errors;
    for (const concurrency of CONCURRENCY) {
      const result = await run(
        connection,
        group.brokerName,
        queues.writeQueueNums,
        concurrency,
        MEASURE_MS,
        MAX_SENDS,
      );
      report(result);
      errors += result.errors;
    }
    console.log(
      `client peak RSS ${mib(process.resourceUsage().maxRSS * 1024)} MiB over the whole run (kernel maxRSS, set-up included); ` +
        'the NameServer and broker JVMs are separate processes and not counted',
    );
    if (errors > 0 || errorTally.kinds.size > 0) {
      console.log(`RUN HAD SEND ERRORS (${errors} inside measurement windows, warm-up included):`);
      for (const [kind, { count, message }] of errorTally.kinds)
        console.log(`  ${count} x ${kind}: ${message}`);
      process.exitCode = 1;
    } else {
      console.log('no send errors');
    }
  } finally {
    await connection?.close();
    if (started) {
      log('stopping the peers');
      // The store is thrown away, so a long graceful broker shutdown buys nothing.
      await started.stop({ graceMs: Number(process.env['RMQP_STOP_GRACE_MS'] || 3000) });
    }
  }
}

await main();
