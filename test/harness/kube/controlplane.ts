/**
 * A real Kubernetes control plane on 127.0.0.1 for the operator tests: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler and KWOK (a fake kubelet) with one fake Node, so Deployments get
 * ReplicaSets, pods get scheduled and turn Running/Ready, owner-referenced children are garbage-collected,
 * and CRDs with CEL validation behave as in a cluster. Nothing runs in the pods; never dial pod or Service IPs.
 *
 *   const kube = await startControlPlane();
 *   try { … new KubeConfig().loadFromFile(kube.kubeconfigPath) … } finally { await kube.stop(); }
 *
 * Everything (etcd data, certificates, tokens, logs) lives in one temp dir that stop() removes; a watchdog
 * kills the processes and removes the dir if this Node process dies without stopping them.
 *
 * The real kube-scheduler (not a tiny binder) because it is cheap here (≈60 MiB RSS, idle CPU, seconds of
 * extra link time) and the operator's pods carry affinity, topology spread and resource requests that only
 * the real scheduler evaluates.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../support/wait.ts';
import { HOST, isPortFree } from '../ports.ts';
import { ManagedProcess, onAbnormalExit, recordPid, removeDir, startWatchdog } from '../process.ts';
import { AUTO_PORT_RANGE } from '../versions.ts';
import { ensureKubeBinaries, type KubeBinaries } from './build.ts';
import { hasTrueCondition, type KubeEndpoint, kubeGet, kubeRequest } from './kubeapi.ts';
import {
  ETCD_VERSION,
  KUBERNETES_VERSION,
  type KubeBinary,
  KWOK_NODE_ANNOTATION,
  KWOK_POD_CIDR,
  KWOK_STAGE_FILES,
  KWOK_VERSION,
  SERVICE_CLUSTER_IP_RANGE,
} from './versions.ts';

export const FAKE_NODE_NAME = 'kwok-node-0';

export interface ControlPlaneOptions {
  /** Keep the temp dir (etcd data, logs) after stop (default: RMQP_KEEP_PEERS=1). */
  keep?: boolean | undefined;
  /** Whole start-up budget, after the binaries are ready (default 120 s). */
  startTimeoutMs?: number | undefined;
  /** Progress lines (default: silent). */
  log?: ((line: string) => void) | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  /**
   * Room for benchmarks with hundreds of workloads: the Service ClusterIP range (default
   * SERVICE_CLUSTER_IP_RANGE, a /24: about 250 ClusterIP Services) and the fake node's pod capacity
   * (default 110; CPU and memory capacity grow with it so requests never limit scheduling).
   */
  serviceClusterIpRange?: string | undefined;
  nodePods?: number | undefined;
}

export interface ControlPlane {
  /** A kubeconfig with the admin token and the apiserver's self-signed CA (context `rmqp`). */
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Bearer token of a `system:masters` user. */
  token: string;
  /** PEM that verifies the apiserver's serving certificate. */
  caPem: string;
  /** The fake Node KWOK manages. */
  nodeName: string;
  /** Per-run directory (pki, etcd data, *.log). */
  dir: string;
  versions: { kubernetes: string; etcd: string; kwok: string };
  /** Resident set size in bytes of each component, read from /proc (0 if gone). */
  memory(): Record<string, number>;
  /** SIGTERM everything (components first, etcd last), SIGKILL after the grace, remove the dir. Idempotent. */
  stop(options?: { graceMs?: number }): Promise<void>;
}

interface Ports {
  apiserver: number;
  etcdClient: number;
  etcdPeer: number;
}

interface Component {
  name: string;
  process: ManagedProcess;
}

/** Starts the control plane (building the binaries first if the cache lacks them). */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const env = options.env ?? process.env;
  const binaries = await ensureKubeBinaries({ env, log: options.log });
  // Free ports are checked, not reserved: if one is taken before a component binds it, retry with others.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options, env, binaries, await allocatePorts());
    } catch (error) {
      const clash = error instanceof Error && /address already in use/i.test(error.message);
      if (!clash || attempt >= 3) throw error;
      options.log?.(`port clash, retrying with other ports (${attempt}/2)`);
    }
  }
}

