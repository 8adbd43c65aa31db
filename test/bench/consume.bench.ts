/**
 * Consumption benchmark: end-to-end throughput (publish + receive + ack) and publish→receive latency,
 * side by side for the Apache Java proxy and this proxy (a separate process) on the same broker in the
 * same run, with the official Node client (rocketmq-client-nodejs) on both: CONCURRENCY producer loops
 * send 1 KiB messages carrying their send time, CONSUMERS SimpleConsumer loops receive (32 at a time) and
 * ack. Each proxy gets a fresh topic and group. Latency = receive time − send start of that message.
 * Reports msgs/s acked, p50/p99 latency, the proxy process's CPU time per acked message (publish, receive
 * and ack of it) and each proxy's peak RSS (VmHWM). Run with `make bench-consume`.
 *
 * Environment: BENCH_SECONDS (publishing time per proxy, default 10), BENCH_CONCURRENCY (producer loops,
 * default 16), BENCH_CONSUMERS (receive loops, default 4), BENCH_DRAIN_SECONDS (max wait for the backlog
 * after publishing stops, default 20), BENCH_TARGETS (default java,rmqproxy), RMQP_NAMESRV_ADDR/
 * RMQP_BROKER_ADDR to reuse running peers.
 */
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { RequestCode } from '../../proxy/src/remoting/codes.ts';
import { startJavaProxy } from '../harness/java-proxy.ts';
import { NodeClients } from '../harness/node-client.ts';
import { startOurProxy } from '../harness/our-proxy.ts';
import { withConnection } from '../harness/remoting.ts';
import { waitForRoutes } from '../harness/topology.ts';
import { createGroupRequest, createTopicRequest, parseAdminAck } from '../support/remoting/admin-requests.ts';
import {
  acquirePeers,
  cpuSecondsOf,
  log,
  mib,
  peakRssOf,
  percentile,
  positiveNumber,
} from './support/load.ts';

const SECONDS = positiveNumber('BENCH_SECONDS', 10);
const CONCURRENCY = Math.floor(positiveNumber('BENCH_CONCURRENCY', 16));
const CONSUMERS = Math.floor(positiveNumber('BENCH_CONSUMERS', 4));
const DRAIN_MS = positiveNumber('BENCH_DRAIN_SECONDS', 20) * 1000;
const TARGETS = (process.env['BENCH_TARGETS'] || 'java,rmqproxy').split(',').map((t) => t.trim());
const PADDING = Buffer.alloc(1024 - 16, 0x61);

interface CaseResult {
  target: string;
  sent: number;
  acked: number;
  seconds: number;
  p50: number;
  p99: number;
  peakRss: number | undefined;
  /** Proxy CPU seconds from the first send to the last ack. */
  proxyCpuSeconds: number | undefined;
  errors: string;
}

async function freshTopic(brokerAddr: string, namesrvAddr: string, name: string): Promise<void> {
  await withConnection(brokerAddr, async (broker) => {
    parseAdminAck(
      await broker.request(
        createTopicRequest({ topic: name, readQueueNums: 8, writeQueueNums: 8, messageType: 'NORMAL' }),
      ),
      RequestCode.UPDATE_AND_CREATE_TOPIC,
    );
    parseAdminAck(
      await broker.request(createGroupRequest({ groupName: `${name}-group` })),
      RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP,
    );
  });
  await waitForRoutes(namesrvAddr, [name]);
}

