/**
 * Proxy-side renewal of the invisible time of messages that push consumers (receives with
 * auto-renew) are still processing, as the Java proxy's receipt-handle manager does. Records live
 * under (client, group); a scan renews records close to turning visible, and releases (nacks with a
 * short invisible time) everything of a client that went away. An ack, a change of invisible time
 * or a forward to the DLQ takes the record out and uses its current receipt, since each renewal
 * replaces the receipt the broker honours.
 *
 * This is the one piece of consumer state a proxy keeps: it exists only while the client's
 * connection to this proxy lives, and an ack through another proxy of a renewed message falls back
 * to the client's handle (the message then comes back once, as with the Java proxy).
 */
import type { Logger } from 'pino';
import type { Clock } from '../cluster/clock.ts';
import type { PopReceipt } from '../remoting/message/pop-receipt.ts';
import type { RetryPolicy } from '../session/retry-policy.ts';
import type { ConsumerBroker } from './broker-client.ts';
import { nextVisibleTime } from './receipt-handle.ts';

export interface RenewOptions {
  broker: Pick<ConsumerBroker, 'changeInvisible'>;
  /** Is the client still connected (registered with a live session)? */
  isClientAlive: (clientId: string) => boolean;
  /** The group's retry policy, for the final nack after renewMaxMs. */
  retryPolicyOf: (group: string) => Promise<RetryPolicy>;
  logger: Logger;
  clock?: Clock | undefined;
  /** Scan period (default 5 s). */
  scanIntervalMs?: number | undefined;
  /** Renew when the receipt turns visible within this (default 10 s). */
  renewAheadMs?: number | undefined;
  /** Stop renewing this long after the first pop (default 3 h). */
  renewMaxMs?: number | undefined;
  /** Invisible time of a released message (default 1 s). */
  releaseInvisibleMs?: number | undefined;
}

/** The n-th renewal's invisible time: 1 m, 3 m, 5 m, 10 m, 30 m, 1 h, then 1 h. */
export const RENEW_STEPS_MS: readonly number[] = [60, 180, 300, 600, 1800, 3600].map((s) => s * 1000);
const MAX_RENEW_FAILURES = 3;

export interface RenewRecord {
  readonly clientId: string;
  readonly group: string;
  readonly topic: string;
  readonly originalHandle: string;
  receipt: PopReceipt;
  readonly firstPopTime: number;
  readonly reconsumeTimes: number;
  renewals: number;
  failures: number;
  /** The renewal in flight: whoever takes the record waits for it, to get the receipt it yields. */
  pending: Promise<void> | undefined;
}

/** Delay before the next delivery after `reconsumeTimes` failed ones, by the group's policy. */
export function retryDelayMs(policy: RetryPolicy, reconsumeTimes: number): number {
  if (policy.exponential !== undefined) {
    const { initialMs, maxMs, multiplier } = policy.exponential;
    return Math.min(maxMs, initialMs * multiplier ** Math.min(reconsumeTimes, 32));
  }
  const delays = policy.customizedMs ?? [];
  if (delays.length === 0) return 1000;
  // The broker's customized policy skips its first two levels for retries (level = times + 3).
  return delays[Math.min(reconsumeTimes + 2, delays.length - 1)]!;
}

export class AutoRenewer {
  readonly #options: RenewOptions;
  readonly #clock: Clock;
  /** `clientId\0group` → original handle → record. */
  readonly #records = new Map<string, Map<string, RenewRecord>>();
  readonly #timer: NodeJS.Timeout;
  #scanning: Promise<void> | undefined;

  constructor(options: RenewOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#timer = setInterval(() => void this.scan(), options.scanIntervalMs ?? 5000);
    this.#timer.unref();
  }