async function allocatePorts(): Promise<Ports> {
  const chosen = new Set<number>();
  const pick = async (): Promise<number> => {
    for (let i = 0; i < 200; i++) {
      const port =
        AUTO_PORT_RANGE.min + Math.floor(Math.random() * (AUTO_PORT_RANGE.max - AUTO_PORT_RANGE.min));
      if (!chosen.has(port) && (await isPortFree(port))) {
        chosen.add(port);
        return port;
      }
    }
    throw new Error(`no free port in ${AUTO_PORT_RANGE.min}-${AUTO_PORT_RANGE.max}`);
  };
  return { apiserver: await pick(), etcdClient: await pick(), etcdPeer: await pick() };
}

async function startOnce(
  options: ControlPlaneOptions,
  env: NodeJS.ProcessEnv,
  binaries: KubeBinaries,
  ports: Ports,
): Promise<ControlPlane> {
  const log = options.log ?? (() => {});
  const keep = options.keep ?? env['RMQP_KEEP_PEERS'] === '1';
  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  const started = Date.now();

  const dir = mkdtempSync(join(tmpdir(), 'rmqp-kube-'));
  for (const sub of ['pki', 'etcd', 'home']) mkdirSync(join(dir, sub));
  const pidFile = join(dir, 'pids');
  writeFileSync(pidFile, '');
  const retireWatchdog = startWatchdog(pidFile, dir, keep);
  const forgetCleanup = onAbnormalExit(() => {
    retireWatchdog();
    if (!keep) removeDir(dir);
  });

  const server = `https://${HOST}:${ports.apiserver}`;
  const token = randomBytes(24).toString('hex');
  const files = writeStaticFiles(dir, token);
  // Children get a private HOME (kwok reads ~/.kwok) and no proxy settings (everything is loopback).
  const childEnv: NodeJS.ProcessEnv = {
    PATH: env['PATH'] ?? '/usr/bin:/bin',
    HOME: join(dir, 'home'),
    TMPDIR: dir,
    NO_PROXY: '*',
  };

  const components: Component[] = [];
  const spawnComponent = (name: string, binary: KubeBinary, args: string[]): Component => {
    const process = new ManagedProcess({
      name,
      command: binaries.path(binary),
      args,
      cwd: dir,
      env: childEnv,
      logFile: join(dir, `${name}.log`),
    });
    recordPid(pidFile, process.pid);
    const component = { name, process };
    components.push(component);
    return component;
  };

  let stopped: Promise<void> | undefined;
  const stop = (stopOptions: { graceMs?: number } = {}): Promise<void> => {
    const graceMs = stopOptions.graceMs ?? 10_000;
    stopped ??= (async () => {
      // Clients first (so they do not log a storm of connection errors), then the apiserver, then etcd.
      const byName = (names: string[]): Component[] => components.filter((c) => names.includes(c.name));
      await Promise.all(
        byName(['kwok', 'kube-scheduler', 'kube-controller-manager']).map((c) => c.process.stop(graceMs)),
      );
      await Promise.all(byName(['kube-apiserver']).map((c) => c.process.stop(graceMs)));
      await Promise.all(byName(['etcd']).map((c) => c.process.stop(graceMs)));
      retireWatchdog();
      forgetCleanup();
      if (keep) log(`kept ${dir}`);
      else removeDir(dir);
    })();
    return stopped;
  };

  try {
    const etcd = spawnComponent('etcd', 'etcd', etcdArgs(dir, ports));
    const etcdUrl = `http://${HOST}:${ports.etcdClient}`;
    await waitFor(etcd, deadline, 'etcd /health', async () => {
      const response = await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(2000) });
      return response.ok && ((await response.json()) as { health?: unknown }).health === 'true';
    });
    log(`etcd ${ETCD_VERSION} up after ${Date.now() - started} ms`);

    const apiserver = spawnComponent(
      'kube-apiserver',
      'kube-apiserver',
      apiserverArgs(ports, etcdUrl, files, options.serviceClusterIpRange ?? SERVICE_CLUSTER_IP_RANGE),
    );
    // Before /readyz the serving certificate may not exist yet, so these probes skip verification.
    const insecure: KubeEndpoint = { server, token };
    await waitFor(apiserver, deadline, 'kube-apiserver /readyz', async () => {
      const response = await kubeRequest(insecure, 'GET', '/readyz', undefined, 3000);
      return response.status === 200;
    });
    log(`kube-apiserver ${KUBERNETES_VERSION} ready at ${server} after ${Date.now() - started} ms`);

    const caPem = readFileSync(files.servingCert, 'utf8');
    const endpoint: KubeEndpoint = { server, token, ca: caPem };
    writeFileSync(files.kubeconfig, kubeconfigYaml(server, token, files.servingCert));
    writeFileSync(files.schedulerConfig, schedulerConfigYaml(files.kubeconfig));

    const controllerManager = spawnComponent(
      'kube-controller-manager',
      'kube-controller-manager',
      controllerManagerArgs(files),
    );
    const scheduler = spawnComponent('kube-scheduler', 'kube-scheduler', [
      `--config=${files.schedulerConfig}`,
      `--bind-address=${HOST}`,
      '--secure-port=0',
    ]);
    const kwok = spawnComponent('kwok', 'kwok', kwokArgs(files.kubeconfig, binaries.stagesDir));

    await createFakeNode(endpoint, options.nodePods ?? 110);
    await waitFor(kwok, deadline, `node ${FAKE_NODE_NAME} Ready (KWOK)`, async () =>
      hasTrueCondition(await kubeGet(endpoint, `/api/v1/nodes/${FAKE_NODE_NAME}`), 'Ready'),
    );
    // The service-account controller creating `default` shows the controller manager is working; pods
    // cannot be admitted before it exists.
    await waitFor(
      controllerManager,
      deadline,
      'the default ServiceAccount (kube-controller-manager)',
      async () => {
        return (await kubeGet(endpoint, '/api/v1/namespaces/default/serviceaccounts/default')) !== undefined;
      },
    );
    assertAlive(scheduler);
    log(`control plane ready after ${Date.now() - started} ms (dir ${dir})`);

    return {
      kubeconfigPath: files.kubeconfig,
      server,
      token,
      caPem,
      nodeName: FAKE_NODE_NAME,
      dir,
      versions: { kubernetes: KUBERNETES_VERSION, etcd: ETCD_VERSION, kwok: KWOK_VERSION },
      memory: () => Object.fromEntries(components.map((c) => [c.name, rssBytes(c.process.pid)])),
      stop,
    };
  } catch (error) {
    const tails = components
      .map((c) => `--- ${c.name} (${c.process.logFile}) ---\n${c.process.tail(25)}`)
      .join('\n');
    await stop({ graceMs: 2000 });
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`Kubernetes control plane failed to start: ${message}\n${tails}`, { cause: error });
  }
}

