/**
 * make bench-operator: the operator (its CLI, as a separate process) against the real control plane of
 * test/harness/kube.
 *
 *  1. apply → children: one RocketMQProxy at a time (replicas 1, TLS from the operator CA), the time from
 *     the create call to all children existing (the Deployment is applied last, so its appearance means
 *     all are there; the others are checked) and to status Ready (pods made Ready by KWOK); median of 5.
 *  2. N at once (RMQP_BENCH_OPERATOR_N, default 500; replicas 1 → N pods): time to create them (16 create
 *     calls in flight), to every Deployment existing, to every RocketMQProxy Ready; operator RSS peak (VmHWM)
 *     and after settling.
 *  3. steady state: with nothing changing, the operator's CPU time over RMQP_BENCH_OPERATOR_STEADY_S (30 s)
 *     and the reconciles and watch restarts it made meanwhile (0 reconciles = no polling loop).
 *
 * Ready needs the kube controllers too (Deployment → ReplicaSet → Pod, scheduler, KWOK), which run with
 * their production client rate limits (controller-manager 20 QPS), so phase 2's Ready time measures the
 * cluster, its "children" time the operator. Waits are bounded (RMQP_BENCH_OPERATOR_TIMEOUT_S, 1200 s);
 * on timeout the partial counts are reported.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { RocketMQProxy, RocketMQProxySpec } from '../../operator/src/api/types.ts';
import { Kinds } from '../../operator/src/controllers/kinds.ts';
import { isNotFound, type KubeClient } from '../../operator/src/runtime/client.ts';
import { resourcePath } from '../../operator/src/runtime/kinds.ts';
import { startControlPlane } from '../harness/kube/controlplane.ts';
import { clientFor, createNamespace, installCrd, proxyObject, WAIT_MS } from '../operator/support.ts';
import { eventually, sleep } from '../support/wait.ts';

const N = Number(process.env['RMQP_BENCH_OPERATOR_N'] ?? 500);
const STEADY_S = Number(process.env['RMQP_BENCH_OPERATOR_STEADY_S'] ?? 30);
const TIMEOUT_MS = Number(process.env['RMQP_BENCH_OPERATOR_TIMEOUT_S'] ?? 1200) * 1000;
const SINGLE_RUNS = 5;
const CREATE_CONCURRENCY = 16;

const log = (line: string) => process.stderr.write(`[bench-operator] ${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const mib = (kib: number) => `${(kib / 1024).toFixed(0)} MiB`;

const spec: RocketMQProxySpec = {
  nameServers: { addresses: ['rocketmq-namesrv.mq.svc:9876'] },
  image: 'example.invalid/rocketmq-proxy:1',
  replicas: 1,
  // Small requests: the fake node's CPU is plentiful anyway; keeps the scheduler's arithmetic boring.
  resources: { requests: { cpu: '10m', memory: '16Mi' } },
};

function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolvePromise(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** VmRSS / VmHWM (KiB) and CPU seconds (utime + stime) of a process, from /proc. */
function procStats(pid: number): { rssKib: number; hwmKib: number; cpuSeconds: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
  // Fields after the parenthesised command name; utime and stime are the 14th and 15th of the line.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(rest[11]) + Number(rest[12]);
  return { rssKib: field('VmRSS'), hwmKib: field('VmHWM'), cpuSeconds: ticks / CLK_TCK };
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.split(' ').at(-1));
  return total;
}

