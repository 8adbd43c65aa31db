/**
 * Works around a start-up race in the official Node client (rocketmq-client-nodejs 1.0.8): it opens
 * Telemetry and sends its settings after the route of its *first* topic, but only starts waiting for
 * the Settings reply after the routes of *all* its topics; a reply that arrives in between is lost and
 * `startup()` never resolves. So while a client is starting (its settings are fresh) every QueryRoute
 * it makes schedules one more copy of its Settings reply shortly after the route answer; the copy
 * after the last route lands while the client waits. Re-sent settings are harmless to every client
 * (they re-apply the same values).
 */
import type { ClientRegistry } from '../session/registry.ts';
import { OK_STATUS } from './status.ts';

export interface SettingsNudgeOptions {
  registry: ClientRegistry;
  clock?: (() => number) | undefined;
  /** How long after registering settings a client counts as starting (default 30 s). */
  windowMs?: number | undefined;
  /** Delay after the route answer (default 50 ms: the route reply must be processed first). */
  delayMs?: number | undefined;
}

export class SettingsNudge {
  readonly #options: SettingsNudgeOptions;
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(options: SettingsNudgeOptions) {
    this.#options = options;
  }

  /** Called after QueryRoute answered `clientId`. */
  afterRoute(clientId: string): void {
    const { registry } = this.#options;
    const session = registry.get(clientId);
    const now = (this.#options.clock ?? Date.now)();
    if (session === undefined || session.channel === undefined) return;
    if (now - session.registeredAt > (this.#options.windowMs ?? 30_000)) return;
    clearTimeout(this.#timers.get(clientId));
    const timer = setTimeout(() => {
      this.#timers.delete(clientId);
      const current = registry.get(clientId);
      current?.channel?.send({ status: OK_STATUS, settings: current.settings });
    }, this.#options.delayMs ?? 50);
    timer.unref();
    this.#timers.set(clientId, timer);
  }

  close(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}
