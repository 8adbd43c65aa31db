/**
 * The RocketMQProxy controller. Level-based: every pass reads the RocketMQProxy and its children from the
 * informer caches, renders the complete desired children, server-side applies them (one field manager,
 * owner references for garbage collection), deletes the optional children the spec no longer wants (only
 * ones we control), then writes the status. Events on the RocketMQProxy or on any child enqueue its key;
 * nothing polls — the only timed re-check is the certificate renewal time.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { Annotation, FIELD_MANAGER } from '../api/constants.ts';
import {
  type ResolvedRocketMQProxy,
  type RocketMQProxy,
  type RocketMQProxyStatus,
  resolve,
} from '../api/types.ts';
import { type CertificatePlan, parseDuration, planCertificates } from '../resources/certificates.ts';
import { InvalidConfigError, renderConfig } from '../resources/config.ts';
import { buildCertificate, buildPodMonitor } from '../resources/integrations.ts';
import {
  childNames,
  LABEL_INSTANCE,
  MANAGED_BY,
  selectorString,
  serviceDnsNames,
} from '../resources/meta.ts';
import {
  buildCaSecret,
  buildConfigMap,
  buildDeployment,
  buildHeadlessService,
  buildHpa,
  buildNetworkPolicy,
  buildPdb,
  buildService,
  buildTlsSecret,
  imageOf,
} from '../resources/workload.ts';
import { apply, deleteOwned, retryOnConflict } from '../runtime/apply.ts';
import { ContentType, isInvalid, isNotFound, KubeApiError, type KubeClient } from '../runtime/client.ts';
import type { EventRecorder } from '../runtime/events.ts';
import { Informer, type KubeObject } from '../runtime/informer.ts';
import { Kinds, resourcePath } from '../runtime/kinds.ts';
import type { OperatorMetrics } from '../runtime/metrics.ts';
import { OptionalKind } from '../runtime/optional-kind.ts';
import { WorkQueue } from '../runtime/queue.ts';
import {
  computeStatus,
  type DeploymentView,
  failedStatus,
  pausedStatus,
  sameStatus,
  waitingStatus,
} from './status.ts';

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface ControllerOptions {
  client: KubeClient;
  events: EventRecorder;
  metrics: OperatorMetrics;
  log: Logger;
  /** Namespaces to watch; empty = all. */
  namespaces: readonly string[];
  workers?: number;
  /** Clock for certificate decisions (tests move it forward). */
  now?: () => Date;
}

type Child = KubeObject & { data?: Record<string, string>; spec?: unknown; status?: unknown };

const CHILD_KINDS = [
  Kinds.Deployment,
  Kinds.Service,
  Kinds.ConfigMap,
  Kinds.Secret,
  Kinds.HorizontalPodAutoscaler,
  Kinds.PodDisruptionBudget,
  Kinds.NetworkPolicy,
] as const;

/** The annotation cert-manager puts on the Secrets it issues, naming their Certificate. */
const CERT_MANAGER_CERTIFICATE_ANNOTATION = 'cert-manager.io/certificate-name';

/**
 * What the caches keep: managedFields only where the reconciler reads them (the Deployment, for the
 * replicas hand-over to an HPA); everywhere else they are dropped — with hundreds of RocketMQProxies they
 * are a large share of the operator's memory.
 */
export function dropManagedFields(object: KubeObject): void {
  delete object.metadata.managedFields;
}

interface ReconcileResult {
  requeueAfterMs?: number;
}

export class RocketMQProxyController {
  readonly #o: ControllerOptions;
  readonly queue = new WorkQueue();
  readonly #proxies: Informer<RocketMQProxy & KubeObject>[] = [];
  readonly #children = new Map<string, Informer<Child>[]>();
  /** Present only when the Prometheus Operator / cert-manager CRDs are installed. */
  readonly #podMonitors: OptionalKind;
  readonly #certManagerCertificates: OptionalKind;
  #workers: Promise<void>[] = [];
  #stopping = false;

