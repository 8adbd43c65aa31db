/**
 * The operator against a REAL control plane (etcd, kube-apiserver, controller-manager, scheduler, KWOK):
 * the CRD's CEL rules are enforced by the API server, Deployments become ReplicaSets and Ready pods,
 * garbage collection removes children. The operator runs in this process on its real runtime.
 *
 * Run: node --test --test-concurrency=1 test/operator/ (make test-operator).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { PodAnnotation } from '../../operator/src/api/constants.ts';
import type { RocketMQProxy, RocketMQProxySpec } from '../../operator/src/api/types.ts';
import { Kinds } from '../../operator/src/controllers/kinds.ts';
import type { RunningOperator } from '../../operator/src/operator.ts';
import { ContentType, isNotFound, KubeApiError, type KubeClient } from '../../operator/src/runtime/client.ts';
import { resourcePath } from '../../operator/src/runtime/kinds.ts';
import { type ControlPlane, startControlPlane } from '../harness/kube/controlplane.ts';
import { eventually, sleep } from '../support/wait.ts';
import { type RestartedProcess, restartComponent } from './restart.ts';
import {
  clientFor,
  createNamespace,
  installCrd,
  proxyObject,
  runOperator,
  SETUP_TIMEOUT_MS,
  WAIT_MS,
} from './support.ts';

interface Obj {
  metadata: {
    name: string;
    generation?: number;
    resourceVersion?: string;
    uid?: string;
    ownerReferences?: { uid: string; controller?: boolean; kind: string }[];
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown> & {
    replicas?: number;
    template?: {
      metadata?: { annotations?: Record<string, string> };
      spec?: { containers: { image: string }[] };
    };
  };
  status?: Record<string, unknown>;
  data?: Record<string, string>;
}

const NS_BASE = `op-${randomBytes(2).toString('hex')}`;
const names = ['deployment', 'service', 'headless', 'config', 'pdb', 'ca', 'tls'] as const;

describe('RocketMQProxy operator on a real API server', { timeout: SETUP_TIMEOUT_MS + 20 * 60_000 }, () => {
  let kube: ControlPlane;
  let client: KubeClient;
  let operator: RunningOperator;
  let nsCounter = 0;
  let restartedApiserver: RestartedProcess | undefined;

  const get = <T = Obj>(kind: (typeof Kinds)[keyof typeof Kinds], ns: string, name: string): Promise<T> =>
    client.request<T>('GET', resourcePath(kind, ns, name));
  const tryGet = async <T = Obj>(
    kind: (typeof Kinds)[keyof typeof Kinds],
    ns: string,
    name: string,
  ): Promise<T | undefined> => {
    try {
      return await get<T>(kind, ns, name);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };
  const getProxy = (ns: string, name: string) => get<RocketMQProxy & Obj>(Kinds.RocketMQProxy, ns, name);
  const create = (ns: string, name: string, spec: RocketMQProxySpec, annotations?: Record<string, string>) =>
    client.request<RocketMQProxy>('POST', resourcePath(Kinds.RocketMQProxy, ns), {
      body: proxyObject(ns, name, spec, annotations),
    });
  const patchSpec = (ns: string, name: string, patch: Record<string, unknown>) =>
    client.request<RocketMQProxy & Obj>('PATCH', resourcePath(Kinds.RocketMQProxy, ns, name), {
      body: patch,
      contentType: ContentType.MERGE_PATCH,
    });
  const condition = (proxy: RocketMQProxy, type: string) =>
    proxy.status?.conditions?.find((c) => c.type === type);
  const readyProxy = (ns: string, name: string, replicas: number, timeoutMs = 90_000) =>
    eventually(`${ns}/${name} Ready with ${replicas} replicas`, { timeoutMs }, async () => {
      const p = await getProxy(ns, name);
      const ready = condition(p, 'Ready');
      return ready?.status === 'True' &&
        p.status?.readyReplicas === replicas &&
        p.status?.observedGeneration === p.metadata.generation
        ? p
        : undefined;
    });
  const replicaSets = async (ns: string) =>
    (
      await client.request<{ items: Obj[] }>(
        'GET',
        resourcePath({ apiVersion: 'apps/v1', kind: 'ReplicaSet', plural: 'replicasets' }, ns),
      )
    ).items;
  const newNamespace = async () => {
    const ns = `${NS_BASE}-${++nsCounter}`;
    await createNamespace(client, ns);
    return ns;
  };
  const spec = (extra: Partial<RocketMQProxySpec> = {}): RocketMQProxySpec => ({
    nameServers: { addresses: ['rocketmq-namesrv.mq.svc:9876'] },
    image: 'example.invalid/rocketmq-proxy:1',
    ...extra,
  });

  before(
    async () => {
      kube = await startControlPlane({ log: (line) => process.stderr.write(`[kube] ${line}\n`) });
      client = clientFor(kube.kubeconfigPath);
      await installCrd(client);
      operator = await runOperator(kube.kubeconfigPath);
    },
    { timeout: SETUP_TIMEOUT_MS },
  );

  after(async () => {
    await operator?.stop();
    await restartedApiserver?.stop();
    await kube?.stop();
  });

  test('apply → every child with a controller owner reference; pods Ready; status Ready with counts', async () => {
    const ns = await newNamespace();
    const created = await create(ns, 'p', spec());
    const uid = created.metadata.uid;
    const proxy = await readyProxy(ns, 'p', 2);
    const children: [string, (typeof Kinds)[keyof typeof Kinds], string][] = [
      ['deployment', Kinds.Deployment, 'p'],
      ['service', Kinds.Service, 'p'],
      ['headless', Kinds.Service, 'p-headless'],
      ['config', Kinds.ConfigMap, 'p-config'],
      ['pdb', Kinds.PodDisruptionBudget, 'p'],
      ['ca', Kinds.Secret, 'p-ca'],
      ['tls', Kinds.Secret, 'p-tls'],
    ];
    assert.equal(children.length, names.length);
    for (const [what, kind, name] of children) {
      const child = await get(kind, ns, name);
      const owner = child.metadata.ownerReferences?.find((ref) => ref.controller);
      assert.equal(owner?.uid, uid, `${what} is controlled by the RocketMQProxy`);
    }
    assert.equal(
      await tryGet(Kinds.HorizontalPodAutoscaler, ns, 'p'),
      undefined,
      'no HPA without autoscaling',
    );
    const status = proxy.status!;
    assert.equal(status.replicas, 2);
    assert.equal(status.availableReplicas, 2);
    assert.equal(status.desiredReplicas, 2);
    assert.equal(status.currentImage, 'example.invalid/rocketmq-proxy:1');
    assert.equal(status.endpoint, `p.${ns}.svc:8081`);
    assert.equal(status.labelSelector, 'app.kubernetes.io/name=rocketmq-proxy,app.kubernetes.io/instance=p');
    assert.equal(condition(proxy, 'Progressing')?.status, 'False');
    assert.equal(condition(proxy, 'Progressing')?.reason, 'RolloutComplete');
    assert.equal(condition(proxy, 'Degraded')?.status, 'False');
    assert.equal(condition(proxy, 'Ready')?.observedGeneration, proxy.metadata.generation);
    assert.ok(status.tls?.notAfter, 'certificate expiry in the status');
    const pods = await client.request<{ items: { status?: { phase?: string } }[] }>(
      'GET',
      `/api/v1/namespaces/${ns}/pods`,
      {
        query: { labelSelector: status.labelSelector },
      },
    );
    assert.equal(pods.items.length, 2);
    assert.ok(pods.items.every((pod) => pod.status?.phase === 'Running'));
  });

  test('updates: replicas scale without a roll; PDB change does not roll; image and config roll once each', async () => {
    const ns = await newNamespace();
    await create(ns, 'u', spec());
    await readyProxy(ns, 'u', 2);
    const rsCount = async () => (await replicaSets(ns)).length;
    assert.equal(await rsCount(), 1);
    const before = await get(Kinds.Deployment, ns, 'u');
    const template = JSON.stringify(before.spec?.template);

    await patchSpec(ns, 'u', { spec: { replicas: 3 } });
    await readyProxy(ns, 'u', 3);
    let deployment = await get(Kinds.Deployment, ns, 'u');
    assert.equal(deployment.spec?.replicas, 3);
    assert.equal(
      JSON.stringify(deployment.spec?.template),
      template,
      'scaling leaves the pod template alone',
    );
    assert.equal(await rsCount(), 1, 'no new ReplicaSet: no rolling update');

    await patchSpec(ns, 'u', { spec: { podDisruptionBudget: { maxUnavailable: 2 } } });
    await eventually('PDB maxUnavailable 2', { timeoutMs: WAIT_MS }, async () => {
      const pdb = await get(Kinds.PodDisruptionBudget, ns, 'u');
      return pdb.spec?.['maxUnavailable'] === 2 ? true : undefined;
    });
    assert.equal(await rsCount(), 1, 'a PDB change does not roll the pods');

    await patchSpec(ns, 'u', { spec: { image: 'example.invalid/rocketmq-proxy:2' } });
    const rolled = await eventually('the image rollout to finish', { timeoutMs: WAIT_MS }, async () => {
      const p = await getProxy(ns, 'u');
      return p.status?.currentImage === 'example.invalid/rocketmq-proxy:2' &&
        condition(p, 'Ready')?.status === 'True'
        ? p
        : undefined;
    });
    assert.equal(rolled.status?.readyReplicas, 3);
    assert.equal(await rsCount(), 2, 'one new ReplicaSet for the new image');
    deployment = await get(Kinds.Deployment, ns, 'u');
    const hashBefore = deployment.spec?.template?.metadata?.annotations?.[PodAnnotation.CONFIG_HASH];

    await patchSpec(ns, 'u', { spec: { config: { 'log.level': 'debug' } } });
    await eventually('the config rollout', { timeoutMs: WAIT_MS }, async () => {
      const d = await get(Kinds.Deployment, ns, 'u');
      const hash = d.spec?.template?.metadata?.annotations?.[PodAnnotation.CONFIG_HASH];
      return hash && hash !== hashBefore ? true : undefined;
    });
    const configMap = await get(Kinds.ConfigMap, ns, 'u-config');
    assert.match(configMap.data?.['proxy.yaml'] ?? '', /level: debug/);
    await readyProxy(ns, 'u', 3);
    assert.equal(await rsCount(), 3, 'one more ReplicaSet for the config change');
  });

  test('autoscaling: HPA created, replicas handed over (never reset), HPA removed when turned off', async () => {
    const ns = await newNamespace();
    await create(ns, 'a', spec({ replicas: 2 }));
    await readyProxy(ns, 'a', 2);
    let lowest = 2;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const d = await get(Kinds.Deployment, ns, 'a');
        lowest = Math.min(lowest, d.spec?.replicas ?? 0);
        await sleep(50);
      }
    })();
    await patchSpec(ns, 'a', {
      spec: { replicas: null, autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 5 } },
    });
    const hpa = await eventually('the HPA', { timeoutMs: WAIT_MS }, () =>
      tryGet<Obj>(Kinds.HorizontalPodAutoscaler, ns, 'a'),
    );
    assert.equal(hpa.spec?.['minReplicas'], 3);
    assert.equal(
      (hpa.spec?.['scaleTargetRef'] as Record<string, string> | undefined)?.['kind'],
      'Deployment',
    );
    // No metrics server here; the HPA controller still enforces minReplicas through the scale subresource.
    await readyProxy(ns, 'a', 3, 120_000);
    watching = false;
    await watcher;
    assert.equal(lowest, 2, 'spec.replicas never dropped while ownership moved to the HPA');

    await patchSpec(ns, 'a', { spec: { autoscaling: { enabled: false }, replicas: 2 } });
    await eventually('the HPA to be deleted', { timeoutMs: WAIT_MS }, async () =>
      (await tryGet(Kinds.HorizontalPodAutoscaler, ns, 'a')) === undefined ? true : undefined,
    );
    await readyProxy(ns, 'a', 2);
  });

  test('invalid resources are rejected by the API server with the CEL messages', async () => {
    const ns = await newNamespace();
    const cases: [string, Record<string, unknown>, RegExp][] = [
      [
        'replicas with autoscaling',
        { replicas: 2, autoscaling: { enabled: true } },
        /spec\.replicas must be unset while spec\.autoscaling\.enabled/,
      ],
      [
        'min > max',
        { autoscaling: { enabled: true, minReplicas: 5, maxReplicas: 3 } },
        /minReplicas must not exceed/,
      ],
      [
        'port clash',
        { ports: { grpc: 9000, admin: 9000 } },
        /spec\.ports\.grpc and spec\.ports\.admin must differ/,
      ],
      [
        'pdb both',
        { podDisruptionBudget: { maxUnavailable: 1, minAvailable: 1 } },
        /set maxUnavailable or minAvailable, not both/,
      ],
      [
        'tls secret missing',
        { tls: { source: 'Secret' } },
        /secretName is required when spec\.tls\.source is Secret/,
      ],
      [
        'renewBefore too long',
        { tls: { certificateValidity: '1h', renewBefore: '2h' } },
        /renewBefore must be shorter/,
      ],
      [
        'grace too short',
        { rollout: { preStopSleepSeconds: 20, terminationGracePeriodSeconds: 40 } },
        /at least preStopSleepSeconds \+ 30/,
      ],
      ['zero surge', { rollout: { maxSurge: 0 } }, /maxSurge must be at least 1 pod/],
    ];
    for (const [what, extra, message] of cases) {
      await assert.rejects(
        create(ns, `bad-${cases.findIndex((c) => c[0] === what)}`, {
          ...spec(),
          ...extra,
        } as RocketMQProxySpec),
        (error: unknown) =>
          error instanceof KubeApiError && error.code === 422 && message.test(error.message),
        what,
      );
    }
    // Unknown config keys: refused under strict field validation (kubectl's default).
    await assert.rejects(
      client.request('POST', resourcePath(Kinds.RocketMQProxy, ns), {
        body: proxyObject(ns, 'bad-config', {
          ...spec(),
          config: { 'listen.port': 1 },
        } as unknown as RocketMQProxySpec),
        query: { fieldValidation: 'Strict' },
      }),
      (error: unknown) =>
        error instanceof KubeApiError && /unknown field "spec\.config\.listen\.port"/.test(error.message),
    );
    // mode is immutable.
    await create(ns, 'm', spec());
    await assert.rejects(patchSpec(ns, 'm', { spec: { mode: 'Local' } }), /spec\.mode is immutable/);
  });

  test('a spec the proxy would refuse, or Local mode: Degraded with a reason, nothing half-applied', async () => {
    const ns = await newNamespace();
    await create(ns, 'c', spec({ config: { 'limits.maxBodyBytes': 64 * 1024 * 1024 } }));
    const degraded = await eventually('Degraded InvalidConfig', { timeoutMs: WAIT_MS }, async () => {
      const p = await getProxy(ns, 'c');
      return condition(p, 'Degraded')?.reason === 'InvalidConfig' ? p : undefined;
    });
    assert.equal(condition(degraded, 'Ready')?.status, 'False');
    assert.match(condition(degraded, 'Degraded')?.message ?? '', /limits\.maxBodyBytes/);
    assert.equal(await tryGet(Kinds.Deployment, ns, 'c'), undefined, 'no children for an invalid spec');
    assert.equal(await tryGet(Kinds.ConfigMap, ns, 'c-config'), undefined);
    await eventually('a Warning Event InvalidConfig', { timeoutMs: WAIT_MS }, async () => {
      const events = await client.request<{
        items: { reason?: string; type?: string; regarding?: { name?: string } }[];
      }>('GET', resourcePath(Kinds.Event, ns));
      return events.items.some(
        (e) => e.reason === 'InvalidConfig' && e.type === 'Warning' && e.regarding?.name === 'c',
      )
        ? true
        : undefined;
    });

    await create(ns, 'l', spec({ mode: 'Local' }));
    await eventually('Degraded LocalModeUnsupported', { timeoutMs: WAIT_MS }, async () => {
      const p = await getProxy(ns, 'l');
      return condition(p, 'Degraded')?.reason === 'LocalModeUnsupported' ? true : undefined;
    });
  });

  test('scale subresource (kubectl scale) drives the Deployment when autoscaling is off', async () => {
    const ns = await newNamespace();
    // The scale subresource needs spec.replicas to exist (it has no default: autoscaling forbids it).
    await create(ns, 's', spec({ replicas: 2 }));
    await readyProxy(ns, 's', 2);
    const scalePath = `${resourcePath(Kinds.RocketMQProxy, ns, 's')}/scale`;
    const scale = await client.request<{
      spec: { replicas: number };
      status: { replicas: number; selector: string };
    }>('GET', scalePath);
    assert.equal(scale.spec.replicas, 2);
    assert.equal(scale.status.replicas, 2);
    assert.equal(scale.status.selector, 'app.kubernetes.io/name=rocketmq-proxy,app.kubernetes.io/instance=s');
    await client.request('PATCH', scalePath, {
      body: { spec: { replicas: 4 } },
      contentType: ContentType.MERGE_PATCH,
    });
    await readyProxy(ns, 's', 4);
    assert.equal((await get(Kinds.Deployment, ns, 's')).spec?.replicas, 4);
  });

  test('delete → every child garbage-collected', async () => {
    const ns = await newNamespace();
    await create(ns, 'd', spec());
    await readyProxy(ns, 'd', 2);
    await client.request('DELETE', resourcePath(Kinds.RocketMQProxy, ns, 'd'));
    await eventually('children gone', { timeoutMs: WAIT_MS }, async () => {
      const left = await Promise.all([
        tryGet(Kinds.Deployment, ns, 'd'),
        tryGet(Kinds.Service, ns, 'd'),
        tryGet(Kinds.Service, ns, 'd-headless'),
        tryGet(Kinds.ConfigMap, ns, 'd-config'),
        tryGet(Kinds.Secret, ns, 'd-tls'),
        tryGet(Kinds.Secret, ns, 'd-ca'),
        tryGet(Kinds.PodDisruptionBudget, ns, 'd'),
      ]);
      return left.every((x) => x === undefined) ? true : undefined;
    });
  });

  test('operator restart mid-rollout converges', async () => {
    const ns = await newNamespace();
    await create(ns, 'r', spec({ replicas: 3 }));
    await readyProxy(ns, 'r', 3);
    await patchSpec(ns, 'r', { spec: { image: 'example.invalid/rocketmq-proxy:3' } });
    await eventually('the rollout to start', { timeoutMs: WAIT_MS }, async () =>
      (await get(Kinds.Deployment, ns, 'r')).spec?.template?.spec?.containers[0]?.image ===
      'example.invalid/rocketmq-proxy:3'
        ? true
        : undefined,
    );
    await operator.stop();
    await patchSpec(ns, 'r', { spec: { replicas: 4 } });
    await sleep(500);
    assert.equal(
      (await get(Kinds.Deployment, ns, 'r')).spec?.replicas,
      3,
      'nothing acts while the operator is down',
    );
    operator = await runOperator(kube.kubeconfigPath);
    const done = await readyProxy(ns, 'r', 4);
    assert.equal(done.status?.currentImage, 'example.invalid/rocketmq-proxy:3');
  });

  test('a status write based on a stale resourceVersion gets 409 and is retried', async () => {
    const ns = await newNamespace();
    await create(ns, 'k', spec({ replicas: 1 }));
    const stale = await readyProxy(ns, 'k', 1);
    // Someone else writes the object in between (an annotation: same generation).
    await patchSpec(ns, 'k', { metadata: { annotations: { touched: 'yes' } } });
    const conflictsBefore = (await operator.metrics.conflicts.get()).values[0]?.value ?? 0;
    const status = { ...stale.status, configHash: 'forced-by-test' };
    await operator.reconciler.writeStatus(stale, status);
    const conflictsAfter = (await operator.metrics.conflicts.get()).values[0]?.value ?? 0;
    // At least one: the counter is process-wide, and on a loaded machine a reconcile of an earlier
    // test's RocketMQProxy may meet its own 409 in the same window.
    assert.ok(
      conflictsAfter - conflictsBefore >= 1,
      'a 409 from the real API server, then a retry (the write below landed)',
    );
    assert.equal((await getProxy(ns, 'k')).status?.configHash, 'forced-by-test');
    // The operator's own next pass restores the truth (level-based).
    await patchSpec(ns, 'k', { metadata: { annotations: { touched: 'again' } } });
    await eventually('the real config hash back', { timeoutMs: WAIT_MS }, async () =>
      (await getProxy(ns, 'k')).status?.configHash !== 'forced-by-test' ? true : undefined,
    );
  });

  test('certificate renewal near expiry: new certificate, pods roll to it, status moves on', async () => {
    const ns = await newNamespace();
    await create(ns, 't', spec({ replicas: 1, tls: { certificateValidity: '40s', renewBefore: '30s' } }));
    const first = await readyProxy(ns, 't', 1);
    const firstSecret = await get(Kinds.Secret, ns, 't-tls');
    const firstHash = (await get(Kinds.Deployment, ns, 't')).spec?.template?.metadata?.annotations?.[
      PodAnnotation.CERT_HASH
    ];
    assert.ok(firstHash);
    const renewed = await eventually('a renewed certificate', { timeoutMs: 40_000 }, async () => {
      const s = await get(Kinds.Secret, ns, 't-tls');
      return s.data?.['tls.crt'] !== firstSecret.data?.['tls.crt'] ? s : undefined;
    });
    assert.equal(renewed.data?.['ca.crt'], firstSecret.data?.['ca.crt'], 'same CA');
    await eventually(
      'the pod template to carry the new certificate hash',
      { timeoutMs: WAIT_MS },
      async () => {
        const hash = (await get(Kinds.Deployment, ns, 't')).spec?.template?.metadata?.annotations?.[
          PodAnnotation.CERT_HASH
        ];
        return hash && hash !== firstHash ? true : undefined;
      },
    );
    await eventually('status.tls.notAfter to move later', { timeoutMs: WAIT_MS }, async () => {
      const p = await getProxy(ns, 't');
      return Date.parse(p.status?.tls?.notAfter ?? '') > Date.parse(first.status?.tls?.notAfter ?? '')
        ? true
        : undefined;
    });
    await client.request('DELETE', resourcePath(Kinds.RocketMQProxy, ns, 't'));
  });

  test('API server restart: informers reconnect, re-list and the operator keeps reconciling', async () => {
    const ns = await newNamespace();
    await create(ns, 'x', spec({ replicas: 1 }));
    await readyProxy(ns, 'x', 1);
    const restartsBefore = (await operator.metrics.watchRestarts.get()).values.reduce(
      (sum, v) => sum + v.value,
      0,
    );
    restartedApiserver = await restartComponent(kube.dir, 'kube-apiserver', async () => {
      // While it is down, nothing can be written; the informers are retrying with backoff.
      await sleep(1500);
    });
    await eventually('the API server to answer again', { timeoutMs: 90_000 }, async () =>
      (await client.request('GET', '/version')) ? true : undefined,
    );
    // Right after start the apiserver answers 503 until the CRD paths are installed again.
    await eventually('the RocketMQProxy API to be served again', { timeoutMs: 60_000 }, () =>
      patchSpec(ns, 'x', { spec: { replicas: 2 } }),
    );
    await readyProxy(ns, 'x', 2, 120_000);
    const restartsAfter = (await operator.metrics.watchRestarts.get()).values.reduce(
      (sum, v) => sum + v.value,
      0,
    );
    assert.ok(restartsAfter > restartsBefore, 'the informers noticed the outage and started over');
  });
});
