/**
 * The manager, as in controller-runtime: it owns what the controllers of one process share — the kinds
 * registry, the cache, the writer with the operator's field manager, the Event recorder, the metrics —
 * and the process's lifecycle: the health/metrics port and the webhook server (on every replica), Lease
 * leader election, then the cache and the controllers (on the leader only), and a graceful stop in
 * reverse order. It knows nothing of the kinds it is given.
 */
import { hostname } from 'node:os';
import { Applier } from './apply.ts';
import { Cache } from './cache.ts';
import type { KubeClient } from './client.ts';
import type { Controller } from './controller.ts';
import { type EventRecorder, KubeEventRecorder } from './events.ts';
import { type RunningServer, startHealthServer } from './health-server.ts';
import { type Kind, KindRegistry } from './kinds.ts';
import { LeaderElector } from './leader.ts';
import type { Logger } from './log.ts';
import { ControllerMetrics } from './metrics.ts';
import { type ServingCertificate, WebhookServer } from './webhook-server.ts';

export interface ManagerOptions {
  client: KubeClient;
  log: Logger;
  /** Namespaces to watch; empty = all. */
  namespaces?: readonly string[];
  /** The one field manager of every write (server-side apply, status patches). */
  fieldManager: string;
  /** Prefix of the metric names, e.g. my_operator → my_operator_reconcile_total. */
  metricsPrefix: string;
  /** reportingController of the Events, e.g. example.com/my-operator. */
  eventSource: string;
  /** This replica's name in the Lease and in Events; default <host>-<pid>-<random>. */
  identity?: string;
  /** Kinds beyond Kubernetes' own (CRDs) that apply must be able to address. */
  kinds?: readonly Kind[];
  /** /healthz, /readyz and /metrics over HTTP; undefined: none; port 0: any free port. */
  health?: { port: number; host?: string };
  /** The admission webhook server; undefined: none. */
  webhook?: { port: number; host?: string; certificate: ServingCertificate };
  leaderElection?: { namespace: string; name: string };
  /** After leadership, once won, is lost and the manager has stopped (the CLI exits to rejoin the election). */
  onLeadershipLost?: () => void;
}

export class Manager {
  readonly client: KubeClient;
  readonly log: Logger;
  readonly identity: string;
  readonly kinds: KindRegistry;
  readonly metrics: ControllerMetrics;
  readonly cache: Cache;
  readonly applier: Applier;
  readonly events: EventRecorder;
  /** Present when options.webhook was given: register handlers on it before or after start. */
  readonly webhooks: WebhookServer | undefined;
  readonly #o: ManagerOptions;
  readonly #controllers: Controller[] = [];
  #health: RunningServer | undefined;
  #elector: LeaderElector | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: ManagerOptions) {
    this.#o = options;
    this.client = options.client;
    this.log = options.log;
    this.identity =
      options.identity ?? `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    this.kinds = new KindRegistry().register(...(options.kinds ?? []));
    this.metrics = new ControllerMetrics({
      prefix: options.metricsPrefix,
      processMetrics: options.health !== undefined,
    });
    const log = (level: keyof Logger, message: string) => options.log[level](message);
    this.cache = new Cache(options.client, {
      namespaces: options.namespaces ?? [],
      log,
      onRestart: (kind, reason) => this.metrics.watchRestarts.inc({ kind, reason }),
    });
    this.applier = new Applier(options.client, this.kinds, options.fieldManager);
    this.events = new KubeEventRecorder(options.client, options.eventSource, this.identity, (m) =>
      options.log.warn(m),
    );
    this.webhooks = options.webhook ? new WebhookServer({ ...options.webhook, log }) : undefined;
  }

  add(controller: Controller): void {
    this.#controllers.push(controller);
  }

  /** Bound port of the health/metrics server once started. */
  get httpPort(): number | undefined {
    return this.#health?.port;
  }

  /** Ready = cache synced; a standby is ready too, so rolling the operator's Deployment never stalls. */
  get ready(): boolean {
    return this.cache.hasSynced || (this.#elector !== undefined && !this.#elector.isLeader);
  }

  /** Resolves once this replica leads (or at once without election) and the controllers run. */
  async start(): Promise<void> {
    const { health, leaderElection } = this.#o;
    if (health)
      this.#health = await startHealthServer({
        ...health,
        registry: this.metrics.registry,
        notReady: () => (this.ready ? undefined : 'informers not synced'),
      });
    await this.webhooks?.start();
    if (leaderElection) {
      this.#elector = new LeaderElector(this.client, {
        ...leaderElection,
        identity: this.identity,
        log: (level, message) => this.log[level](message),
      });
      await this.#elector.run(() => {
        this.log.error('leadership lost: stopping so a restart rejoins the election');
        void this.stop().then(() => this.#o.onLeadershipLost?.());
      });
    }
    if (this.#stopping) return;
    await this.cache.start();
    for (const controller of this.#controllers) controller.start();
  }

  /** Stops the controllers (running reconciles finish), the cache, releases the Lease, closes the servers. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await Promise.all(this.#controllers.map((controller) => controller.stop()));
      await this.cache.stop();
      await this.#elector?.release();
      await this.webhooks?.stop();
      await this.#health?.close();
    })();
    return this.#stopping;
  }
}
