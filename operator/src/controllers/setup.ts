/**
 * Wires the RocketMQProxy controller into a manager: what it caches, which changes enqueue which
 * RocketMQProxy, and the reconciler with its TLS strategies.
 */
import type { RocketMQProxy } from '../api/types.ts';
import { LABEL_INSTANCE, MANAGED_BY } from '../resources/meta.ts';
import { Controller, keyOfControllerOwner } from '../runtime/controller.ts';
import type { KubeObject } from '../runtime/informer.ts';
import type { Manager } from '../runtime/manager.ts';
import { Children } from './children.ts';
import { Kinds } from './kinds.ts';
import { RocketMQProxyReconciler } from './rocketmqproxy.ts';
import type { DeploymentView } from './status.ts';
import { StatusWriter } from './status-writer.ts';
import { CertManagerSource } from './tls/cert-manager.ts';
import { certificateExpiryGauge } from './tls/expiry.ts';
import { OperatorCaSource } from './tls/operator-ca.ts';
import type { SecretObject } from './tls/source.ts';
import { UserSecretSource } from './tls/user-secret.ts';

export interface RocketMQProxyControllerOptions {
  workers?: number;
  now?: () => Date;
}

/**
 * What the caches keep: managedFields only where the reconciler reads them (the Deployment, for the
 * replicas hand-over to an HPA); everywhere else they are dropped — with hundreds of RocketMQProxies they
 * are a large share of the operator's memory.
 */
export function dropManagedFields(object: KubeObject): void {
  delete object.metadata.managedFields;
}

/**
 * The RocketMQProxy a child belongs to: its controller owner reference, else (a Secret cert-manager
 * issued from our Certificate's secretTemplate, which carries no owner reference) its instance label.
 */
const byOwnerReference = keyOfControllerOwner(Kinds.RocketMQProxy);
function ownerOf(object: KubeObject): string | undefined {
  const instance = object.metadata.labels?.[LABEL_INSTANCE];
  return byOwnerReference(object) ?? (instance ? `${object.metadata.namespace}/${instance}` : undefined);
}

export function setUpRocketMQProxyController(
  manager: Manager,
  options: RocketMQProxyControllerOptions = {},
): { controller: Controller; reconciler: RocketMQProxyReconciler } {
  const { cache, applier, client, events, metrics, log } = manager;
  const ours = { labelSelector: `app.kubernetes.io/managed-by=${MANAGED_BY}`, transform: dropManagedFields };
  const proxies = cache.watch<RocketMQProxy & KubeObject>(Kinds.RocketMQProxy, {
    transform: dropManagedFields,
  });
  const deployments = cache.watch<KubeObject & DeploymentView>(Kinds.Deployment, {
    labelSelector: ours.labelSelector,
  });
  const secrets = cache.watch<SecretObject>(Kinds.Secret, ours);
  const children = {
    deployments,
    services: cache.watch(Kinds.Service, ours),
    configMaps: cache.watch(Kinds.ConfigMap, ours),
    secrets,
    horizontalPodAutoscalers: cache.watch(Kinds.HorizontalPodAutoscaler, ours),
    podDisruptionBudgets: cache.watch(Kinds.PodDisruptionBudget, ours),
    networkPolicies: cache.watch(Kinds.NetworkPolicy, ours),
    podMonitors: cache.watch(Kinds.PodMonitor, { ...ours, optional: true }),
    certificates: cache.watch<KubeObject & { status?: { renewalTime?: string } }>(Kinds.Certificate, {
      ...ours,
      optional: true,
    }),
  };
  const expiry = certificateExpiryGauge(metrics.registry);
  const reconciler = new RocketMQProxyReconciler({
    proxies,
    children: new Children(applier, children),
    tls: {
      Operator: new OperatorCaSource({ secrets, applier, events, expiry }),
      Secret: new UserSecretSource(client),
      CertManager: new CertManagerSource({
        client,
        applier,
        secrets,
        certificates: children.certificates,
        expiry,
      }),
    },
    status: new StatusWriter(client, applier, () => metrics.conflicts.inc()),
    events,
    ...(options.now ? { now: options.now } : {}),
  });
  const controller = new Controller({
    name: 'rocketmqproxy',
    reconciler,
    metrics,
    log,
    ...(options.workers !== undefined ? { workers: options.workers } : {}),
  });
  controller.watch(proxies);
  for (const child of Object.values(children)) controller.watch(child, ownerOf);
  controller.watchPresence(children.podMonitors, proxies).watchPresence(children.certificates, proxies);
  manager.add(controller);
  return { controller, reconciler };
}
