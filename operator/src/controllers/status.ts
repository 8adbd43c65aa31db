/**
 * Status of a RocketMQProxy as a pure function of what the reconciler saw: the Deployment's status, the
 * spec and the certificate. Conditions follow the Kubernetes conventions (positive types, CamelCase
 * reasons, observedGeneration on each, lastTransitionTime kept while the status does not flip).
 */
import type { Condition, ResolvedRocketMQProxy, RocketMQProxyStatus } from '../api/types.ts';

export interface DeploymentView {
  metadata?: { generation?: number };
  spec?: { replicas?: number };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    readyReplicas?: number;
    updatedReplicas?: number;
    availableReplicas?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export interface ConditionInput {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

/** Merges new conditions into the previous list, keeping lastTransitionTime when the status is unchanged. */
export function mergeConditions(
  previous: readonly Condition[] | undefined,
  next: readonly ConditionInput[],
  generation: number,
  now: Date,
): Condition[] {
  const out = (previous ?? []).filter((c) => !next.some((n) => n.type === c.type));
  for (const condition of next) {
    const old = previous?.find((c) => c.type === condition.type);
    out.push({
      ...condition,
      observedGeneration: generation,
      lastTransitionTime:
        old && old.status === condition.status
          ? old.lastTransitionTime
          : now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
  }
  return out.sort((a, b) => a.type.localeCompare(b.type));
}

export interface StatusFacts {
  deployment: DeploymentView | undefined;
  image: string;
  configHash: string;
  labelSelector: string;
  endpoint: string;
  headlessEndpoint: string | undefined;
  tls: RocketMQProxyStatus['tls'] | undefined;
  now: Date;
}

export function rolloutStatus(deployment: DeploymentView | undefined): {
  desired: number;
  complete: boolean;
  stalled: boolean;
} {
  const desired = deployment?.spec?.replicas ?? 0;
  const s = deployment?.status ?? {};
  const caughtUp = (s.observedGeneration ?? 0) >= (deployment?.metadata?.generation ?? 1);
  const complete =
    deployment !== undefined &&
    caughtUp &&
    (s.updatedReplicas ?? 0) === desired &&
    (s.replicas ?? 0) === desired &&
    (s.availableReplicas ?? 0) === desired;
  const stalled =
    s.conditions?.some((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded') ?? false;
  return { desired, complete, stalled };
}

export function computeStatus(proxy: ResolvedRocketMQProxy, facts: StatusFacts): RocketMQProxyStatus {
  const generation = proxy.metadata.generation ?? 0;
  const previous = proxy.status;
  const s = facts.deployment?.status ?? {};
  const { desired, complete, stalled } = rolloutStatus(facts.deployment);
  const ready = s.readyReplicas ?? 0;
  const counts = `${ready}/${desired} ready, ${s.updatedReplicas ?? 0} updated`;
  const conditions: ConditionInput[] = [
    complete && ready >= desired
      ? {
          type: 'Ready',
          status: 'True',
          reason: desired === 0 ? 'ScaledToZero' : 'AllReplicasReady',
          message: counts,
        }
      : {
          type: 'Ready',
          status: 'False',
          reason: complete ? 'ReplicasNotReady' : 'RollingOut',
          message: counts,
        },
    complete
      ? { type: 'Progressing', status: 'False', reason: 'RolloutComplete', message: counts }
      : { type: 'Progressing', status: 'True', reason: 'RollingOut', message: counts },
    stalled
      ? {
          type: 'Degraded',
          status: 'True',
          reason: 'ProgressDeadlineExceeded',
          message: `the rollout made no progress within spec.rollout.progressDeadlineSeconds (${counts})`,
        }
      : { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no problems' },
    {
      type: 'ReconciliationPaused',
      status: 'False',
      reason: 'Reconciling',
      message: 'reconciliation is active',
    },
  ];
  return {
    observedGeneration: generation,
    conditions: mergeConditions(previous?.conditions, conditions, generation, facts.now),
    desiredReplicas: desired,
    replicas: s.replicas ?? 0,
    readyReplicas: ready,
    updatedReplicas: s.updatedReplicas ?? 0,
    availableReplicas: s.availableReplicas ?? 0,
    labelSelector: facts.labelSelector,
    desiredImage: facts.image,
    ...(complete
      ? { currentImage: facts.image }
      : previous?.currentImage
        ? { currentImage: previous.currentImage }
        : {}),
    configHash: facts.configHash,
    endpoint: facts.endpoint,
    ...(facts.headlessEndpoint ? { headlessEndpoint: facts.headlessEndpoint } : {}),
    ...(facts.tls ? { tls: facts.tls } : {}),
  };
}

/** Status for a spec the operator will not act on (Degraded, Ready=False) — children are left untouched. */
export function failedStatus(
  proxy: ResolvedRocketMQProxy,
  reason: string,
  message: string,
  now: Date,
  observeGeneration = true,
): RocketMQProxyStatus {
  const generation = proxy.metadata.generation ?? 0;
  const previous = proxy.status ?? {};
  return {
    ...previous,
    observedGeneration: observeGeneration ? generation : (previous.observedGeneration ?? 0),
    conditions: mergeConditions(
      previous.conditions,
      [
        { type: 'Ready', status: 'False', reason, message },
        { type: 'Degraded', status: 'True', reason, message },
      ],
      generation,
      now,
    ),
  };
}

/** Status while waiting on something outside the operator (e.g. cert-manager issuing): not Degraded. */
export function waitingStatus(
  proxy: ResolvedRocketMQProxy,
  reason: string,
  message: string,
  now: Date,
): RocketMQProxyStatus {
  const generation = proxy.metadata.generation ?? 0;
  const previous = proxy.status ?? {};
  return {
    ...previous,
    observedGeneration: generation,
    conditions: mergeConditions(
      previous.conditions,
      [
        { type: 'Ready', status: 'False', reason, message },
        { type: 'Progressing', status: 'True', reason, message },
        { type: 'Degraded', status: 'False', reason: 'AsExpected', message: 'no problems' },
      ],
      generation,
      now,
    ),
  };
}

export function pausedStatus(proxy: ResolvedRocketMQProxy, now: Date): RocketMQProxyStatus {
  const previous = proxy.status ?? {};
  return {
    ...previous,
    conditions: mergeConditions(
      previous.conditions,
      [
        {
          type: 'ReconciliationPaused',
          status: 'True',
          reason: 'PausedByAnnotation',
          message: 'rmqproxy.io/pause-reconciliation is "true"',
        },
      ],
      previous.observedGeneration ?? 0,
      now,
    ),
  };
}

/** Equality ignoring key order, for "skip the status write when nothing changed". */
export function sameStatus(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([x], [y]) => x.localeCompare(y)),
        )
      : v,
  );
}
