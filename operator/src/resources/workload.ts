/**
 * Desired Deployment, Services, HPA, PodDisruptionBudget, NetworkPolicy, ConfigMap and Secrets for a
 * RocketMQProxy: pure functions of the (defaulted) object plus the few facts the reconciler looked up
 * (config hash, certificate hash). Returned objects are exactly what is server-side applied.
 */
import type {
  V1ConfigMap,
  V1Deployment,
  V1PodDisruptionBudget,
  V1Secret,
  V1Service,
  V2HorizontalPodAutoscaler,
  V2MetricSpec,
} from '@kubernetes/client-node';
import { Annotation, DEFAULT_PROXY_IMAGE, PodAnnotation, SecretAnnotation } from '../api/constants.ts';
import type { ResolvedRocketMQProxy } from '../api/types.ts';
import type { CertificatePlan } from './certificates.ts';
import { CONFIG_DIR, CONFIG_FILE_NAME, TLS_DIR } from './config.ts';
import { childMeta, childNames, selectorLabels } from './meta.ts';

export const DEFAULT_REPLICAS = 2;
export const RPC_METRIC = 'rocketmq_proxy_grpc_requests_per_second';
export const DEFAULT_CPU_TARGET = 70;
export const CONTAINER_NAME = 'proxy';

/** Pod UID/GID of the proxy image (non-root, matches the Dockerfile). */
const RUN_AS = 65532;

export const imageOf = (proxy: ResolvedRocketMQProxy): string => proxy.spec.image ?? DEFAULT_PROXY_IMAGE;

/** Replicas the operator asks for, or undefined while the HPA owns the count. */
export function specReplicas(proxy: ResolvedRocketMQProxy): number | undefined {
  return proxy.spec.autoscaling?.enabled ? undefined : (proxy.spec.replicas ?? DEFAULT_REPLICAS);
}

export interface WorkloadInputs {
  configHash: string;
  /** Hash of the serving certificate when TLS is on (the proxy loads it only at start). */
  certificateHash: string | undefined;
}

export function buildConfigMap(proxy: ResolvedRocketMQProxy, yaml: string): V1ConfigMap {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: childMeta(proxy, childNames(proxy.metadata.name).config),
    data: { [CONFIG_FILE_NAME]: yaml },
  };
}

