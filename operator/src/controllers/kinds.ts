/**
 * Every kind the operator reads or writes: Kubernetes' own (from the runtime), ours, and the optional
 * integrations served by other projects' CRDs. startOperator registers the non-core ones with the manager.
 */
import { API_VERSION, KIND, PLURAL } from '../api/constants.ts';
import { CoreKinds, type Kind } from '../runtime/kinds.ts';

export const OwnKinds = {
  RocketMQProxy: { apiVersion: API_VERSION, kind: KIND, plural: PLURAL },
  /** Optional: served only when the Prometheus Operator CRDs are installed. */
  PodMonitor: { apiVersion: 'monitoring.coreos.com/v1', kind: 'PodMonitor', plural: 'podmonitors' },
  /** Optional: served only when cert-manager's CRDs are installed. */
  Certificate: { apiVersion: 'cert-manager.io/v1', kind: 'Certificate', plural: 'certificates' },
} as const satisfies Record<string, Kind>;

export const Kinds = { ...CoreKinds, ...OwnKinds } as const;