  get size(): number {
    let count = 0;
    for (const records of this.#records.values()) count += records.size;
    return count;
  }

  add(record: Omit<RenewRecord, 'renewals' | 'failures' | 'pending'>): void {
    const key = keyOf(record.clientId, record.group);
    const records = this.#records.get(key) ?? new Map<string, RenewRecord>();
    records.set(record.originalHandle, { ...record, renewals: 0, failures: 0, pending: undefined });
    this.#records.set(key, records);
  }

  /**
   * Removes the record of a handle the client now acts on and returns its current receipt (after a
   * renewal in flight), or undefined when this proxy holds no record of it.
   */
  async take(clientId: string, group: string, handle: string): Promise<PopReceipt | undefined> {
    const key = keyOf(clientId, group);
    const records = this.#records.get(key);
    const record = records?.get(handle);
    if (records === undefined || record === undefined) return undefined;
    records.delete(handle);
    if (records.size === 0) this.#records.delete(key);
    await record.pending;
    return record.receipt;
  }

  /** Nacks every message held for a client (it went away) so that others get them soon. */
  async releaseClient(clientId: string): Promise<void> {
    const prefix = `${clientId}\u0000`;
    const released: RenewRecord[] = [];
    for (const [key, records] of this.#records) {
      if (!key.startsWith(prefix)) continue;
      this.#records.delete(key);
      released.push(...records.values());
    }
    await this.#release(released);
  }

  /** One pass: release records of vanished clients, renew those close to turning visible. */
  scan(): Promise<void> {
    this.#scanning ??= this.#scan().finally(() => {
      this.#scanning = undefined;
    });
    return this.#scanning;
  }

  /** Stops the scans and releases every record (proxy shutdown). */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#scanning;
    const all = [...this.#records.values()].flatMap((records) => [...records.values()]);
    this.#records.clear();
    await this.#release(all);
  }

  async #scan(): Promise<void> {
    const now = this.#clock();
    const ahead = this.#options.renewAheadMs ?? 10_000;
    const work: Promise<void>[] = [];
    for (const [key, records] of [...this.#records]) {
      const clientId = key.slice(0, key.indexOf('\u0000'));
      if (!this.#options.isClientAlive(clientId)) {
        this.#records.delete(key);
        work.push(this.#release([...records.values()]));
        continue;
      }
      for (const record of records.values()) {
        if (record.pending !== undefined || nextVisibleTime(record.receipt) - now > ahead) continue;
        record.pending = this.#renew(records, record, now).finally(() => {
          record.pending = undefined;
        });
        work.push(record.pending);
      }
    }
    await Promise.all(work);
  }

  async #renew(records: Map<string, RenewRecord>, record: RenewRecord, now: number): Promise<void> {
    const final = now - record.firstPopTime >= (this.#options.renewMaxMs ?? 3 * 3600_000);
    try {
      const invisibleMs = final
        ? retryDelayMs(await this.#options.retryPolicyOf(record.group), record.reconsumeTimes)
        : RENEW_STEPS_MS[Math.min(record.renewals, RENEW_STEPS_MS.length - 1)]!;
      const result = await this.#options.broker.changeInvisible(
        record.group,
        record.topic,
        record.receipt,
        invisibleMs,
      );
      // Whoever took the record meanwhile is waiting for this receipt; the old one is dead now.
      record.receipt = result.receipt;
      if (final) {
        records.delete(record.originalHandle);
        return;
      }
      record.renewals++;
      record.failures = 0;
    } catch (error) {
      record.failures++;
      if (record.failures >= MAX_RENEW_FAILURES) records.delete(record.originalHandle);
      this.#options.logger.warn(
        { err: error, group: record.group, topic: record.topic, failures: record.failures },
        'renewing the invisible time of a message failed',
      );
    }
  }

  async #release(records: readonly RenewRecord[]): Promise<void> {
    const invisibleMs = this.#options.releaseInvisibleMs ?? 1000;
    await Promise.all(
      records.map(async (record) => {
        try {
          await this.#options.broker.changeInvisible(record.group, record.topic, record.receipt, invisibleMs);
        } catch (error) {
          this.#options.logger.debug(
            { err: error, group: record.group, topic: record.topic },
            'releasing a message failed; it turns visible when its invisible time ends',
          );
        }
      }),
    );
  }
}

function keyOf(clientId: string, group: string): string {
  return `${clientId}\u0000${group}`;
}