  constructor(options: ControllerOptions) {
    this.#o = options;
    const namespaces = options.namespaces.length > 0 ? options.namespaces : [undefined];
    const restart = (kind: string) => (reason: string) => options.metrics.watchRestarts.inc({ kind, reason });
    const log = (level: 'info' | 'warn' | 'error', message: string) => options.log[level](message);
    for (const namespace of namespaces) {
      const proxies = new Informer<RocketMQProxy & KubeObject>(options.client, {
        kind: Kinds.RocketMQProxy,
        namespace,
        log,
        onRestart: restart(Kinds.RocketMQProxy.kind),
        transform: dropManagedFields,
      });
      proxies.on((_type, object) => this.queue.add(`${object.metadata.namespace}/${object.metadata.name}`));
      this.#proxies.push(proxies);
      for (const kind of CHILD_KINDS) {
        const informer = new Informer<Child>(options.client, {
          kind,
          namespace,
          labelSelector: `app.kubernetes.io/managed-by=${MANAGED_BY}`,
          log,
          onRestart: restart(kind.kind),
          transform: kind === Kinds.Deployment ? undefined : dropManagedFields,
        });
        informer.on((_type, object) => this.#enqueueOwner(object));
        const list = this.#children.get(kind.kind) ?? [];
        list.push(informer);
        this.#children.set(kind.kind, list);
      }
    }
    const optional = (kind: (typeof Kinds)[keyof typeof Kinds]) =>
      new OptionalKind(options.client, {
        kind,
        namespaces,
        labelSelector: `app.kubernetes.io/managed-by=${MANAGED_BY}`,
        log,
        onPresenceChange: () => this.#enqueueAll(),
        onObject: (_type, object) => this.#enqueueOwner(object),
        onRestart: (kind, reason) => options.metrics.watchRestarts.inc({ kind, reason }),
      });
    this.#podMonitors = optional(Kinds.PodMonitor);
    this.#certManagerCertificates = optional(Kinds.Certificate);
  }

  /**
   * The RocketMQProxy a child belongs to: its controller owner reference, else (a Secret cert-manager
   * issued from our Certificate's secretTemplate, which carries no owner reference) its instance label.
   */
  #enqueueOwner(object: KubeObject): void {
    const owner = object.metadata.ownerReferences?.find(
      (ref) => ref.controller && ref.kind === Kinds.RocketMQProxy.kind,
    );
    const name = owner?.name ?? object.metadata.labels?.[LABEL_INSTANCE];
    if (name) this.queue.add(`${object.metadata.namespace}/${name}`);
  }

  #enqueueAll(): void {
    for (const informer of this.#proxies)
      for (const proxy of informer.list())
        this.queue.add(`${proxy.metadata.namespace}/${proxy.metadata.name}`);
  }

  #all(): Informer<KubeObject>[] {
    return [...this.#proxies, ...[...this.#children.values()].flat()] as Informer<KubeObject>[];
  }

  get synced(): boolean {
    return (
      this.#all().every((informer) => informer.hasSynced) &&
      this.#podMonitors.hasAnswered &&
      this.#certManagerCertificates.hasAnswered
    );
  }

