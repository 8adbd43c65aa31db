/** Shared set-up for the operator tests against the real control plane (test/harness/kube). */
import { KubeConfig } from '@kubernetes/client-node';
import { API_VERSION, CRD_NAME, KIND } from '../../operator/src/api/constants.ts';
import { buildCrd } from '../../operator/src/api/crd.ts';
import type { RocketMQProxySpec } from '../../operator/src/api/types.ts';
import { Kinds } from '../../operator/src/controllers/kinds.ts';
import { type RunningOperator, startOperator } from '../../operator/src/operator.ts';
import { ContentType, HttpsKubeClient, type KubeClient } from '../../operator/src/runtime/client.ts';
import { resourcePath } from '../../operator/src/runtime/kinds.ts';
import { eventually } from '../support/wait.ts';

export const SETUP_TIMEOUT_MS = 75 * 60_000;

/** How long a step waits for the cluster to converge unless it says otherwise. */
export const WAIT_MS = 60_000;

export function clientFor(kubeconfigPath: string): KubeClient {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfigPath);
  return new HttpsKubeClient(config);
}

export async function installCrd(client: KubeClient): Promise<void> {
  await client.request('PATCH', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`, {
    body: buildCrd(),
    contentType: ContentType.APPLY_PATCH,
    query: { fieldManager: 'rmqp-tests', force: true },
  });
  await eventually('the CRD to be Established and served', { timeoutMs: WAIT_MS }, async () => {
    const crd = await client.request<{ status?: { conditions?: { type: string; status: string }[] } }>(
      'GET',
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`,
    );
    if (!crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True'))
      return undefined;
    await client.request('GET', resourcePath(Kinds.RocketMQProxy, 'default'));
    return true;
  });
}

export async function createNamespace(client: KubeClient, name: string): Promise<void> {
  await client.request('POST', '/api/v1/namespaces', {
    body: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
  });
  await eventually(`the default ServiceAccount in ${name}`, { timeoutMs: WAIT_MS }, async () =>
    (await client.request('GET', `/api/v1/namespaces/${name}/serviceaccounts/default`)) ? true : undefined,
  );
}

export function proxyObject(
  namespace: string,
  name: string,
  spec: RocketMQProxySpec,
  annotations?: Record<string, string>,
) {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
    spec,
  };
}

export const quietLog = {
  info: () => {},
  warn: (m: string) => {
    if (process.env['RMQP_OPERATOR_LOG']) process.stderr.write(`[operator] ${m}\n`);
  },
  error: (m: string) => process.stderr.write(`[operator] ${m}\n`),
};

export function runOperator(
  kubeconfigPath: string,
  extra: { now?: () => Date; namespaces?: string[]; client?: KubeClient } = {},
): Promise<RunningOperator> {
  return startOperator({
    client: extra.client ?? clientFor(kubeconfigPath),
    log: quietLog,
    namespaces: extra.namespaces ?? [],
    workers: 4,
    ...(extra.now ? { now: extra.now } : {}),
  });
}
