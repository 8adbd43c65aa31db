/**
 * Proves the test control plane is real and complete enough for the operator: the controller manager turns a
 * Deployment into ReplicaSet and Pods, the scheduler binds them to the KWOK node, KWOK makes them
 * Running/Ready with loopback IPs, the garbage collector removes owner-referenced children, and a CRD's CEL
 * rule is enforced by the apiserver with its own message. Everything goes through @kubernetes/client-node.
 *
 * Run: node --test test/kube/smoke.test.ts (builds the binaries first if the cache lacks them: see
 * `make kube-peers`).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  ApiException,
  ApiextensionsV1Api,
  AppsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1CustomResourceDefinition,
  type V1Deployment,
  type V1Pod,
  VersionApi,
} from '@kubernetes/client-node';
import { type ControlPlane, startControlPlane } from '../harness/kube/controlplane.ts';
import { KUBERNETES_VERSION, KWOK_POD_CIDR } from '../harness/kube/versions.ts';
import { eventually } from '../support/wait.ts';

/** A cold build of the binaries can take this long on 2 cores; warm start-up is seconds. */
const SETUP_TIMEOUT_MS = 75 * 60_000;
/** How long a step waits for the control plane to converge. */
const WAIT = { timeoutMs: 60_000, intervalMs: 250 };

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** 127.77.0.0/16 → true for 127.77.x.y. */
function inPodCidr(ip: string | undefined): boolean {
  const prefix = KWOK_POD_CIDR.split('.').slice(0, 2).join('.');
  return ip?.startsWith(`${prefix}.`) ?? false;
}

