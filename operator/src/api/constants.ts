/** Names of the RocketMQProxy API that code, the CRD, manifests and docs share. */

export const GROUP = 'rmqproxy.io';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'RocketMQProxy';
export const PLURAL = 'rocketmqproxies';
export const SINGULAR = 'rocketmqproxy';
export const SHORT_NAMES = ['rmqp'] as const;
export const CRD_NAME = `${PLURAL}.${GROUP}`;

/** The one field manager for every write the operator makes (server-side apply and status). */
export const FIELD_MANAGER = 'rocketmq-proxy-operator';

/** Prefix of the operator's metric names (rocketmq_proxy_operator_reconcile_total, …). */
export const METRICS_PREFIX = 'rocketmq_proxy_operator';

/** reportingController of the operator's Events. */
export const EVENT_SOURCE = `${GROUP}/rocketmq-proxy-operator`;

/** Default proxy image (and tag) used when spec.image is unset. */
export const DEFAULT_PROXY_IMAGE = 'ghcr.io/rmqproxy/rocketmq-proxy:0.1.0';

/** Public annotations a user may put on a RocketMQProxy. */
export const Annotation = {
  /** "true" stops reconciliation (status gets ReconciliationPaused); anything else resumes. */
  PAUSE: `${GROUP}/pause-reconciliation`,
  /** Change the value (e.g. a timestamp) to request a rolling restart of the proxy pods. */
  RESTART: `${GROUP}/restart`,
} as const;

/** Annotations the operator writes on the pod template; a change of any of them rolls the pods. */
export const PodAnnotation = {
  CONFIG_HASH: `${GROUP}/config-hash`,
  CERT_HASH: `${GROUP}/certificate-hash`,
  RESTART: `${GROUP}/restarted-at`,
} as const;

/** Annotations on operator-issued Secrets. */
export const SecretAnnotation = {
  NOT_AFTER: `${GROUP}/not-after`,
  RENEW_AT: `${GROUP}/renew-at`,
  SANS: `${GROUP}/sans`,
} as const;

/** Proxy configuration keys (proxy/src/config/keys.ts paths) the operator sets itself from the spec. */
export const MANAGED_CONFIG_KEYS = [
  'namesrv.addresses',
  'listen.host',
  'listen.port',
  'admin.host',
  'admin.port',
  'tls.mode',
  'tls.certFile',
  'tls.keyFile',
] as const;
