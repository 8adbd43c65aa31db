/**
 * Client sessions: a client registers by declaring its role and groups (a producer its topics, a
 * consumer its group and subscriptions), is granted its settings, stays alive by heartbeats and is
 * forgotten when it says it terminates. The channel given at registration stays bound to the client
 * so other operations can reach it (transaction checks).
 */
import type { Logger } from 'pino';
import type { MetadataService } from '../cluster/metadata-service.ts';
import type { RequestContext } from '../core/context.ts';
import { ProxyError } from '../core/errors.ts';
import { validateConsumerGroup, validateTopic } from '../core/names.ts';
import type { GroupConfig } from '../remoting/requests/admin.ts';
import type { Subscription } from '../remoting/requests/heartbeat.ts';
import type { ClientChannel } from './client-channel.ts';
import { type ClientKind, type ClientRegistration, isConsumerKind } from './client-session.ts';
import type { ClientRegistry } from './registry.ts';
import {
  type GrantedSettings,
  grantConsumerSettings,
  grantProducerSettings,
  type SettingsPolicy,
} from './settings.ts';

/** What a client declares about itself (decoded by the ingress). */
export interface DeclaredSettings {
  /** The declared client type; undefined when the client sent none the proxy knows. */
  readonly kind: ClientKind | undefined;
  /** Producers: the topics they publish to. */
  readonly publishing?: { readonly topics: readonly string[] } | undefined;
  readonly subscription?:
    | { readonly group: string; readonly subscriptions: readonly Subscription[] }
    | undefined;
  readonly requestTimeoutMs: number | undefined;
}

export interface SessionServiceDeps {
  registry: ClientRegistry;
  metadata: Pick<MetadataService, 'groupConfig'>;
  policy: SettingsPolicy;
  logger: Logger;
}

const NO_SETTINGS = 'cannot find client settings for this client';

export class SessionService {
  readonly #deps: SessionServiceDeps;

  constructor(deps: SessionServiceDeps) {
    this.#deps = deps;
  }

  /** Registers (or re-registers) the client; the declaration needs publishing or subscription data. */
  async register(
    context: RequestContext,
    declared: DeclaredSettings,
    channel: ClientChannel,
  ): Promise<GrantedSettings> {
    const base = { clientId: context.clientId, language: context.language };
    let registration: ClientRegistration;
    let granted: GrantedSettings;
    if (declared.publishing !== undefined) {
      if (declared.kind !== undefined && declared.kind !== 'PRODUCER') {
        throw new ProxyError(
          'BadRequest',
          `publishing settings need client type PRODUCER, got ${declared.kind}`,
        );
      }
      const topics = declared.publishing.topics.map(validateTopic);
      granted = grantProducerSettings(this.#deps.policy, declared.requestTimeoutMs);
      registration = {
        ...base,
        kind: 'PRODUCER',
        producerGroups: [...new Set(topics)],
        subscriptions: [],
        settings: granted,
      };
    } else {
      const kind = declared.kind;
      if (kind === undefined || !isConsumerKind(kind)) {
        throw new ProxyError(
          'BadRequest',
          `subscription settings need a consumer client type, got ${kind ?? 'CLIENT_TYPE_UNSPECIFIED'}`,
        );
      }
      const group = validateConsumerGroup(declared.subscription?.group);
      const subscriptions = declared.subscription?.subscriptions ?? [];
      for (const entry of subscriptions) validateTopic(entry.topic);
      granted = grantConsumerSettings(
        await this.#groupConfig(group),
        this.#deps.policy,
        declared.requestTimeoutMs,
      );
      registration = {
        ...base,
        kind,
        producerGroups: [],
        consumerGroup: group,
        subscriptions,
        settings: granted,
      };
    }
    this.#deps.registry.register(registration, channel);
    return granted;
  }

  /** Keeps a registered client alive; consumers name their group. */
  heartbeat(context: RequestContext, group: string | undefined): void {
    const { registry } = this.#deps;
    const session = registry.get(context.clientId);
    if (session === undefined) throw new ProxyError('UnrecognizedClientType', NO_SETTINGS);
    if (isConsumerKind(session.kind)) validateConsumerGroup(group);
    registry.touch(context.clientId);
  }

  /** Forgets the client (it is shutting down). */
  terminate(context: RequestContext, group: string | undefined): void {
    const session = this.#deps.registry.remove(context.clientId);
    if (session === undefined) throw new ProxyError('UnrecognizedClientType', NO_SETTINGS);
    if (isConsumerKind(session.kind)) validateConsumerGroup(group);
  }

  /** Unbinds a channel that ended (the registration lives on until termination or expiry). */
  detach(clientId: string, channel: ClientChannel): void {
    this.#deps.registry.detachChannel(clientId, channel);
  }

  async #groupConfig(group: string): Promise<GroupConfig | undefined> {
    try {
      return await this.#deps.metadata.groupConfig(group);
    } catch (error) {
      this.#deps.logger.warn(
        { err: error, group },
        'cannot read the consumer group config; answering default settings',
      );
      return undefined;
    }
  }
}
