/**
 * The RocketMQProxy v1alpha1 schema: the single source of the CRD's openAPIV3Schema (see crd.ts) and of
 * the TypeScript API types (types.ts). Every property has a description so `kubectl explain` teaches the
 * API; cross-field rules are CEL (x-kubernetes-validations) with messages that say what to do.
 */
import { CONFIG_KEYS, LOG_LEVELS } from '../../../proxy/src/config/keys.ts';
import { MANAGED_CONFIG_KEYS } from './constants.ts';
import { type NumberSchema, type Schema, type StringSchema, withFullDefault } from './schema-kit.ts';

/** Go duration, as CEL's duration() and the Kubernetes API accept it (e.g. 2160h, 90m, 30s). */
const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ns|us|ms|s|m|h))+$';
/** Prometheus duration (no fractions), e.g. 30s, 1m, 1m30s. */
const PROM_DURATION_PATTERN = '^([0-9]+(ms|s|m|h))+$';
const HOST_PORT_PATTERN = '^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:[0-9]{1,5}$';

/** Config keys a user may set: the proxy's keys minus those the operator derives from the spec. */
export const USER_CONFIG_KEYS: readonly string[] = CONFIG_KEYS.map((key) => key.path).filter(
  (path) => !(MANAGED_CONFIG_KEYS as readonly string[]).includes(path),
);

/** One typed, documented property per user-settable proxy key, generated from the proxy's own key table. */
type ConfigValueSchema =
  | StringSchema
  | NumberSchema
  | { type: 'array'; description: string; maxItems: number; items: StringSchema };

