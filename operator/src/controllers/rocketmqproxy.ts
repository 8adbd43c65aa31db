/**
 * The RocketMQProxy reconciler. Level-based: every pass reads the RocketMQProxy from the cache, checks
 * the spec, makes the serving certificate usable (one strategy per tls.source), applies the complete
 * desired children and writes the status. A pass that cannot converge says why in one place (#fail).
 * Nothing polls: the only timed looks are a certificate's renewal time and a user Secret's rotation check.
 */
import { Annotation } from '../api/constants.ts';
import {
  type ResolvedRocketMQProxy,
  type RocketMQProxy,
  type RocketMQProxyStatus,
  resolve,
} from '../api/types.ts';
import type { RenderedConfig } from '../resources/config.ts';
import { childNames, selectorString } from '../resources/meta.ts';
import { imageOf } from '../resources/workload.ts';
import { isInvalid } from '../runtime/client.ts';
import { type ReconcileResult, type Reconciler, splitKey } from '../runtime/controller.ts';
import type { EventRecorder } from '../runtime/events.ts';
import type { KubeObject } from '../runtime/informer.ts';
import type { CachedKind } from '../runtime/source.ts';
import type { Children } from './children.ts';
import type { Problem } from './problem.ts';
import { checkSpec } from './spec-checks.ts';
import { computeStatus, type DeploymentView, failedStatus, pausedStatus, waitingStatus } from './status.ts';
import type { StatusWriter } from './status-writer.ts';
import type { TlsOutcome, TlsPass, TlsSource, TlsSourceName } from './tls/source.ts';

export interface ReconcilerDeps {
  proxies: CachedKind<RocketMQProxy & KubeObject>;
  children: Pick<Children, 'apply'>;
  tls: Readonly<Record<TlsSourceName, TlsSource>>;
  status: Pick<StatusWriter, 'write'>;
  events: EventRecorder;
  /** Clock for certificate decisions (tests move it forward). */
  now?: () => Date;
}

/** The API server refused what we built: only a new spec (an event) or operator fixes that, so look again rarely. */
const APPLY_REJECTED_RETRY_MS = 300_000;

export class RocketMQProxyReconciler implements Reconciler {
  readonly #d: ReconcilerDeps;

  constructor(deps: ReconcilerDeps) {
    this.#d = deps;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const { namespace, name } = splitKey(key);
    const cached = this.#d.proxies.get(namespace, name);
    if (!cached || cached.metadata.deletionTimestamp) return {};
    // Cached objects are shared with the informer: work on a copy.
    const pass: TlsPass = { proxy: resolve(structuredClone(cached)), regarding: cached, now: this.#now() };
    const { proxy } = pass;
    if (proxy.metadata.annotations?.[Annotation.PAUSE] === 'true') {
      await this.writeStatus(proxy, pausedStatus(proxy, pass.now));
      return { outcome: 'paused' };
    }
    const checked = checkSpec(proxy);
    if ('problem' in checked) return this.#fail(pass, checked.problem);
    const tls = await this.#prepareTls(pass);
    if (tls.state === 'failed') return this.#fail(pass, tls.problem);
    if (tls.state === 'waiting') {
      await this.writeStatus(proxy, waitingStatus(proxy, tls.reason, tls.message, pass.now));
      return { outcome: 'waiting' };
    }
    const ready = tls.state === 'ready' ? tls : undefined;
    let deployment: DeploymentView;
    try {
      deployment = await this.#d.children.apply(proxy, checked.config, ready?.hash);
    } catch (error) {
      if (!isInvalid(error)) throw error;
      const message = `the API server rejected a generated object: ${(error as Error).message}`;
      return this.#fail(pass, { reason: 'ApplyRejected', message, requeueAfterMs: APPLY_REJECTED_RETRY_MS });
    }
    await this.writeStatus(proxy, statusOf(proxy, checked.config, deployment, ready?.status, pass.now));
    return ready?.requeueAfterMs === undefined ? {} : { requeueAfterMs: ready.requeueAfterMs };
  }

  /** The status write with conflict handling (public for the 409 test on a real API server). */
  writeStatus(proxy: ResolvedRocketMQProxy | RocketMQProxy, status: RocketMQProxyStatus): Promise<void> {
    return this.#d.status.write(proxy, status);
  }

  /** A Warning Event, Ready=False and Degraded=True with the problem's reason; children are left as they are. */
  async #fail({ proxy, regarding, now }: TlsPass, problem: Problem): Promise<ReconcileResult> {
    this.#d.events.record(regarding, 'Warning', problem.reason, 'Reconcile', problem.message);
    await this.writeStatus(proxy, failedStatus(proxy, problem.reason, problem.message, now));
    return problem.requeueAfterMs === undefined
      ? { outcome: 'invalid' }
      : { outcome: 'invalid', requeueAfterMs: problem.requeueAfterMs };
  }

  /** The selected source prepares the certificate; once it is usable, the others clean up after themselves. */
  async #prepareTls(pass: TlsPass): Promise<TlsOutcome | { state: 'off' }> {
    const { enabled, source } = pass.proxy.spec.tls;
    const outcome = enabled ? await this.#d.tls[source].prepare(pass) : ({ state: 'off' } as const);
    if (outcome.state === 'ready' || outcome.state === 'off')
      for (const [name, other] of Object.entries(this.#d.tls))
        if (!enabled || name !== source) await other.retire?.(pass.proxy);
    return outcome;
  }

  #now(): Date {
    return this.#d.now?.() ?? new Date();
  }
}

function statusOf(
  proxy: ResolvedRocketMQProxy,
  config: RenderedConfig,
  deployment: DeploymentView,
  tls: RocketMQProxyStatus['tls'],
  now: Date,
): RocketMQProxyStatus {
  const { namespace, name } = proxy.metadata;
  const names = childNames(name);
  return computeStatus(proxy, {
    deployment,
    image: imageOf(proxy),
    configHash: config.hash,
    labelSelector: selectorString(name),
    endpoint: `${names.service}.${namespace}.svc:${proxy.spec.ports.grpc}`,
    headlessEndpoint: proxy.spec.service.headless ? `${names.headless}.${namespace}.svc` : undefined,
    tls,
    now,
  });
}