describe('Kubernetes test control plane', { timeout: SETUP_TIMEOUT_MS + 5 * 60_000 }, () => {
  let kube: ControlPlane;
  let apps: AppsV1Api;
  let core: CoreV1Api;
  let extensions: ApiextensionsV1Api;
  let custom: CustomObjectsApi;
  let versionApi: VersionApi;
  const namespace = `smoke-${randomBytes(3).toString('hex')}`;

  before(
    async () => {
      kube = await startControlPlane({ log: (line) => process.stderr.write(`[kube] ${line}\n`) });
      const config = new KubeConfig();
      config.loadFromFile(kube.kubeconfigPath);
      apps = config.makeApiClient(AppsV1Api);
      core = config.makeApiClient(CoreV1Api);
      extensions = config.makeApiClient(ApiextensionsV1Api);
      custom = config.makeApiClient(CustomObjectsApi);
      versionApi = config.makeApiClient(VersionApi);
      await core.createNamespace({ body: { metadata: { name: namespace } } });
    },
    { timeout: SETUP_TIMEOUT_MS },
  );

  after(async () => {
    if (!kube) return;
    const rss = Object.entries(kube.memory())
      .map(([name, bytes]) => `${name}=${Math.round(bytes / 1048576)}MiB`)
      .join(' ');
    process.stderr.write(`[kube] RSS before stop: ${rss}\n`);
    await kube.stop();
  });

  test('the server is the pinned Kubernetes release and the fake node is Ready without taints', async () => {
    const version = await versionApi.getCode();
    assert.equal(version.gitVersion, KUBERNETES_VERSION);
    const nodes = await core.listNode();
    const node = nodes.items.find((item) => item.metadata?.name === kube.nodeName);
    assert.ok(node, 'the fake node exists');
    assert.equal(node.spec?.taints, undefined, 'the fake node has no taints');
    assert.ok(
      node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
      'the fake node is Ready',
    );
  });

  test('a Deployment gets 2 Running/Ready pods on the fake node, then GC removes them', async () => {
    const labels = { app: 'smoke-web' };
    const deployment: V1Deployment = {
      metadata: { name: 'smoke-web', namespace },
      spec: {
        replicas: 2,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: 'web', image: 'example.invalid/never-pulled:1' }] },
        },
      },
    };
    await apps.createNamespacedDeployment({ namespace, body: deployment });

    const available = await eventually('2 available replicas', WAIT, async () => {
      const current = await apps.readNamespacedDeployment({ name: 'smoke-web', namespace });
      return current.status?.availableReplicas === 2 ? current : undefined;
    });
    assert.equal(available.status?.readyReplicas, 2);

    const pods = (await core.listNamespacedPod({ namespace, labelSelector: 'app=smoke-web' })).items;
    assert.equal(pods.length, 2);
    for (const pod of pods) {
      assert.equal(pod.spec?.nodeName, kube.nodeName, 'bound by the scheduler to the KWOK node');
      assert.equal(pod.status?.phase, 'Running');
      assert.ok(isReady(pod), `${pod.metadata?.name} is Ready`);
      assert.ok(inPodCidr(pod.status?.podIP), `pod IP ${pod.status?.podIP} is in ${KWOK_POD_CIDR}`);
      const owner = pod.metadata?.ownerReferences?.[0];
      assert.equal(owner?.kind, 'ReplicaSet', 'pods are owned by the ReplicaSet the controller made');
    }

    await apps.deleteNamespacedDeployment({ name: 'smoke-web', namespace, propagationPolicy: 'Background' });
    await eventually('the ReplicaSet and pods to be garbage-collected', WAIT, async () => {
      const replicaSets = await apps.listNamespacedReplicaSet({ namespace, labelSelector: 'app=smoke-web' });
      const remaining = await core.listNamespacedPod({ namespace, labelSelector: 'app=smoke-web' });
      return replicaSets.items.length === 0 && remaining.items.length === 0 ? true : undefined;
    });
  });

  test('a CRD with a CEL rule round-trips valid objects and rejects invalid ones with its message', async () => {
    const group = 'smoke.rmqp.test';
    const crd: V1CustomResourceDefinition = {
      metadata: { name: `widgets.${group}` },
      spec: {
        group,
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: {
              openAPIV3Schema: {
                type: 'object',
                properties: {
                  spec: {
                    type: 'object',
                    required: ['min', 'max'],
                    properties: { min: { type: 'integer' }, max: { type: 'integer' } },
                    // The typed model spells it x_kubernetes_validations and serializes it as x-kubernetes-validations; the
                    // hyphenated key would be silently dropped as an unknown field.
                    x_kubernetes_validations: [
                      { rule: 'self.min <= self.max', message: 'min must not exceed max' },
                    ],
                  },
                },
              },
            },
          },
        ],
      },
    };
    await extensions.createCustomResourceDefinition({ body: crd });
    await eventually('the CRD to be Established', WAIT, async () => {
      const current = await extensions.readCustomResourceDefinition({ name: `widgets.${group}` });
      return current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')
        ? true
        : undefined;
    });

    const widget = (name: string, min: number, max: number): object => ({
      apiVersion: `${group}/v1`,
      kind: 'Widget',
      metadata: { name, namespace },
      spec: { min, max },
    });
    // The API may answer 404 for a few hundred ms after Established while discovery catches up.
    await eventually('creating a valid Widget', WAIT, () =>
      custom.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace,
        plural: 'widgets',
        body: widget('ok', 1, 3),
      }),
    );
    const read = (await custom.getNamespacedCustomObject({
      group,
      version: 'v1',
      namespace,
      plural: 'widgets',
      name: 'ok',
    })) as { spec?: { min?: number; max?: number } };
    assert.deepEqual(read.spec, { min: 1, max: 3 });

    await assert.rejects(
      custom.createNamespacedCustomObject({
        group,
        version: 'v1',
        namespace,
        plural: 'widgets',
        body: widget('bad', 5, 2),
      }),
      (error: unknown) => {
        assert.ok(error instanceof ApiException, `expected ApiException, got ${String(error)}`);
        assert.equal(error.code, 422);
        const body = typeof error.body === 'string' ? error.body : JSON.stringify(error.body);
        assert.match(body, /min must not exceed max/);
        return true;
      },
    );
    await extensions.deleteCustomResourceDefinition({ name: `widgets.${group}` });
  });
});