interface StaticFiles {
  tokens: string;
  saKey: string;
  saPub: string;
  certDir: string;
  servingCert: string;
  kubeconfig: string;
  schedulerConfig: string;
}

function writeStaticFiles(dir: string, token: string): StaticFiles {
  const files: StaticFiles = {
    tokens: join(dir, 'tokens.csv'),
    saKey: join(dir, 'pki', 'sa.key'),
    saPub: join(dir, 'pki', 'sa.pub'),
    certDir: join(dir, 'pki'),
    // kube-apiserver self-signs <cert-dir>/apiserver.crt (certificate followed by its CA) when given none.
    servingCert: join(dir, 'pki', 'apiserver.crt'),
    kubeconfig: join(dir, 'admin.kubeconfig'),
    schedulerConfig: join(dir, 'scheduler.yaml'),
  };
  // token,user,uid,"groups": system:masters passes every RBAC check.
  writeFileSync(files.tokens, `${token},admin,admin,"system:masters"\n`, { mode: 0o600 });
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  writeFileSync(files.saKey, privateKey, { mode: 0o600 });
  writeFileSync(files.saPub, publicKey);
  return files;
}

function etcdArgs(dir: string, ports: Ports): string[] {
  const client = `http://${HOST}:${ports.etcdClient}`;
  const peer = `http://${HOST}:${ports.etcdPeer}`;
  return [
    '--name=default',
    `--data-dir=${join(dir, 'etcd')}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    // Throw-away data: no fsync (much faster on shared disks), small quota, frequent compaction.
    '--unsafe-no-fsync=true',
    '--quota-backend-bytes=1073741824',
    '--auto-compaction-retention=1',
    '--log-level=warn',
  ];
}

function apiserverArgs(
  ports: Ports,
  etcdUrl: string,
  files: StaticFiles,
  serviceClusterIpRange: string,
): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    `--bind-address=${HOST}`,
    `--advertise-address=${HOST}`,
    `--secure-port=${ports.apiserver}`,
    `--cert-dir=${files.certDir}`,
    `--token-auth-file=${files.tokens}`,
    '--authorization-mode=RBAC',
    `--service-account-issuer=https://${HOST}:${ports.apiserver}`,
    `--service-account-key-file=${files.saPub}`,
    `--service-account-signing-key-file=${files.saKey}`,
    `--service-cluster-ip-range=${serviceClusterIpRange}`,
    '--allow-privileged=true',
    // A 127.0.0.1 endpoint for the `kubernetes` Service would fail Endpoints validation.
    '--endpoint-reconciler-type=none',
    // One client, many quick calls: no flow control or in-flight limits to queue behind.
    '--enable-priority-and-fairness=false',
    '--max-requests-inflight=0',
    '--max-mutating-requests-inflight=0',
    '--profiling=false',
  ];
}

