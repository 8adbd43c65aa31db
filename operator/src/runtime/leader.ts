/**
 * Leader election on a coordination.k8s.io Lease with optimistic concurrency (every write carries the
 * resourceVersion it read, so two candidates cannot both win): acquire when the Lease is free or expired,
 * renew every `retryPeriodMs`, give up leadership if a renewal has not succeeded within `renewDeadlineMs`,
 * and release on shutdown (empty holder) so a standby takes over at once.
 */
import { isConflict, isNotFound, type KubeClient } from './client.ts';
import { CoreKinds, resourcePath } from './kinds.ts';

export interface LeaderOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log?: (level: 'info' | 'warn', message: string) => void;
}

interface Lease {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string | null;
    leaseDurationSeconds?: number;
    acquireTime?: string | null;
    renewTime?: string | null;
    leaseTransitions?: number;
  };
}

const microTime = (ms: number): string => new Date(ms).toISOString().replace('Z', '000Z');

export class LeaderElector {
  readonly #client: KubeClient;
  readonly #o: Required<Omit<LeaderOptions, 'log'>> & Pick<LeaderOptions, 'log'>;
  #leading = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  #lastRenew = 0;

  constructor(client: KubeClient, options: LeaderOptions) {
    this.#client = client;
    this.#o = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, ...options };
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /** Resolves once this process leads; `onLost` runs if leadership is lost later. */
  run(onLost: () => void): Promise<void> {
    return new Promise((resolvePromise) => {
      const tick = async (): Promise<void> => {
        if (this.#stopped) return;
        let ok = false;
        try {
          ok = await this.#tryAcquireOrRenew();
        } catch (error) {
          this.#o.log?.('warn', `lease ${this.#o.namespace}/${this.#o.name}: ${String(error)}`);
        }
        const now = Date.now();
        if (ok) {
          this.#lastRenew = now;
          if (!this.#leading) {
            this.#leading = true;
            this.#o.log?.('info', `became leader (${this.#o.identity})`);
            resolvePromise();
          }
        } else if (this.#leading && now - this.#lastRenew > this.#o.renewDeadlineMs) {
          this.#leading = false;
          this.#o.log?.('warn', 'lost leadership');
          onLost();
          return;
        }
        if (!this.#stopped) this.#timer = setTimeout(() => void tick(), this.#o.retryPeriodMs);
      };
      void tick();
    });
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const path = resourcePath(CoreKinds.Lease, this.#o.namespace, this.#o.name);
    const now = Date.now();
    let lease: Lease;
    try {
      lease = await this.#client.request<Lease>('GET', path);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      const created: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.#o.name, namespace: this.#o.namespace },
        spec: {
          holderIdentity: this.#o.identity,
          leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
          acquireTime: microTime(now),
          renewTime: microTime(now),
          leaseTransitions: 0,
        },
      };
      try {
        await this.#client.request('POST', resourcePath(CoreKinds.Lease, this.#o.namespace), {
          body: created,
        });
        return true;
      } catch (createError) {
        if (isConflict(createError)) return false;
        throw createError;
      }
    }
    const holder = lease.spec.holderIdentity ?? '';
    const renewed = lease.spec.renewTime ? Date.parse(lease.spec.renewTime) : 0;
    const duration = (lease.spec.leaseDurationSeconds ?? 15) * 1000;
    const mine = holder === this.#o.identity;
    if (!mine && holder !== '' && renewed + duration > now) return false;
    const next: Lease = {
      ...lease,
      spec: {
        ...lease.spec,
        holderIdentity: this.#o.identity,
        leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
        renewTime: microTime(now),
        ...(mine
          ? {}
          : { acquireTime: microTime(now), leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1 }),
      },
    };
    try {
      await this.#client.request('PUT', path, { body: next });
      return true;
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
  }

  /** Stops renewing and, if leading, releases the Lease so a standby need not wait for expiry. */
  async release(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (!this.#leading) return;
    this.#leading = false;
    const path = resourcePath(CoreKinds.Lease, this.#o.namespace, this.#o.name);
    try {
      const lease = await this.#client.request<Lease>('GET', path);
      if (lease.spec.holderIdentity !== this.#o.identity) return;
      await this.#client.request('PUT', path, {
        body: {
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', renewTime: microTime(Date.now() - 3_600_000) },
        },
      });
    } catch (error) {
      this.#o.log?.('warn', `releasing the lease: ${String(error)}`);
    }
  }
}
