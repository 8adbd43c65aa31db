/**
 * Applies the complete desired children of a RocketMQProxy (server-side apply, one field manager) and
 * deletes the optional ones the spec no longer wants — only ones this RocketMQProxy controls.
 */
import type { ResolvedRocketMQProxy } from '../api/types.ts';
import type { RenderedConfig } from '../resources/config.ts';
import { buildPodMonitor } from '../resources/integrations.ts';
import { childNames } from '../resources/meta.ts';
import {
  buildConfigMap,
  buildDeployment,
  buildHeadlessService,
  buildHpa,
  buildNetworkPolicy,
  buildPdb,
  buildService,
} from '../resources/workload.ts';
import type { Applier, Applyable } from '../runtime/apply.ts';
import type { KubeObject } from '../runtime/informer.ts';
import type { Kind } from '../runtime/kinds.ts';
import type { CachedKind } from '../runtime/source.ts';
import { Kinds } from './kinds.ts';
import type { DeploymentView } from './status.ts';

export interface ChildCaches {
  deployments: CachedKind<KubeObject & DeploymentView>;
  services: CachedKind;
  podDisruptionBudgets: CachedKind;
  networkPolicies: CachedKind;
  horizontalPodAutoscalers: CachedKind;
  podMonitors: CachedKind;
}

export class Children {
  readonly #applier: Applier;
  readonly #caches: ChildCaches;

  constructor(applier: Applier, caches: ChildCaches) {
    this.#applier = applier;
    this.#caches = caches;
  }

  /** Returns the applied Deployment (what the status is computed from). */
  async apply(
    proxy: ResolvedRocketMQProxy,
    config: RenderedConfig,
    certificateHash: string | undefined,
  ): Promise<DeploymentView> {
    const names = childNames(proxy.metadata.name);
    const c = this.#caches;
    await this.#applier.apply(buildConfigMap(proxy, config.yaml));
    await this.#applier.apply(buildService(proxy));
    const optional: [Applyable | undefined, string, Kind, CachedKind][] = [
      [
        proxy.spec.service.headless ? buildHeadlessService(proxy) : undefined,
        names.headless,
        Kinds.Service,
        c.services,
      ],
      [buildPdb(proxy), names.pdb, Kinds.PodDisruptionBudget, c.podDisruptionBudgets],
      [buildNetworkPolicy(proxy), names.networkPolicy, Kinds.NetworkPolicy, c.networkPolicies],
      [buildHpa(proxy), names.hpa, Kinds.HorizontalPodAutoscaler, c.horizontalPodAutoscalers],
    ];
    // A PodMonitor only while the Prometheus Operator's CRD serves it.
    if (c.podMonitors.available)
      optional.push([buildPodMonitor(proxy), names.podMonitor, Kinds.PodMonitor, c.podMonitors]);
    for (const [desired, name, kind, cache] of optional) {
      if (desired) await this.#applier.apply(desired);
      else
        await this.#applier.deleteOwned(
          kind,
          cache.get(proxy.metadata.namespace, name),
          proxy.metadata.uid ?? '',
        );
    }
    const desired = buildDeployment(proxy, { configHash: config.hash, certificateHash });
    if (desired.spec?.replicas === undefined)
      await this.#handOverReplicas(proxy.metadata.namespace, names.deployment);
    return this.#applier.apply<KubeObject & DeploymentView>(desired);
  }

  /**
   * When autoscaling turns on, our apply stops carrying spec.replicas. Had we owned it only through that
   * apply, the server would drop the field and the Deployment would fall back to 1 replica. So first
   * apply the current value through the scale subresource (same field manager, a separate managedFields
   * entry): the field stays owned there, and the HPA takes it over with its first scale write.
   * (A merge-patch "update" of an unchanged value would not do: no-op writes record no ownership.)
   */
  async #handOverReplicas(namespace: string, name: string): Promise<void> {
    const existing = this.#caches.deployments.get(namespace, name);
    const owned = existing?.metadata.managedFields?.some(
      (entry) =>
        entry.manager === this.#applier.fieldManager &&
        entry.operation === 'Apply' &&
        !entry.subresource &&
        JSON.stringify(entry.fieldsV1 ?? {}).includes('"f:replicas"'),
    );
    if (!existing || !owned) return;
    await this.#applier.applySubresource(Kinds.Deployment, namespace, name, 'scale', {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name, namespace },
      spec: { replicas: existing.spec?.replicas ?? 1 },
    });
  }
}
