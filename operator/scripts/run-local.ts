/**
 * `make run-operator`: a local control plane from the test harness (etcd, kube-apiserver,
 * controller-manager, scheduler, KWOK), the CRD, the operator (in this process) and the minimal sample,
 * then a status line whenever the sample changes. Ctrl-C stops everything. Prints a KUBECONFIG to use
 * with any kubectl, e.g. `kubectl get rmqp -A`.
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { startControlPlane } from '../../test/harness/kube/controlplane.ts';
import { CRD_NAME } from '../src/api/constants.ts';
import { buildCrd } from '../src/api/crd.ts';
import type { RocketMQProxy } from '../src/api/types.ts';
import { Kinds } from '../src/controllers/kinds.ts';
import { loadKubeConfig, startOperator } from '../src/operator.ts';
import { ContentType, HttpsKubeClient } from '../src/runtime/client.ts';
import { resourcePath } from '../src/runtime/kinds.ts';

const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

const kube = await startControlPlane({ log: (line) => out(`[kube] ${line}`) });
const client = new HttpsKubeClient(loadKubeConfig(kube.kubeconfigPath));
const log = {
  info: (m: string) => out(`[operator] ${m}`),
  warn: (m: string) => out(`[operator] ${m}`),
  error: (m: string) => out(`[operator] ${m}`),
};
let operator: Awaited<ReturnType<typeof startOperator>> | undefined;
let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  await operator?.stop();
  await kube.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());

try {
  await client.request('PATCH', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`, {
    body: buildCrd(),
    contentType: ContentType.APPLY_PATCH,
    query: { fieldManager: 'run-operator', force: true },
  });
  for (let i = 0; ; i++) {
    try {
      await client.request('GET', resourcePath(Kinds.RocketMQProxy, 'default'));
      break;
    } catch (error) {
      if (i > 100) throw error;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  operator = await startOperator({ client, log, httpPort: 0, httpHost: '127.0.0.1' });
  out(`[operator] running; /metrics on http://127.0.0.1:${operator.httpPort}/metrics`);
  const sample = parse(readFileSync('manifests/samples/minimal.yaml', 'utf8')) as RocketMQProxy;
  await client.request(
    'PATCH',
    resourcePath(Kinds.RocketMQProxy, sample.metadata.namespace, sample.metadata.name),
    {
      body: sample,
      contentType: ContentType.APPLY_PATCH,
      query: { fieldManager: 'run-operator', force: true },
    },
  );
  out(
    `applied manifests/samples/minimal.yaml\n\n  export KUBECONFIG=${kube.kubeconfigPath}\n  kubectl get rmqp -A\n`,
  );
  let last = '';
  for (;;) {
    const p = await client.request<RocketMQProxy>(
      'GET',
      resourcePath(Kinds.RocketMQProxy, 'default', sample.metadata.name),
    );
    const ready = p.status?.conditions?.find((c) => c.type === 'Ready');
    const line = `NAME ${p.metadata.name}  MODE ${p.spec.mode}  DESIRED ${p.status?.desiredReplicas ?? '-'}  READY ${p.status?.readyReplicas ?? '-'}  AVAILABLE ${p.status?.availableReplicas ?? '-'}  Ready=${ready?.status ?? '?'} (${ready?.reason ?? ''})  ENDPOINT ${p.status?.endpoint ?? '-'}`;
    if (line !== last) out(line);
    last = line;
    if (process.env['RUN_OPERATOR_EXIT_WHEN_READY'] === '1' && ready?.status === 'True') await stop();
    await new Promise((r) => setTimeout(r, 1000));
  }
} catch (error) {
  out(`run-operator failed: ${String(error)}`);
  await operator?.stop();
  await kube.stop();
  process.exit(1);
}
