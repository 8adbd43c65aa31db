/**
 * Where a RocketMQProxy's serving certificate comes from (spec.tls.source): one strategy per source, each
 * in its own file, behind this interface. A strategy makes the certificate usable by the pods (issue it,
 * find it, ask cert-manager for it) and says how the pods should carry it; the reconciler does the rest.
 */
import { createHash } from 'node:crypto';
import type { ResolvedRocketMQProxy, RocketMQProxyStatus } from '../../api/types.ts';
import { isNotFound, type KubeClient } from '../../runtime/client.ts';
import type { KubeObject } from '../../runtime/informer.ts';
import { resourcePath } from '../../runtime/kinds.ts';
import { Kinds } from '../kinds.ts';
import type { Problem } from '../problem.ts';

export interface TlsPass {
  proxy: ResolvedRocketMQProxy;
  /** The cached object, for Events. */
  regarding: KubeObject;
  now: Date;
}

export type TlsOutcome =
  | {
      state: 'ready';
      /** Goes into the pod template: a new certificate rolls the pods (the proxy reads it at start only). */
      hash: string;
      status: NonNullable<RocketMQProxyStatus['tls']>;
      /** When to look again without an event (renewal time, or a Secret we cannot watch). */
      requeueAfterMs?: number;
    }
  | { state: 'failed'; problem: Problem }
  /** Waiting on someone else (not Degraded); the status has not been written yet. */
  | { state: 'waiting'; reason: string; message: string };

export interface TlsSource {
  prepare(pass: TlsPass): Promise<TlsOutcome>;
  /** Removes what this source made, once the RocketMQProxy uses another source or no TLS. */
  retire?(proxy: ResolvedRocketMQProxy): Promise<void>;
}

export type TlsSourceName = ResolvedRocketMQProxy['spec']['tls']['source'];

export interface SecretObject extends KubeObject {
  data?: Record<string, string>;
}

/** The pod-template hash of a certificate as stored in a Secret (base64 data). */
export function certificateHash(base64Certificate: string): string {
  return createHash('sha256').update(base64Certificate).digest('hex').slice(0, 16);
}

/** A Secret straight from the API server (for Secrets our informers do not follow); undefined if absent. */
export async function readSecret(
  client: KubeClient,
  namespace: string,
  name: string,
): Promise<SecretObject | undefined> {
  try {
    return await client.request<SecretObject>('GET', resourcePath(Kinds.Secret, namespace, name));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}