function configProperties(): Record<string, ConfigValueSchema> {
  const properties: Record<string, ConfigValueSchema> = {};
  for (const key of CONFIG_KEYS) {
    if (!USER_CONFIG_KEYS.includes(key.path)) continue;
    const description = `${key.description.replace(/`/g, '')}${key.default === undefined ? '' : ` Default: ${String(key.default)}.`}`;
    if (key.kind === 'integer') properties[key.path] = { type: 'integer', description };
    else if (key.kind === 'number') properties[key.path] = { type: 'number', description };
    else if (key.kind === 'list')
      properties[key.path] = {
        type: 'array',
        description,
        maxItems: 64,
        items: { type: 'string', maxLength: 512, description: 'item' },
      };
    else if (key.path === 'log.level')
      properties[key.path] = { type: 'string', enum: LOG_LEVELS, description };
    else properties[key.path] = { type: 'string', maxLength: 1024, description };
  }
  return properties;
}

const labelMap = (description: string) =>
  ({ type: 'object', description, additionalProperties: { type: 'string', description: 'value' } }) as const;

const opaque = (description: string) =>
  ({ type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true }) as const;

const quantityMap = (description: string) =>
  ({
    type: 'object',
    description,
    maxProperties: 8,
    additionalProperties: {
      'x-kubernetes-int-or-string': true,
      description: 'A Kubernetes quantity, e.g. 500m, 2, 512Mi.',
      pattern: '^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$',
    },
  }) as const;

const port = (description: string, defaultPort: number) =>
  ({ type: 'integer', description, minimum: 1024, maximum: 65535, default: defaultPort }) as const;

export const specSchema = {
  type: 'object',
  description: 'Desired state of a RocketMQ gRPC proxy fleet.',
  required: ['nameServers'],
  properties: {
    mode: {
      type: 'string',
      enum: ['Cluster', 'Local'],
      default: 'Cluster',
      description:
        'Cluster runs the proxy as its own Deployment behind a Service. Local (a proxy next to every broker) is ' +
        'reserved: this operator version reports it as Degraded (reason LocalModeUnsupported). Immutable.',
      'x-kubernetes-validations': [
        {
          rule: 'self == oldSelf',
          message: 'spec.mode is immutable; create a new RocketMQProxy to change it',
          reason: 'FieldValueForbidden',
        },
      ],
    },
    image: {
      type: 'string',
      description: 'Proxy container image. A change rolls the pods. Default: the operator release image.',
      maxLength: 512,
      pattern: '^[^\\s]+$',
    },
    imagePullPolicy: {
      type: 'string',
      enum: ['Always', 'IfNotPresent', 'Never'],
      default: 'IfNotPresent',
      description: 'Pull policy of the proxy container.',
    },
    replicas: {
      type: 'integer',
      minimum: 0,
      maximum: 1000,
      description:
        'Number of proxy pods when autoscaling is off (unset: 2). Must be unset while autoscaling.enabled is ' +
        'true. Also the spec path of the scale subresource (kubectl scale rmqp NAME --replicas N).',
    },
    nameServers: {
      type: 'object',
      description: 'Where the RocketMQ NameServers are.',
      required: ['addresses'],
      properties: {
        addresses: {
          type: 'array',
          description:
            'NameServer host:port list; use Service DNS names (never pod IPs). A change rolls the pods.',
          minItems: 1,
          maxItems: 16,
          items: { type: 'string', description: 'host:port', pattern: HOST_PORT_PATTERN, maxLength: 260 },
        },
      },
    },
    ports: withFullDefault({
      type: 'object',
      description: 'Container and Service ports.',
      properties: {
        grpc: port('gRPC port clients connect to (proxy listen.port).', 8081),
        admin: port('Admin HTTP port: /livez, /readyz (probes) and /metrics (proxy admin.port).', 8082),
      },
      'x-kubernetes-validations': [
        { rule: 'self.grpc != self.admin', message: 'spec.ports.grpc and spec.ports.admin must differ' },
      ],
    }),

    config: {
      type: 'object',
      description:
        'Further proxy settings by their dotted key as in docs/configuration.md (e.g. "limits.maxBodyBytes": ' +
        '8388608). Keys the operator derives from the spec (name servers, ports, TLS) do not exist here; unknown ' +
        'keys are rejected by kubectl (strict field validation) or dropped by the API server. A change rolls the pods.',
      properties: configProperties(),
    },

    resources: {
      type: 'object',
      description: 'Compute resources of the proxy container.',
      default: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '512Mi' } },
      properties: {
        requests: quantityMap('Requested resources (cpu, memory). CPU autoscaling needs requests.cpu.'),
        limits: quantityMap('Resource limits (cpu, memory).'),
      },
    },
    autoscaling: {
      type: 'object',
      description:
        'Horizontal autoscaling with an autoscaling/v2 HorizontalPodAutoscaler on the Deployment. While enabled, ' +
        'the HPA owns the replica count and spec.replicas must be unset.',
      properties: {
        enabled: { type: 'boolean', default: false, description: 'Create the HorizontalPodAutoscaler.' },
        minReplicas: { type: 'integer', minimum: 1, maximum: 1000, default: 2, description: 'Lower bound.' },
        maxReplicas: { type: 'integer', minimum: 1, maximum: 1000, default: 10, description: 'Upper bound.' },
        targetCPUUtilizationPercentage: {
          type: 'integer',
          minimum: 1,
          maximum: 100,
          description: 'Average CPU utilisation (of requests.cpu) to hold. Unset with no other target: 70.',
        },
        targetRPCPerPod: {
          type: 'integer',
          minimum: 1,
          description:
            'Average gRPC requests per second per pod to hold, read as the Pods metric ' +
            'rocketmq_proxy_grpc_requests_per_second (needs a custom-metrics adapter such as prometheus-adapter).',
        },
        behavior: opaque(
          'autoscaling/v2 HorizontalPodAutoscalerBehavior. Unset: scale up at most 100% per 30 s, scale down one ' +
            'pod per 60 s after a 300 s stabilisation window.',
        ),
      },
      'x-kubernetes-validations': [
        {
          rule: 'self.minReplicas <= self.maxReplicas',
          message: 'spec.autoscaling.minReplicas must not exceed spec.autoscaling.maxReplicas',
        },
      ],
    },
    service: withFullDefault({
      type: 'object',
      description: 'The Service in front of the proxy pods.',
      properties: {
        type: {
          type: 'string',
          enum: ['ClusterIP', 'NodePort', 'LoadBalancer'],
          default: 'ClusterIP',
          description: 'Service type.',
        },
        annotations: labelMap('Extra Service annotations (e.g. for a cloud load balancer).'),
        headless: {
          type: 'boolean',
          default: true,
          description:
            'Also create <name>-headless, a headless Service for client-side gRPC load balancing ' +
            '(long-lived HTTP/2 connections otherwise stay on the pods they first reached).',
        },
      },
    }),

    tls: withFullDefault({
      type: 'object',
      description:
        'TLS on the gRPC port. By default the operator runs its own CA (Secret <name>-ca) and issues an ECDSA ' +
        'P-256 serving certificate (Secret <name>-tls) for the Service names, renewing it before expiry.',
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Serve TLS (false: plaintext only).' },
        mode: {
          type: 'string',
          enum: ['Permissive', 'Enforcing'],
          default: 'Permissive',
          description: 'Permissive accepts TLS and plaintext on one port; Enforcing accepts TLS only.',
        },
        source: {
          type: 'string',
          enum: ['Operator', 'Secret', 'CertManager'],
          default: 'Operator',
          description:
            'Operator: issued by the operator CA. Secret: spec.tls.secretName holds tls.crt and tls.key. ' +
            'CertManager: the operator creates a cert-manager.io/v1 Certificate <name> for the Service names ' +
            '(issued by spec.tls.issuerRef into Secret <name>-tls) and waits for that Secret.',
        },
        issuerRef: {
          type: 'object',
          description:
            'The cert-manager Issuer or ClusterIssuer that signs the certificate (source CertManager only). ' +
            'certificateValidity and renewBefore become the Certificate duration and renewBefore.',
          required: ['name'],
          properties: {
            name: { type: 'string', maxLength: 253, description: 'Issuer name.' },
            kind: {
              type: 'string',
              maxLength: 63,
              default: 'Issuer',
              description: 'Issuer (same namespace) or ClusterIssuer, or an external issuer kind.',
            },
            group: {
              type: 'string',
              maxLength: 253,
              default: 'cert-manager.io',
              description: 'API group of the issuer (external issuers have their own).',
            },
          },
        },
        secretName: {
          type: 'string',
          maxLength: 253,
          description: 'A kubernetes.io/tls Secret in the same namespace (source Secret only).',
        },
        dnsNames: {
          type: 'array',
          maxItems: 32,
          description: 'Extra DNS names for the certificate (the Service names are always included).',
          items: { type: 'string', maxLength: 253, description: 'DNS name.' },
        },
        ipAddresses: {
          type: 'array',
          maxItems: 16,
          description: 'Extra IP addresses for the certificate.',
          items: { type: 'string', maxLength: 45, description: 'IPv4 or IPv6 address.' },
        },
        certificateValidity: {
          type: 'string',
          pattern: DURATION_PATTERN,
          default: '2160h',
          description: 'Lifetime of the serving certificate (Go duration).',
        },
        renewBefore: {
          type: 'string',
          pattern: DURATION_PATTERN,
          default: '360h',
          description: 'Renew the serving certificate this long before it expires. Renewal rolls the pods.',
        },
        caValidity: {
          type: 'string',
          pattern: DURATION_PATTERN,
          default: '26280h',
          description:
            'Lifetime of the operator CA; it is replaced (and the serving certificate re-issued) in its last third.',
        },
      },
      'x-kubernetes-validations': [
        {
          rule: "self.source != 'Secret' || has(self.secretName)",
          message: 'spec.tls.secretName is required when spec.tls.source is Secret',
        },
        {
          rule: "self.source != 'CertManager' || has(self.issuerRef)",
          message: 'spec.tls.issuerRef is required when spec.tls.source is CertManager',
        },
        {
          rule: 'duration(self.certificateValidity) > duration(self.renewBefore)',
          message: 'spec.tls.renewBefore must be shorter than spec.tls.certificateValidity',
        },
      ],
    }),

    podDisruptionBudget: withFullDefault({
      type: 'object',
      description:
        'PodDisruptionBudget for the proxy pods (skipped while fewer than 2 replicas are desired).',
      properties: {
        enabled: { type: 'boolean', default: true, description: 'Create the PodDisruptionBudget.' },
        maxUnavailable: {
          'x-kubernetes-int-or-string': true,
          description: 'Pods that may be down at once (count or percentage). Unset and no minAvailable: 1.',
        },
        minAvailable: {
          'x-kubernetes-int-or-string': true,
          description: 'Pods that must stay up (count or percentage); excludes maxUnavailable.',
        },
      },
      'x-kubernetes-validations': [
        {
          rule: '!(has(self.maxUnavailable) && has(self.minAvailable))',
          message: 'spec.podDisruptionBudget: set maxUnavailable or minAvailable, not both',
        },
      ],
    }),

    rollout: withFullDefault({
      type: 'object',
      description: 'Rolling update and shutdown. Pods are replaced surge-first: maxUnavailable is always 0.',
      properties: {
        maxSurge: {
          'x-kubernetes-int-or-string': true,
          default: '25%',
          description: 'Extra pods during a rolling update (count or percentage, at least 1 pod).',
        },
        minReadySeconds: {
          type: 'integer',
          minimum: 0,
          maximum: 3600,
          default: 0,
          description: 'Seconds a new pod must be Ready before it counts as available.',
        },
        progressDeadlineSeconds: {
          type: 'integer',
          minimum: 30,
          maximum: 86400,
          default: 600,
          description: 'A rollout without progress for this long sets Degraded (ProgressDeadlineExceeded).',
        },
        preStopSleepSeconds: {
          type: 'integer',
          minimum: 0,
          maximum: 300,
          default: 10,
          description: 'Sleep before SIGTERM so endpoints stop routing to a terminating pod.',
        },
        terminationGracePeriodSeconds: {
          type: 'integer',
          minimum: 1,
          maximum: 3600,
          default: 60,
          description:
            'Total shutdown budget; must cover preStopSleepSeconds plus the proxy drain ' +
            '(timeouts.shutdownGraceMs, 30 s by default, which also covers 20 s long polls).',
        },
      },
      'x-kubernetes-validations': [
        {
          rule: "!(string(self.maxSurge) in ['0', '0%'])",
          message: 'spec.rollout.maxSurge must be at least 1 pod (maxUnavailable is fixed at 0)',
        },
        {
          rule: 'self.terminationGracePeriodSeconds >= self.preStopSleepSeconds + 30',
          message:
            'spec.rollout.terminationGracePeriodSeconds must be at least preStopSleepSeconds + 30 (the proxy drain)',
        },
      ],
    }),

    monitoring: withFullDefault({
      type: 'object',
      description: 'Prometheus scraping of the admin port (/metrics).',
      properties: {
        podMonitor: {
          type: 'boolean',
          default: true,
          description:
            'Create a monitoring.coreos.com/v1 PodMonitor <name> when the Prometheus Operator CRDs are ' +
            'installed (nothing happens without them; it appears as soon as they are installed).',
        },
        interval: {
          type: 'string',
          pattern: PROM_DURATION_PATTERN,
          maxLength: 32,
          default: '30s',
          description: 'Scrape interval (Prometheus duration).',
        },
        labels: labelMap(
          'Extra PodMonitor labels, e.g. release: prometheus to match a Prometheus podMonitorSelector.',
        ),
      },
    }),

    networkPolicy: {
      type: 'object',
      description:
        'Optional NetworkPolicy admitting clients to the gRPC port and scrapers to the admin port.',
      properties: {
        enabled: { type: 'boolean', default: false, description: 'Create the NetworkPolicy.' },
        from: {
          type: 'array',
          maxItems: 32,
          description: 'NetworkPolicyPeer list allowed on the gRPC port (empty: everyone).',
          items: opaque('networking.k8s.io/v1 NetworkPolicyPeer.'),
        },
        metricsFrom: {
          type: 'array',
          maxItems: 32,
          description: 'NetworkPolicyPeer list allowed on the admin port (empty: everyone).',
          items: opaque('networking.k8s.io/v1 NetworkPolicyPeer.'),
        },
      },
    },
    template: {
      type: 'object',
      description: 'Pod-level customisation of the generated Deployment.',
      properties: {
        labels: labelMap('Extra pod labels.'),
        annotations: labelMap('Extra pod annotations.'),
        nodeSelector: labelMap('Node selector.'),
        tolerations: {
          type: 'array',
          maxItems: 32,
          description: 'Pod tolerations.',
          items: opaque('core/v1 Toleration.'),
        },
        affinity: opaque('core/v1 Affinity (replaces nothing: topology spread is always added).'),
        priorityClassName: { type: 'string', maxLength: 253, description: 'Pod priority class.' },
        serviceAccountName: { type: 'string', maxLength: 253, description: 'Pod service account.' },
        env: {
          type: 'array',
          maxItems: 64,
          description: 'Extra environment variables of the proxy container (a change rolls the pods).',
          items: {
            type: 'object',
            description: 'Environment variable.',
            required: ['name'],
            properties: {
              name: { type: 'string', maxLength: 256, description: 'Variable name.' },
              value: { type: 'string', maxLength: 4096, description: 'Variable value.' },
            },
          },
        },
      },
    },
  },
  'x-kubernetes-validations': [
    {
      rule: '!(has(self.autoscaling) && self.autoscaling.enabled && has(self.replicas))',
      message:
        'spec.replicas must be unset while spec.autoscaling.enabled is true: the HorizontalPodAutoscaler owns the replica count',
    },
    {
      rule: '!(has(self.autoscaling) && self.autoscaling.enabled && has(self.autoscaling.targetCPUUtilizationPercentage)) || has(self.resources.requests) && has(self.resources.requests.cpu)',
      message: 'spec.autoscaling.targetCPUUtilizationPercentage needs spec.resources.requests.cpu',
    },
  ],
} as const satisfies Schema;

const condition = {
  type: 'object',
  description: 'A Kubernetes-convention condition.',
  required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  properties: {
    type: {
      type: 'string',
      maxLength: 64,
      description: 'Ready, Progressing or Degraded (or ReconciliationPaused).',
    },
    status: { type: 'string', enum: ['True', 'False', 'Unknown'], description: 'Condition status.' },
    observedGeneration: {
      type: 'integer',
      minimum: 0,
      description: 'Generation this condition was computed for.',
    },
    lastTransitionTime: { type: 'string', format: 'date-time', description: 'When the status last changed.' },
    reason: { type: 'string', maxLength: 1024, description: 'CamelCase machine-readable reason.' },
    message: { type: 'string', maxLength: 32768, description: 'Human-readable details.' },
  },
} as const satisfies Schema;

export const statusSchema = {
  type: 'object',
  description: 'Observed state, written by the operator.',
  properties: {
    observedGeneration: { type: 'integer', description: 'metadata.generation of the spec last reconciled.' },
    conditions: {
      type: 'array',
      description: 'Ready, Progressing, Degraded (and ReconciliationPaused while paused).',
      maxItems: 16,
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: condition,
    },
    desiredReplicas: {
      type: 'integer',
      description: 'Replicas asked for (spec.replicas or the HPA decision).',
    },
    replicas: { type: 'integer', description: 'Proxy pods that exist (scale subresource status path).' },
    readyReplicas: { type: 'integer', description: 'Proxy pods that are Ready.' },
    updatedReplicas: { type: 'integer', description: 'Proxy pods running the current pod template.' },
    availableReplicas: { type: 'integer', description: 'Proxy pods Ready for at least minReadySeconds.' },
    labelSelector: { type: 'string', description: 'Pod label selector (scale subresource selector path).' },
    currentImage: { type: 'string', description: 'Image every pod runs once the rollout is complete.' },
    desiredImage: { type: 'string', description: 'Image of the current pod template.' },
    configHash: { type: 'string', description: 'Hash of the rendered proxy configuration.' },
    endpoint: {
      type: 'string',
      description: 'gRPC endpoint inside the cluster (service.namespace.svc:port).',
    },
    headlessEndpoint: {
      type: 'string',
      description: 'Headless Service DNS name for client-side load balancing.',
    },
    tls: {
      type: 'object',
      description: 'Certificate state.',
      properties: {
        secretName: { type: 'string', description: 'Secret with tls.crt, tls.key and ca.crt.' },
        caSecretName: { type: 'string', description: 'Secret of the operator CA.' },
        notAfter: { type: 'string', format: 'date-time', description: 'Serving certificate expiry.' },
        renewAt: {
          type: 'string',
          format: 'date-time',
          description: 'When the operator (or cert-manager, from the Certificate status) renews it.',
        },
        caNotAfter: { type: 'string', format: 'date-time', description: 'CA certificate expiry.' },
        certificateName: {
          type: 'string',
          description: 'The cert-manager Certificate (source CertManager).',
        },
      },
    },
  },
} as const satisfies Schema;

export const rocketMQProxySchema = {
  type: 'object',
  description:
    'RocketMQProxy runs the rmqproxy gRPC proxy for Apache RocketMQ: a Deployment, Services, a ConfigMap, ' +
    'TLS Secrets, a PodDisruptionBudget and optionally a HorizontalPodAutoscaler, a NetworkPolicy, a ' +
    'PodMonitor (Prometheus Operator) and a cert-manager Certificate.',
  required: ['spec'],
  properties: {
    apiVersion: { type: 'string', description: 'rmqproxy.io/v1alpha1' },
    kind: { type: 'string', description: 'RocketMQProxy' },
    metadata: { type: 'object' },
    spec: specSchema,
    status: statusSchema,
  },
  'x-kubernetes-validations': [
    {
      rule: "size(self.metadata.name) <= 50 && self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$')",
      message:
        'metadata.name must be a DNS-1035 label of at most 50 characters (it names the Services and Secrets)',
    },
  ],
} as const satisfies Schema;