async function runCase(
  targetName: string,
  endpoint: string,
  pid: number,
  topic: string,
): Promise<CaseResult> {
  const clients = new NodeClients();
  const errors = new Map<string, number>();
  const note = (what: string, error: unknown): void => {
    const key = `${what}: ${(error instanceof Error ? error.message : String(error)).slice(0, 80)}`;
    errors.set(key, (errors.get(key) ?? 0) + 1);
  };
  try {
    const producer = await clients.producer({ endpoint, topics: [topic] });
    const consumers = [];
    for (let i = 0; i < CONSUMERS; i++)
      consumers.push(
        await clients.simpleConsumer({ endpoint, group: `${topic}-group`, topic, awaitMs: 1000 }),
      );
    const latencies: number[] = [];
    let sent = 0;
    let acked = 0;
    const began = performance.now();
    const publishUntil = began + SECONDS * 1000;
    let publishing = true;
    const producerLoops = Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < publishUntil) {
        const header = Buffer.alloc(16);
        header.writeDoubleBE(performance.timeOrigin + performance.now(), 0);
        try {
          await producer.send({ topic, body: Buffer.concat([header, PADDING]), tag: 'bench' });
          sent++;
        } catch (error) {
          note('send', error);
        }
      }
    });
    const cpuBefore = cpuSecondsOf(pid);
    let lastAck = began;
    const consumerLoops = consumers.map(async (consumer) => {
      const stopAt = (): number => (publishing ? Number.POSITIVE_INFINITY : publishUntil + DRAIN_MS);
      while (performance.now() < stopAt() && (publishing || acked < sent)) {
        try {
          const batch = await consumer.receive(32, 30_000);
          const now = performance.timeOrigin + performance.now();
          for (const message of batch) latencies.push(now - Buffer.from(message.body).readDoubleBE(0));
          await Promise.all(batch.map((message) => consumer.ack(message)));
          acked += batch.length;
          if (batch.length > 0) lastAck = performance.now();
        } catch (error) {
          note('receive/ack', error);
        }
      }
    });
    await Promise.all(producerLoops);
    publishing = false;
    await Promise.all(consumerLoops);
    const cpuAfter = cpuSecondsOf(pid);
    const sorted = Float64Array.from(latencies).sort();
    return {
      target: targetName,
      sent,
      acked,
      seconds: (lastAck - began) / 1000,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      peakRss: peakRssOf(pid),
      proxyCpuSeconds: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore,
      errors: [...errors].map(([key, count]) => `${count}× ${key}`).join('; '),
    };
  } finally {
    await clients.close().catch((error: unknown) => log(`client shutdown: ${String(error)}`));
  }
}

async function main(): Promise<void> {
  const { peers, started } = await acquirePeers();
  const results: CaseResult[] = [];
  try {
    for (const targetName of TARGETS) {
      const topic = `rmqp-bench-consume-${targetName}-${Date.now().toString(36)}`;
      await freshTopic(peers.brokerAddr, peers.namesrvAddr, topic);
      const proxy =
        targetName === 'java'
          ? await startJavaProxy({ namesrvAddr: peers.namesrvAddr, log })
          : await startOurProxy({ namesrvAddr: peers.namesrvAddr, log });
      try {
        log(`${targetName}: ${SECONDS}s publishing, ${CONCURRENCY} producer loops, ${CONSUMERS} consumers`);
        results.push(await runCase(targetName, proxy.grpcEndpoint, proxy.pid, topic));
      } finally {
        await proxy.stop({ graceMs: 3000 });
      }
    }
  } finally {
    await started?.stop({ graceMs: 3000 });
  }
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `\nconsumption, 1 KiB, Node client, ${CONCURRENCY} producer loops, ${CONSUMERS} SimpleConsumers (receive 32, ack each)` +
      `\n${availableParallelism()} × ${cpu}, ${mib(totalmem())} MiB, Linux ${release()}, load ${loadavg()[0]?.toFixed(2)}\n`,
  );
  console.log(
    '| proxy | sent | acked | end-to-end msgs/s | p50 ms | p99 ms | proxy CPU µs/acked msg | peak RSS MiB | errors |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    const cpu =
      r.proxyCpuSeconds === undefined || r.acked === 0
        ? '?'
        : ((r.proxyCpuSeconds * 1e6) / r.acked).toFixed(0);
    console.log(
      `| ${r.target} | ${r.sent} | ${r.acked} | ${(r.acked / r.seconds).toFixed(0)} | ${r.p50.toFixed(1)} | ` +
        `${r.p99.toFixed(1)} | ${cpu} | ${r.peakRss === undefined ? '?' : mib(r.peakRss)} | ${r.errors || 'none'} |`,
    );
  }
}

await main();