export function buildDeployment(proxy: ResolvedRocketMQProxy, inputs: WorkloadInputs): V1Deployment {
  const { spec } = proxy;
  const name = proxy.metadata.name;
  const names = childNames(name);
  const selector = selectorLabels(name);
  const podAnnotations: Record<string, string> = {
    ...(spec.template?.annotations ?? {}),
    [PodAnnotation.CONFIG_HASH]: inputs.configHash,
  };
  if (inputs.certificateHash) podAnnotations[PodAnnotation.CERT_HASH] = inputs.certificateHash;
  const restart = proxy.metadata.annotations?.[Annotation.RESTART];
  if (restart) podAnnotations[PodAnnotation.RESTART] = restart;
  const replicas = specReplicas(proxy);
  const volumes: NonNullable<NonNullable<NonNullable<V1Deployment['spec']>['template']['spec']>['volumes']> =
    [
      { name: 'config', configMap: { name: names.config } },
      { name: 'tmp', emptyDir: { sizeLimit: '64Mi' } },
    ];
  const mounts = [
    { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
    { name: 'tmp', mountPath: '/tmp' },
  ];
  if (spec.tls.enabled) {
    const secretName = spec.tls.source === 'Secret' ? spec.tls.secretName! : names.tlsSecret;
    volumes.push({ name: 'tls', secret: { secretName, defaultMode: 0o440 } });
    mounts.push({ name: 'tls', mountPath: TLS_DIR, readOnly: true });
  }
  const probe = (path: string) => ({ httpGet: { path, port: 'admin' }, periodSeconds: 5 });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: childMeta(proxy, names.deployment),
    spec: {
      ...(replicas === undefined ? {} : { replicas }),
      selector: { matchLabels: selector },
      revisionHistoryLimit: 5,
      minReadySeconds: spec.rollout.minReadySeconds,
      progressDeadlineSeconds: spec.rollout.progressDeadlineSeconds,
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate: { maxSurge: spec.rollout.maxSurge, maxUnavailable: 0 },
      },
      template: {
        metadata: {
          labels: { ...(spec.template?.labels ?? {}), ...childMeta(proxy, '').labels },
          annotations: podAnnotations,
        },
        spec: {
          ...(spec.template?.serviceAccountName
            ? { serviceAccountName: spec.template.serviceAccountName }
            : {}),
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          terminationGracePeriodSeconds: spec.rollout.terminationGracePeriodSeconds,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: RUN_AS,
            runAsGroup: RUN_AS,
            fsGroup: RUN_AS,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          topologySpreadConstraints: ['kubernetes.io/hostname', 'topology.kubernetes.io/zone'].map(
            (topologyKey) => ({
              maxSkew: 1,
              topologyKey,
              whenUnsatisfiable: 'ScheduleAnyway',
              labelSelector: { matchLabels: selector },
            }),
          ),
          ...(spec.template?.nodeSelector ? { nodeSelector: spec.template.nodeSelector } : {}),
          ...(spec.template?.tolerations ? { tolerations: spec.template.tolerations as object[] } : {}),
          ...(spec.template?.affinity ? { affinity: spec.template.affinity as object } : {}),
          ...(spec.template?.priorityClassName ? { priorityClassName: spec.template.priorityClassName } : {}),
          containers: [
            {
              name: CONTAINER_NAME,
              image: imageOf(proxy),
              imagePullPolicy: spec.imagePullPolicy,
              args: ['serve', '--config', `${CONFIG_DIR}/${CONFIG_FILE_NAME}`],
              ports: [
                { name: 'grpc', containerPort: spec.ports.grpc, protocol: 'TCP' },
                { name: 'admin', containerPort: spec.ports.admin, protocol: 'TCP' },
              ],
              env: (spec.template?.env ?? []).map((e) => ({ name: e.name, value: e.value ?? '' })),
              resources: spec.resources as object,
              readinessProbe: { ...probe('/readyz'), failureThreshold: 2 },
              livenessProbe: { ...probe('/livez'), failureThreshold: 3 },
              startupProbe: { ...probe('/livez'), periodSeconds: 2, failureThreshold: 30 },
              ...(spec.rollout.preStopSleepSeconds > 0
                ? { lifecycle: { preStop: { sleep: { seconds: spec.rollout.preStopSleepSeconds } } } }
                : {}),
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  } as V1Deployment;
}

export function buildService(proxy: ResolvedRocketMQProxy): V1Service {
  const { spec } = proxy;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(proxy, childNames(proxy.metadata.name).service, spec.service.annotations),
    spec: {
      type: spec.service.type,
      selector: selectorLabels(proxy.metadata.name),
      ports: [
        {
          name: 'grpc',
          port: spec.ports.grpc,
          targetPort: 'grpc',
          protocol: 'TCP',
          appProtocol: 'kubernetes.io/h2c',
        },
        { name: 'admin', port: spec.ports.admin, targetPort: 'admin', protocol: 'TCP' },
      ],
    },
  } as V1Service;
}

export function buildHeadlessService(proxy: ResolvedRocketMQProxy): V1Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: childMeta(proxy, childNames(proxy.metadata.name).headless),
    spec: {
      clusterIP: 'None',
      selector: selectorLabels(proxy.metadata.name),
      ports: [{ name: 'grpc', port: proxy.spec.ports.grpc, targetPort: 'grpc', protocol: 'TCP' }],
    },
  } as V1Service;
}

/** Defaults chosen for long-lived gRPC connections: scale up fast, scale down one pod a minute. */
export const DEFAULT_BEHAVIOR = {
  scaleUp: {
    stabilizationWindowSeconds: 0,
    selectPolicy: 'Max',
    policies: [{ type: 'Percent', value: 100, periodSeconds: 30 }],
  },
  scaleDown: {
    stabilizationWindowSeconds: 300,
    selectPolicy: 'Max',
    policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }],
  },
} as const;