async function exists(client: KubeClient, path: string): Promise<boolean> {
  try {
    await client.request('GET', path);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

const isReady = (p: RocketMQProxy) =>
  p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true &&
  p.status?.observedGeneration === p.metadata.generation;

async function main(): Promise<void> {
  log(`N=${N}, steady window ${STEADY_S} s, timeout ${TIMEOUT_MS / 1000} s, ${CLK_TCK} ticks/s`);
  const kube = await startControlPlane({
    log,
    serviceClusterIpRange: '10.96.0.0/16',
    nodePods: N + 2 * SINGLE_RUNS + 10,
  });
  let operator: ChildProcess | undefined;
  try {
    const client = clientFor(kube.kubeconfigPath);
    await installCrd(client);
    await createNamespace(client, 'bench-single');
    await createNamespace(client, 'bench');
    const httpPort = await freePort();
    operator = spawn(
      process.execPath,
      [
        'operator/src/main.ts',
        'run',
        '--kubeconfig',
        kube.kubeconfigPath,
        '--http-port',
        String(httpPort),
        '--http-host',
        '127.0.0.1',
        '--no-leader-elect',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const pid = operator.pid!;
    await eventually('operator /readyz', { timeoutMs: WAIT_MS }, async () =>
      (await fetch(`http://127.0.0.1:${httpPort}/readyz`).catch(() => undefined))?.ok ? true : undefined,
    );
    const idle = procStats(pid);
    log(`operator up: RSS ${mib(idle.rssKib)}`);

    // ---- 1: one at a time ---------------------------------------------------------------------------
    const childrenMs: number[] = [];
    const readyMs: number[] = [];
    for (let i = 0; i < SINGLE_RUNS; i++) {
      const name = `single-${i}`;
      const start = performance.now();
      await client.request('POST', resourcePath(Kinds.RocketMQProxy, 'bench-single'), {
        body: proxyObject('bench-single', name, spec),
      });
      let children: number | undefined;
      let ready: number | undefined;
      while (ready === undefined && performance.now() - start < 120_000) {
        if (
          children === undefined &&
          (await exists(client, resourcePath(Kinds.Deployment, 'bench-single', name)))
        )
          children = performance.now() - start;
        const proxy = await client.request<RocketMQProxy>(
          'GET',
          resourcePath(Kinds.RocketMQProxy, 'bench-single', name),
        );
        if (isReady(proxy)) ready = performance.now() - start;
        else await sleep(20);
      }
      if (children === undefined || ready === undefined) throw new Error(`${name} not Ready within 120 s`);
      for (const [kind, child] of [
        [Kinds.Service, name],
        [Kinds.Service, `${name}-headless`],
        [Kinds.ConfigMap, `${name}-config`],
        [Kinds.Secret, `${name}-ca`],
        [Kinds.Secret, `${name}-tls`],
      ] as const)
        if (!(await exists(client, resourcePath(kind, 'bench-single', child))))
          throw new Error(`${kind.kind} ${child} missing although the Deployment exists`);
      childrenMs.push(children);
      readyMs.push(ready);
      log(`single ${i}: children ${children.toFixed(0)} ms, Ready ${ready.toFixed(0)} ms`);
    }
    const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

    // ---- 2: N at once -------------------------------------------------------------------------------
    const start = performance.now();
    let peakRssKib = 0;
    const sampler = setInterval(() => {
      peakRssKib = Math.max(peakRssKib, procStats(pid).rssKib);
    }, 500);
    let next = 0;
    await Promise.all(
      Array.from({ length: CREATE_CONCURRENCY }, async () => {
        for (let i = next++; i < N; i = next++)
          await client.request('POST', resourcePath(Kinds.RocketMQProxy, 'bench'), {
            body: proxyObject('bench', `p-${i}`, spec),
          });
      }),
    );
    const createdMs = performance.now() - start;
    log(`${N} created in ${seconds(createdMs)}`);
    const cpuAtStart = procStats(pid).cpuSeconds;
    let allChildrenMs: number | undefined;
    let allReadyMs: number | undefined;
    let deployments = 0;
    let ready = 0;
    while (allReadyMs === undefined && performance.now() - start < TIMEOUT_MS) {
      if (allChildrenMs === undefined) {
        deployments = (
          await client.request<{ items: unknown[] }>('GET', resourcePath(Kinds.Deployment, 'bench'))
        ).items.length;
        if (deployments >= N) allChildrenMs = performance.now() - start;
      }
      const proxies = await client.request<{ items: RocketMQProxy[] }>(
        'GET',
        resourcePath(Kinds.RocketMQProxy, 'bench'),
      );
      ready = proxies.items.filter(isReady).length;
      if (ready >= N) allReadyMs = performance.now() - start;
      else {
        log(`  ${seconds(performance.now() - start)}: ${deployments}/${N} Deployments, ${ready}/${N} Ready`);
        await sleep(2000);
      }
    }
    const burstCpu = procStats(pid).cpuSeconds - cpuAtStart;

    // ---- 3: steady state ----------------------------------------------------------------------------
    // Settle: the queue empty and no reconcile for 5 s (trailing status writes, events).
    let lastReconciles = -1;
    let stableSince = performance.now();
    while (performance.now() - stableSince < 5000) {
      const reconciles = await metric(httpPort, 'rocketmq_proxy_operator_reconcile_total');
      const depth = await metric(httpPort, 'rocketmq_proxy_operator_workqueue_depth');
      if (reconciles !== lastReconciles || depth > 0) stableSince = performance.now();
      lastReconciles = reconciles;
      await sleep(500);
    }
    clearInterval(sampler);
    const settled = procStats(pid);
    const reconcilesBefore = await metric(httpPort, 'rocketmq_proxy_operator_reconcile_total');
    const restartsBefore = await metric(httpPort, 'rocketmq_proxy_operator_watch_restarts_total');
    const t0 = performance.now();
    await sleep(STEADY_S * 1000);
    const steady = procStats(pid);
    const wallS = (performance.now() - t0) / 1000;
    const reconcilesDuring =
      (await metric(httpPort, 'rocketmq_proxy_operator_reconcile_total')) - reconcilesBefore;
    const restartsDuring =
      (await metric(httpPort, 'rocketmq_proxy_operator_watch_restarts_total')) - restartsBefore;
    const steadyCpuPct = ((steady.cpuSeconds - settled.cpuSeconds) / wallS) * 100;
    // The V8 heap behind the RSS (prom-client's process metrics on the operator's /metrics).
    const heapUsed = await metric(httpPort, 'nodejs_heap_size_used_bytes');
    const heapTotal = await metric(httpPort, 'nodejs_heap_size_total_bytes');
    const memory = kube.memory();

    const lines = [
      `operator bench: N=${N} RocketMQProxy (replicas 1, TLS from the operator CA), ${CLK_TCK} ticks/s`,
      `single apply → all children: median ${median(childrenMs).toFixed(0)} ms (runs: ${childrenMs.map((v) => v.toFixed(0)).join(', ')})`,
      `single apply → Ready:        median ${median(readyMs).toFixed(0)} ms (runs: ${readyMs.map((v) => v.toFixed(0)).join(', ')})`,
      `${N} creates sent in ${seconds(createdMs)} (${CREATE_CONCURRENCY} in flight)`,
      `${N} → all children:  ${allChildrenMs === undefined ? `timed out (${deployments}/${N})` : seconds(allChildrenMs)}`,
      `${N} → all Ready:     ${allReadyMs === undefined ? `timed out (${ready}/${N})` : seconds(allReadyMs)}`,
      `operator CPU during the burst: ${burstCpu.toFixed(1)} s`,
      `operator RSS: idle ${mib(idle.rssKib)}, peak ${mib(Math.max(peakRssKib, steady.hwmKib))} (VmHWM ${mib(steady.hwmKib)}), settled ${mib(settled.rssKib)}, after the window ${mib(steady.rssKib)}`,
      `operator V8 heap after the window: ${(heapUsed / 2 ** 20).toFixed(0)} MiB used of ${(heapTotal / 2 ** 20).toFixed(0)} MiB`,
      `steady state over ${wallS.toFixed(0)} s: operator CPU ${steadyCpuPct.toFixed(2)} % of one core, ${reconcilesDuring} reconciles, ${restartsDuring} watch restarts`,
      `control plane RSS: ${Object.entries(memory)
        .map(([k, v]) => `${k} ${(v / 2 ** 20).toFixed(0)} MiB`)
        .join(', ')}`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    if (operator && operator.exitCode === null) {
      operator.kill('SIGTERM');
      await new Promise((resolvePromise) => operator?.once('exit', resolvePromise));
    }
    await kube.stop();
  }
}

await main();