  /** Starts the informers, waits for their first list, then starts the workers. */
  async start(): Promise<void> {
    for (const informer of this.#all()) informer.start();
    this.#podMonitors.start();
    this.#certManagerCertificates.start();
    await Promise.all([
      ...this.#all().map((informer) => informer.synced),
      this.#podMonitors.answered,
      this.#certManagerCertificates.answered,
    ]);
    const workers = this.#o.workers ?? 4;
    this.#workers = Array.from({ length: workers }, () => this.#work());
  }

  /** Stops taking work, lets running reconciles finish, stops the informers. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.queue.shutDown();
    await Promise.all(this.#workers);
    await Promise.all(this.#all().map((informer) => informer.stop()));
    await Promise.all([this.#podMonitors.stop(), this.#certManagerCertificates.stop()]);
  }

  async #work(): Promise<void> {
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      this.#o.metrics.queueDepth.set(this.queue.length);
      const end = this.#o.metrics.reconcileSeconds.startTimer();
      try {
        const result = await this.reconcile(key);
        this.queue.forget(key);
        if (result.requeueAfterMs !== undefined) this.queue.addAfter(key, result.requeueAfterMs);
      } catch (error) {
        this.#o.metrics.reconciles.inc({ result: 'error' });
        if (!this.#stopping) {
          const delay = this.queue.addRateLimited(key);
          this.#o.log.warn(`reconcile ${key} failed (retry in ${delay} ms): ${String(error)}`);
        }
      } finally {
        end();
        this.queue.done(key);
      }
    }
  }

  #child<T extends Child>(kind: string, namespace: string, name: string): T | undefined {
    for (const informer of this.#children.get(kind) ?? []) {
      const found = informer.get(namespace, name);
      if (found) return found as T;
    }
    return undefined;
  }

  #proxy(namespace: string, name: string): (RocketMQProxy & KubeObject) | undefined {
    for (const informer of this.#proxies) {
      const found = informer.get(namespace, name);
      if (found) return found;
    }
    return undefined;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace = '', name = ''] = key.split('/');
    const cached = this.#proxy(namespace, name);
    if (!cached || cached.metadata.deletionTimestamp) return {};
    // Cached objects are shared with the informer: work on a copy.
    const proxy = resolve(structuredClone(cached));
    const now = this.#o.now?.() ?? new Date();
    const events = this.#o.events;

    if (proxy.metadata.annotations?.[Annotation.PAUSE] === 'true') {
      await this.writeStatus(proxy, pausedStatus(proxy, now));
      this.#o.metrics.reconciles.inc({ result: 'paused' });
      return {};
    }
    if (proxy.spec.mode === 'Local') {
      const message = 'spec.mode Local is not implemented by this operator version; use Cluster';
      events.record(cached, 'Warning', 'LocalModeUnsupported', 'Reconcile', message);
      await this.writeStatus(proxy, failedStatus(proxy, 'LocalModeUnsupported', message, now));
      this.#o.metrics.reconciles.inc({ result: 'invalid' });
      return {};
    }

    let rendered: ReturnType<typeof renderConfig>;
    try {
      rendered = renderConfig(proxy.spec);
    } catch (error) {
      if (!(error instanceof InvalidConfigError)) throw error;
      const message = `the proxy would refuse this configuration: ${error.problems.join('; ')}`;
      events.record(cached, 'Warning', 'InvalidConfig', 'Reconcile', message);
      await this.writeStatus(proxy, failedStatus(proxy, 'InvalidConfig', message, now));
      this.#o.metrics.reconciles.inc({ result: 'invalid' });
      return {};
    }

    // Not expressible in the schema without CEL's IP library (Kubernetes 1.31+): checked here instead.
    const badAddresses = proxy.spec.tls.enabled
      ? (proxy.spec.tls.ipAddresses ?? []).filter((ip) => isIP(ip) === 0)
      : [];
    if (badAddresses.length > 0) {
      const message = `spec.tls.ipAddresses: not IP addresses: ${badAddresses.join(', ')}`;
      events.record(cached, 'Warning', 'InvalidConfig', 'Reconcile', message);
      await this.writeStatus(proxy, failedStatus(proxy, 'InvalidConfig', message, now));
      this.#o.metrics.reconciles.inc({ result: 'invalid' });
      return {};
    }

    let certificateHash: string | undefined;
    let tlsStatus: RocketMQProxyStatus['tls'];
    let requeueAfterMs: number | undefined;
    if (proxy.spec.tls.enabled && proxy.spec.tls.source === 'Operator') {
      const plan = await this.#operatorCertificates(proxy, cached, now);
      certificateHash = plan.hash;
      tlsStatus = {
        secretName: childNames(name).tlsSecret,
        caSecretName: childNames(name).caSecret,
        notAfter: plan.notAfter.toISOString(),
        renewAt: plan.renewAt.toISOString(),
        caNotAfter: plan.caNotAfter.toISOString(),
      };
      this.#o.metrics.certificateExpiry.set({ namespace, name }, plan.notAfter.getTime() / 1000);
      requeueAfterMs = Math.max(
        1000,
        Math.min(plan.renewAt.getTime() - now.getTime() + 1000, 24 * 3_600_000),
      );
    } else if (proxy.spec.tls.enabled && proxy.spec.tls.source === 'CertManager') {
      const issued = await this.#certManager(proxy, cached, now);
      if (!issued) return {};
      certificateHash = issued.hash;
      tlsStatus = issued.status;
    } else if (proxy.spec.tls.enabled) {
      const secretName = proxy.spec.tls.secretName ?? '';
      try {
        const secret = await this.#o.client.request<Child>(
          'GET',
          resourcePath(Kinds.Secret, namespace, secretName),
        );
        const crt = secret.data?.['tls.crt'];
        if (!crt || !secret.data?.['tls.key']) throw new Error('missing tls.crt or tls.key');
        certificateHash = createHash('sha256').update(crt).digest('hex').slice(0, 16);
        tlsStatus = { secretName };
      } catch (error) {
        const message = `spec.tls.secretName ${secretName}: ${isNotFound(error) ? 'Secret not found' : String(error)}`;
        events.record(cached, 'Warning', 'TLSSecretInvalid', 'Reconcile', message);
        await this.writeStatus(proxy, failedStatus(proxy, 'TLSSecretInvalid', message, now));
        return { requeueAfterMs: 30_000 };
      }
      // A user Secret is not labelled for our informers: look again periodically for a rotation.
      requeueAfterMs = 60_000;
    }

    if (
      !(proxy.spec.tls.enabled && proxy.spec.tls.source === 'CertManager') &&
      this.#certManagerCertificates.available
    )
      await deleteOwned(
        this.#o.client,
        this.#certManagerCertificates.get(namespace, childNames(name).certificate),
        proxy.metadata.uid ?? '',
        Kinds.Certificate.apiVersion,
        Kinds.Certificate.kind,
      );

    let deployment: DeploymentView;
    try {
      deployment = await this.#applyChildren(proxy, rendered.yaml, rendered.hash, certificateHash);
    } catch (error) {
      if (!isInvalid(error)) throw error;
      const message = `the API server rejected a generated object: ${(error as Error).message}`;
      events.record(cached, 'Warning', 'ApplyRejected', 'Reconcile', message);
      await this.writeStatus(proxy, failedStatus(proxy, 'ApplyRejected', message, now));
      return { requeueAfterMs: 300_000 };
    }

    const names = childNames(name);
    const status = computeStatus(proxy, {
      deployment,
      image: imageOf(proxy),
      configHash: rendered.hash,
      labelSelector: selectorString(name),
      endpoint: `${names.service}.${namespace}.svc:${proxy.spec.ports.grpc}`,
      headlessEndpoint: proxy.spec.service.headless ? `${names.headless}.${namespace}.svc` : undefined,
      tls: tlsStatus,
      now,
    });
    await this.writeStatus(proxy, status);
    this.#o.metrics.reconciles.inc({ result: 'success' });
    return requeueAfterMs === undefined ? {} : { requeueAfterMs };
  }

  /**
   * Source CertManager: apply our Certificate, then use the Secret cert-manager issued for it. Until that
   * Secret exists the pods are not created (they could not start without it): Ready=False,
   * WaitingForCertificate. Issuance and renewals change the labelled Secret, which enqueues us.
   * Undefined = not usable yet (the status has been written).
   */
  async #certManager(
    proxy: ResolvedRocketMQProxy,
    regarding: KubeObject,
    now: Date,
  ): Promise<{ hash: string; status: NonNullable<RocketMQProxyStatus['tls']> } | undefined> {
    const { namespace, name } = proxy.metadata;
    const names = childNames(name);
    if (!this.#certManagerCertificates.available) {
      const message =
        'spec.tls.source is CertManager but cert-manager.io/v1 Certificate is not served (is cert-manager installed?)';
      this.#o.events.record(regarding, 'Warning', 'CertManagerMissing', 'Reconcile', message);
      await this.writeStatus(proxy, failedStatus(proxy, 'CertManagerMissing', message, now));
      return undefined;
    }
    const certificate = buildCertificate(proxy);
    if (certificate) await apply(this.#o.client, certificate);
    let secret = this.#child<Child>(Kinds.Secret.kind, namespace, names.tlsSecret);
    if (!secret) {
      try {
        secret = await this.#o.client.request<Child>(
          'GET',
          resourcePath(Kinds.Secret, namespace, names.tlsSecret),
        );
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    const crt = secret?.data?.['tls.crt'];
    const issuedForUs =
      secret?.metadata.annotations?.[CERT_MANAGER_CERTIFICATE_ANNOTATION] === names.certificate;
    let notAfter: Date | undefined;
    try {
      if (crt && secret?.data?.['tls.key'] && issuedForUs)
        notAfter = new Date(new X509Certificate(Buffer.from(crt, 'base64')).validTo);
    } catch {
      notAfter = undefined;
    }
    if (!crt || notAfter === undefined) {
      const message = `waiting for cert-manager to issue Certificate ${names.certificate} into Secret ${names.tlsSecret}`;
      await this.writeStatus(proxy, waitingStatus(proxy, 'WaitingForCertificate', message, now));
      return undefined;
    }
    const renewalTime = (
      this.#certManagerCertificates.get(namespace, names.certificate) as
        | { status?: { renewalTime?: string } }
        | undefined
    )?.status?.renewalTime;
    this.#o.metrics.certificateExpiry.set({ namespace, name }, notAfter.getTime() / 1000);
    return {
      hash: createHash('sha256').update(crt).digest('hex').slice(0, 16),
      status: {
        secretName: names.tlsSecret,
        certificateName: names.certificate,
        notAfter: notAfter.toISOString(),
        ...(renewalTime ? { renewAt: renewalTime } : {}),
      },
    };
  }

  async #operatorCertificates(
    proxy: ResolvedRocketMQProxy,
    regarding: KubeObject,
    now: Date,
  ): Promise<CertificatePlan> {
    const { namespace, name } = proxy.metadata;
    const names = childNames(name);
    const decode = (secret: Child | undefined): Record<string, string> | undefined =>
      secret?.data
        ? Object.fromEntries(
            Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]),
          )
        : undefined;
    const plan = planCertificates({
      now,
      ca: decode(this.#child<Child>(Kinds.Secret.kind, namespace, names.caSecret)),
      server: decode(this.#child<Child>(Kinds.Secret.kind, namespace, names.tlsSecret)),
      dnsNames: serviceDnsNames(proxy),
      ipAddresses: proxy.spec.tls.ipAddresses ?? [],
      validityMs: parseDuration(proxy.spec.tls.certificateValidity),
      renewBeforeMs: parseDuration(proxy.spec.tls.renewBefore),
      caValidityMs: parseDuration(proxy.spec.tls.caValidity),
      commonName: `${name}.${namespace}`,
    });
    if (plan.caIssued) {
      await apply(this.#o.client, buildCaSecret(proxy, plan));
      this.#o.events.record(
        regarding,
        'Normal',
        'CAIssued',
        'IssueCertificate',
        `CA valid until ${plan.caNotAfter.toISOString()}`,
      );
    }
    if (plan.serverIssued) {
      await apply(this.#o.client, buildTlsSecret(proxy, plan));
      this.#o.events.record(
        regarding,
        'Normal',
        'CertificateIssued',
        'IssueCertificate',
        `serving certificate issued (${plan.reason}), valid until ${plan.notAfter.toISOString()}; the pods roll to load it`,
      );
    }
    return plan;
  }

  async #applyChildren(
    proxy: ResolvedRocketMQProxy,
    configYaml: string,
    configHash: string,
    certificateHash: string | undefined,
  ): Promise<DeploymentView> {
    const client = this.#o.client;
    const { namespace, name } = proxy.metadata;
    const uid = proxy.metadata.uid ?? '';
    const names = childNames(name);
    await apply(client, buildConfigMap(proxy, configYaml));
    await apply(client, buildService(proxy));
    const optional: [Parameters<typeof apply>[1] | undefined, string, (typeof Kinds)[keyof typeof Kinds]][] =
      [
        [
          proxy.spec.service.headless ? buildHeadlessService(proxy) : undefined,
          names.headless,
          Kinds.Service,
        ],
        [buildPdb(proxy), names.pdb, Kinds.PodDisruptionBudget],
        [buildNetworkPolicy(proxy), names.networkPolicy, Kinds.NetworkPolicy],
        [buildHpa(proxy), names.hpa, Kinds.HorizontalPodAutoscaler],
      ];
    for (const [desired, childName, kind] of optional) {
      if (desired) await apply(client, desired);
      else
        await deleteOwned(
          client,
          this.#child(kind.kind, namespace, childName),
          uid,
          kind.apiVersion,
          kind.kind,
        );
    }
    if (this.#podMonitors.available) {
      const podMonitor = buildPodMonitor(proxy);
      if (podMonitor) await apply(client, podMonitor);
      else
        await deleteOwned(
          client,
          this.#podMonitors.get(namespace, names.podMonitor),
          uid,
          Kinds.PodMonitor.apiVersion,
          Kinds.PodMonitor.kind,
        );
    }
    const desired = buildDeployment(proxy, { configHash, certificateHash });
    if (desired.spec?.replicas === undefined) await this.#handOverReplicas(namespace, names.deployment);
    return apply<KubeObject & DeploymentView>(client, desired);
  }

