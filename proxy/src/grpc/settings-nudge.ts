/**
 * Works around a start-up race in the official Node client (rocketmq-client-nodejs 1.0.8): it opens
 * Telemetry and sends its settings after the route of its *first* topic, but only starts waiting for
 * the Settings reply after the routes of *all* its topics; a reply that arrives in between is lost and
 * `startup()` never resolves. So while a client is starting (its settings are fresh) every QueryRoute
 * it makes schedules copies of its Settings reply after the route answer; a copy after the last route
 * lands while the client waits. Several copies, spread over seconds, because on a loaded machine the
 * client may read the route answer and an early copy in one event-loop turn and drop the copy.
 * Re-sent settings are harmless to every client (they re-apply the same values).
 */
import type { ClientRegistry } from '../session/registry.ts';
import { StreamTelemetryChannel } from './telemetry-stream.ts';

const DEFAULT_DELAYS_MS: readonly number[] = [50, 1000, 3000];

export interface SettingsNudgeOptions {
  registry: ClientRegistry;
  clock?: (() => number) | undefined;
  /** How long after registering settings a client counts as starting (default 30 s). */
  windowMs?: number | undefined;
  /** Delays after the route answer (default 50 ms, 1 s, 3 s: the route reply must be processed first). */
  delaysMs?: readonly number[] | undefined;
}

export class SettingsNudge {
  readonly #options: SettingsNudgeOptions;
  readonly #timers = new Map<string, NodeJS.Timeout[]>();

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
    this.#cancel(clientId);
    const delays = this.#options.delaysMs ?? DEFAULT_DELAYS_MS;
    const timers = delays.map((delay, index) => {
      const timer = setTimeout(() => {
        if (index === delays.length - 1) this.#timers.delete(clientId);
        const channel = registry.get(clientId)?.channel;
        if (channel instanceof StreamTelemetryChannel) channel.resendSettings();
      }, delay);
      timer.unref();
      return timer;
    });
    this.#timers.set(clientId, timers);
  }

  #cancel(clientId: string): void {
    for (const timer of this.#timers.get(clientId) ?? []) clearTimeout(timer);
    this.#timers.delete(clientId);
  }

  close(): void {
    for (const clientId of [...this.#timers.keys()]) this.#cancel(clientId);
  }
}
