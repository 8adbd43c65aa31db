/**
 * The install manifests on the real control plane: they apply cleanly, and an operator that holds ONLY the
 * ServiceAccount token and RBAC from manifests/rbac.yaml (with leader election on) brings the minimal
 * sample to Ready — so the least-privilege rules are also sufficient.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import type { RocketMQProxy } from '../../operator/src/api/types.ts';
import { Kinds } from '../../operator/src/controllers/kinds.ts';
import { type RunningOperator, startOperator } from '../../operator/src/operator.ts';
import {
  ContentType,
  HttpsKubeClient,
  KubeApiError,
  type KubeClient,
} from '../../operator/src/runtime/client.ts';
import { type Kind, resourcePath } from '../../operator/src/runtime/kinds.ts';
import { type ControlPlane, startControlPlane } from '../harness/kube/controlplane.ts';
import { eventually } from '../support/wait.ts';
import { clientFor, createNamespace, installCrd, quietLog, SETUP_TIMEOUT_MS } from './support.ts';

interface Doc {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

const EXTRA_KINDS: Record<string, Kind> = {
  Namespace: { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces' },
  ServiceAccount: { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts' },
  ClusterRole: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', plural: 'clusterroles' },
  ClusterRoleBinding: {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    plural: 'clusterrolebindings',
  },
  Role: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', plural: 'roles' },
  RoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', plural: 'rolebindings' },
  Deployment: Kinds.Deployment,
  RocketMQProxy: Kinds.RocketMQProxy,
};

function docs(file: string): Doc[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS() as Doc);
}

async function applyDoc(client: KubeClient, doc: Doc, dryRun = false): Promise<void> {
  const kind = EXTRA_KINDS[doc.kind];
  assert.ok(kind, `test knows ${doc.kind}`);
  await client.request('PATCH', resourcePath(kind, doc.metadata.namespace, doc.metadata.name), {
    body: doc,
    contentType: ContentType.APPLY_PATCH,
    query: {
      fieldManager: 'rmqp-tests',
      force: true,
      fieldValidation: 'Strict',
      ...(dryRun ? { dryRun: 'All' } : {}),
    },
  });
}

describe('install manifests', { timeout: SETUP_TIMEOUT_MS + 5 * 60_000 }, () => {
  let kube: ControlPlane;
  let admin: KubeClient;
  let operator: RunningOperator | undefined;

  before(
    async () => {
      kube = await startControlPlane();
      admin = clientFor(kube.kubeconfigPath);
      await installCrd(admin);
    },
    { timeout: SETUP_TIMEOUT_MS },
  );
  after(async () => {
    await operator?.stop();
    await kube?.stop();
  });

  test('namespace, RBAC and operator Deployment apply with strict validation; samples pass admission', async () => {
    for (const file of ['manifests/namespace.yaml', 'manifests/rbac.yaml', 'manifests/operator.yaml']) {
      for (const doc of docs(file)) await applyDoc(admin, doc);
    }
    for (const file of [
      'manifests/samples/minimal.yaml',
      'manifests/samples/autoscaled.yaml',
      'manifests/samples/tls-secret.yaml',
      'manifests/samples/cert-manager.yaml',
    ]) {
      for (const doc of docs(file)) await applyDoc(admin, doc, true);
    }
  });

  /** A client holding only the operator ServiceAccount's token. */
  async function serviceAccountClient(): Promise<KubeClient> {
    const token = await admin.request<{ status: { token: string } }>(
      'POST',
      '/api/v1/namespaces/rmqproxy-system/serviceaccounts/rocketmq-proxy-operator/token',
      {
        body: {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { expirationSeconds: 3600 },
        },
      },
    );
    const config = new KubeConfig();
    config.loadFromOptions({
      clusters: [{ name: 'c', server: kube.server, caData: Buffer.from(kube.caPem).toString('base64') }],
      users: [{ name: 'sa', token: token.status.token }],
      contexts: [{ name: 'c', cluster: 'c', user: 'sa' }],
      currentContext: 'c',
    });
    return new HttpsKubeClient(config);
  }

  test('an operator with only the manifests RBAC reconciles the minimal sample to Ready', async () => {
    operator = await startOperator({
      client: await serviceAccountClient(),
      log: quietLog,
      leaderElection: { namespace: 'rmqproxy-system', identity: 'rbac-test' },
    });
    await createNamespace(admin, 'samples');
    const [sample] = docs('manifests/samples/minimal.yaml');
    await applyDoc(admin, { ...sample!, metadata: { ...sample!.metadata, namespace: 'samples' } });
    await eventually('the sample Ready', { timeoutMs: 90_000 }, async () => {
      const p = await admin.request<RocketMQProxy>(
        'GET',
        resourcePath(Kinds.RocketMQProxy, 'samples', 'proxy'),
      );
      return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    });
    const lease = await admin.request<{ spec: { holderIdentity: string } }>(
      'GET',
      resourcePath(Kinds.Lease, 'rmqproxy-system', 'rocketmq-proxy-operator'),
    );
    assert.equal(lease.spec.holderIdentity, 'rbac-test');
    assert.equal(
      (await operator.metrics.reconciles.get()).values.find((v) => v.labels['result'] === 'error')?.value ??
        0,
      0,
      'no reconcile failed for lack of permissions',
    );
    assert.equal(
      (await operator.metrics.watchRestarts.get()).values.reduce((sum, v) => sum + v.value, 0),
      0,
      'no watch failed for lack of permissions (incl. the CRD watches of the optional integrations)',
    );
    await operator.stop();
    const released = await admin.request<{ spec: { holderIdentity?: string } }>(
      'GET',
      resourcePath(Kinds.Lease, 'rmqproxy-system', 'rocketmq-proxy-operator'),
    );
    assert.equal(released.spec.holderIdentity ?? '', '', 'the Lease is released on shutdown');
    operator = undefined;
  });

  test('namespaced install (manifests/namespaced): with --namespaces and only RoleBindings, the sample gets Ready; other namespaces stay out of reach', async () => {
    // Drop the cluster-wide binding of the default install, so only the namespaced RBAC is left.
    await admin.request(
      'DELETE',
      resourcePath(EXTRA_KINDS['ClusterRoleBinding']!, undefined, 'rocketmq-proxy-operator'),
    );
    await createNamespace(admin, 'rocketmq');
    for (const file of ['manifests/namespaced/rbac.yaml', 'manifests/namespaced/rolebinding.yaml'])
      for (const doc of docs(file)) await applyDoc(admin, doc);
    const kustomization = parseAllDocuments(
      readFileSync('manifests/namespaced/kustomization.yaml', 'utf8'),
    )[0]!.toJS() as {
      patches: { patch: string }[];
    };
    assert.match(
      kustomization.patches[0]!.patch,
      /--namespaces=rocketmq/,
      'the Deployment patch names the bound namespace',
    );
    const client = await serviceAccountClient();
    await assert.rejects(
      client.request('GET', resourcePath(Kinds.Deployment, 'samples')),
      (error: unknown) => error instanceof KubeApiError && error.code === 403,
      'no access outside the bound namespace',
    );
    operator = await startOperator({
      client,
      log: quietLog,
      namespaces: ['rocketmq'],
      leaderElection: { namespace: 'rmqproxy-system', identity: 'namespaced-test' },
    });
    const [sample] = docs('manifests/samples/minimal.yaml');
    await applyDoc(admin, { ...sample!, metadata: { ...sample!.metadata, namespace: 'rocketmq' } });
    await eventually('the sample Ready in rocketmq', { timeoutMs: 90_000 }, async () => {
      const p = await admin.request<RocketMQProxy>(
        'GET',
        resourcePath(Kinds.RocketMQProxy, 'rocketmq', 'proxy'),
      );
      return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
    });
    assert.equal(
      (await operator.metrics.reconciles.get()).values.find((v) => v.labels['result'] === 'error')?.value ??
        0,
      0,
      'no reconcile failed for lack of permissions',
    );
    assert.equal(
      (await operator.metrics.watchRestarts.get()).values.reduce((sum, v) => sum + v.value, 0),
      0,
      'every watch (namespaced kinds and the two CRDs) is allowed',
    );
    await operator.stop();
    operator = undefined;
  });
});