function controllerManagerArgs(files: StaticFiles): string[] {
  return [
    `--kubeconfig=${files.kubeconfig}`,
    '--leader-elect=false',
    `--bind-address=${HOST}`,
    // No serving endpoint: nothing probes it, and it would need delegated authn/authz.
    '--secure-port=0',
    `--service-account-private-key-file=${files.saKey}`,
    `--root-ca-file=${files.servingCert}`,
    '--use-service-account-credentials=false',
    // Faster feedback in tests than the production defaults.
    '--concurrent-gc-syncs=5',
  ];
}

function kwokArgs(kubeconfig: string, stagesDir: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    ...KWOK_STAGE_FILES.map((file) => `--config=${join(stagesDir, file)}`),
    '--manage-all-nodes=false',
    `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION.key}=${KWOK_NODE_ANNOTATION.value}`,
    '--manage-nodes-with-label-selector=',
    '--manage-single-node=',
    `--node-ip=${HOST}`,
    `--cidr=${KWOK_POD_CIDR}`,
    '--node-lease-duration-seconds=40',
  ];
}

/** Quotes a value for YAML (JSON strings are valid YAML scalars). */
const q = (value: string): string => JSON.stringify(value);

function kubeconfigYaml(server: string, token: string, caFile: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: rmqp',
    '  cluster:',
    `    server: ${q(server)}`,
    `    certificate-authority: ${q(caFile)}`,
    'users:',
    '- name: admin',
    '  user:',
    `    token: ${q(token)}`,
    'contexts:',
    '- name: rmqp',
    '  context:',
    '    cluster: rmqp',
    '    user: admin',
    'current-context: rmqp',
    '',
  ].join('\n');
}

function schedulerConfigYaml(kubeconfig: string): string {
  return [
    'apiVersion: kubescheduler.config.k8s.io/v1',
    'kind: KubeSchedulerConfiguration',
    'clientConnection:',
    `  kubeconfig: ${q(kubeconfig)}`,
    'leaderElection:',
    '  leaderElect: false',
    '',
  ].join('\n');
}

/** A Node KWOK adopts (by annotation). No taint: pods schedule onto it without tolerations. */
async function createFakeNode(endpoint: KubeEndpoint, pods: number): Promise<void> {
  const resources = {
    cpu: String(Math.max(32, pods)),
    memory: `${Math.max(256, pods)}Gi`,
    pods: String(pods),
  };
  const node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: FAKE_NODE_NAME,
      annotations: {
        [KWOK_NODE_ANNOTATION.key]: KWOK_NODE_ANNOTATION.value,
        'node.alpha.kubernetes.io/ttl': '0',
      },
      labels: {
        'kubernetes.io/hostname': FAKE_NODE_NAME,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'node-role.kubernetes.io/agent': '',
        type: 'kwok',
      },
    },
    spec: { providerID: `kwok://${FAKE_NODE_NAME}` },
    status: { allocatable: resources, capacity: resources },
  };
  const response = await kubeRequest(endpoint, 'POST', '/api/v1/nodes', node);
  if (response.status !== 201) {
    throw new Error(
      `creating node ${FAKE_NODE_NAME}: HTTP ${response.status} ${response.body.slice(0, 300)}`,
    );
  }
}

function assertAlive(component: Component): void {
  const exit = component.process.exit;
  if (exit) throw new Error(`${component.name} exited (${exit.signal ?? `code ${exit.code}`})`);
}

function rssBytes(pid: number): number {
  const status = `/proc/${pid}/status`;
  if (!existsSync(status)) return 0;
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(status, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