  /**
   * When autoscaling turns on, our apply stops carrying spec.replicas. Had we owned it only through that
   * apply, the server would drop the field and the Deployment would fall back to 1 replica. So first
   * apply the current value through the scale subresource (same field manager, a separate managedFields
   * entry): the field stays owned there, and the HPA takes it over with its first scale write.
   * (A merge-patch "update" of an unchanged value would not do: no-op writes record no ownership.)
   */
  async #handOverReplicas(namespace: string, name: string): Promise<void> {
    const existing = this.#child<Child & { spec?: { replicas?: number } }>(
      Kinds.Deployment.kind,
      namespace,
      name,
    );
    const owned = existing?.metadata.managedFields?.some(
      (entry) =>
        entry.manager === FIELD_MANAGER &&
        entry.operation === 'Apply' &&
        !entry.subresource &&
        JSON.stringify(entry.fieldsV1 ?? {}).includes('"f:replicas"'),
    );
    if (!existing || !owned) return;
    await this.#o.client.request('PATCH', `${resourcePath(Kinds.Deployment, namespace, name)}/scale`, {
      body: {
        apiVersion: 'autoscaling/v1',
        kind: 'Scale',
        metadata: { name, namespace },
        spec: { replicas: existing.spec?.replicas ?? 1 },
      },
      contentType: ContentType.APPLY_PATCH,
      query: { fieldManager: FIELD_MANAGER, force: true },
    });
  }

  /**
   * Writes the status subresource if it changed. The patch carries the resourceVersion it was computed
   * from (optimistic concurrency); on 409 it re-reads: same generation → retry with the fresh version,
   * new generation → drop the write (the watch has queued another pass for the new spec).
   */
  async writeStatus(
    proxy: ResolvedRocketMQProxy | RocketMQProxy,
    status: RocketMQProxyStatus,
  ): Promise<void> {
    const { namespace, name } = proxy.metadata;
    const path = `${resourcePath(Kinds.RocketMQProxy, namespace, name)}/status`;
    let resourceVersion = proxy.metadata.resourceVersion;
    let current: RocketMQProxyStatus | undefined = proxy.status;
    const generation = proxy.metadata.generation;
    await retryOnConflict(
      async (attempt) => {
        if (attempt > 1) {
          const fresh = await this.#o.client.request<RocketMQProxy>(
            'GET',
            resourcePath(Kinds.RocketMQProxy, namespace, name),
          );
          if (fresh.metadata.generation !== generation) return;
          resourceVersion = fresh.metadata.resourceVersion;
          current = fresh.status;
        }
        if (sameStatus(current ?? {}, status)) return;
        await this.#o.client.request('PATCH', path, {
          body: { metadata: { resourceVersion }, status },
          contentType: ContentType.MERGE_PATCH,
          query: { fieldManager: FIELD_MANAGER },
        });
      },
      { onConflict: () => this.#o.metrics.conflicts.inc() },
    ).catch((error: unknown) => {
      if (isNotFound(error)) return;
      throw error instanceof KubeApiError ? error : new Error(String(error));
    });
  }
}