export function buildHpa(proxy: ResolvedRocketMQProxy): V2HorizontalPodAutoscaler | undefined {
  const autoscaling = proxy.spec.autoscaling;
  if (!autoscaling?.enabled) return undefined;
  const metrics: V2MetricSpec[] = [];
  const cpu =
    autoscaling.targetCPUUtilizationPercentage ??
    (autoscaling.targetRPCPerPod ? undefined : DEFAULT_CPU_TARGET);
  if (cpu !== undefined) {
    metrics.push({
      type: 'Resource',
      resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: cpu } },
    });
  }
  if (autoscaling.targetRPCPerPod !== undefined) {
    metrics.push({
      type: 'Pods',
      pods: {
        metric: { name: RPC_METRIC },
        target: { type: 'AverageValue', averageValue: String(autoscaling.targetRPCPerPod) },
      },
    } as V2MetricSpec);
  }
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: childMeta(proxy, childNames(proxy.metadata.name).hpa),
    spec: {
      scaleTargetRef: {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        name: childNames(proxy.metadata.name).deployment,
      },
      minReplicas: autoscaling.minReplicas,
      maxReplicas: autoscaling.maxReplicas,
      metrics,
      behavior: (autoscaling.behavior ?? DEFAULT_BEHAVIOR) as object,
    },
  } as V2HorizontalPodAutoscaler;
}

/** No PDB below two pods: with one pod, any budget would block node drains forever. */
export function buildPdb(proxy: ResolvedRocketMQProxy): V1PodDisruptionBudget | undefined {
  const { podDisruptionBudget: pdb, autoscaling } = proxy.spec;
  if (!pdb.enabled) return undefined;
  const floor = autoscaling?.enabled ? autoscaling.minReplicas : (proxy.spec.replicas ?? DEFAULT_REPLICAS);
  if (floor < 2) return undefined;
  const budget =
    pdb.minAvailable !== undefined
      ? { minAvailable: pdb.minAvailable }
      : { maxUnavailable: pdb.maxUnavailable ?? 1 };
  return {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: childMeta(proxy, childNames(proxy.metadata.name).pdb),
    spec: { selector: { matchLabels: selectorLabels(proxy.metadata.name) }, ...budget },
  } as V1PodDisruptionBudget;
}

/**
 * Raw JSON shape: the typed client model renames `from` to `_from`, so it cannot describe what we send.
 */
export interface NetworkPolicyObject {
  apiVersion: 'networking.k8s.io/v1';
  kind: 'NetworkPolicy';
  metadata: ReturnType<typeof childMeta>;
  spec: {
    podSelector: { matchLabels: Record<string, string> };
    policyTypes: string[];
    ingress: { ports: { protocol: string; port: number }[]; from?: Record<string, unknown>[] }[];
  };
}

export function buildNetworkPolicy(proxy: ResolvedRocketMQProxy): NetworkPolicyObject | undefined {
  const policy = proxy.spec.networkPolicy;
  if (!policy?.enabled) return undefined;
  const rule = (port: number, from: Record<string, unknown>[] | undefined) => ({
    ports: [{ protocol: 'TCP', port }],
    ...(from && from.length > 0 ? { from } : {}),
  });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: childMeta(proxy, childNames(proxy.metadata.name).networkPolicy),
    spec: {
      podSelector: { matchLabels: selectorLabels(proxy.metadata.name) },
      policyTypes: ['Ingress'],
      ingress: [rule(proxy.spec.ports.grpc, policy.from), rule(proxy.spec.ports.admin, policy.metricsFrom)],
    },
  };
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');

export function buildCaSecret(proxy: ResolvedRocketMQProxy, plan: CertificatePlan): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(proxy, childNames(proxy.metadata.name).caSecret, {
      [SecretAnnotation.NOT_AFTER]: plan.caNotAfter.toISOString(),
    }),
    type: 'Opaque',
    data: { 'ca.crt': b64(plan.ca.certPem), 'ca.key': b64(plan.ca.keyPem) },
  };
}

export function buildTlsSecret(proxy: ResolvedRocketMQProxy, plan: CertificatePlan): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: childMeta(proxy, childNames(proxy.metadata.name).tlsSecret, {
      [SecretAnnotation.NOT_AFTER]: plan.notAfter.toISOString(),
      [SecretAnnotation.RENEW_AT]: plan.renewAt.toISOString(),
    }),
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': b64(plan.server.certPem),
      'tls.key': b64(plan.server.keyPem),
      'ca.crt': b64(plan.ca.certPem),
    },
  };
}
