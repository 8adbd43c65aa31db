/**
 * Topic and consumer-group metadata from the brokers, cached like routes: a topic's message type (its
 * `message.type` attribute, from GET_TOPIC_CONFIG on a master of the topic) and a group's subscription
 * config (orderly flag, retry policy, from GET_SUBSCRIPTIONGROUP_CONFIG on any master of the cluster).
 */
import type { RemotingPool } from '../remoting/pool.ts';
import {
  type GroupConfig,
  groupConfigRequest,
  parseGroupConfig,
  parseTopicConfig,
  topicConfigRequest,
} from '../remoting/requests/admin.ts';
import type { Clock } from './clock.ts';
import { LoadingCache } from './loading-cache.ts';
import { type TopicType, topicTypeFromAttribute } from './message-type.ts';
import type { RouteService } from './route-service.ts';

export interface MetadataServiceOptions {
  pool: RemotingPool;
  routes: RouteService;
  timeoutMs: number;
  refreshMs: number;
  expireMs: number;
  /** How long "the broker has no such topic/group" is believed (default 1 s). */
  missingMs?: number | undefined;
  clock?: Clock | undefined;
  onRefreshError?: ((what: string, error: unknown) => void) | undefined;
}

type MaybeGroup = { config: GroupConfig | undefined };

export class MetadataService {
  readonly #options: MetadataServiceOptions;
  readonly #topicTypes: LoadingCache<TopicType>;
  readonly #groups: LoadingCache<MaybeGroup>;

  constructor(options: MetadataServiceOptions) {
    this.#options = options;
    const missingMs = options.missingMs ?? 1000;
    this.#topicTypes = new LoadingCache<TopicType>({
      load: (topic) => this.#loadTopicType(topic),
      refreshAfterMs: options.refreshMs,
      expireAfterAccessMs: options.expireMs,
      shortLivedMs: (type) => (type === 'UNSPECIFIED' ? missingMs : undefined),
      onRefreshError: (topic, error) => options.onRefreshError?.(`config of topic ${topic}`, error),
      clock: options.clock,
    });
    this.#groups = new LoadingCache<MaybeGroup>({
      load: async (group) => ({ config: await this.#loadGroup(group) }),
      refreshAfterMs: options.refreshMs,
      expireAfterAccessMs: options.expireMs,
      shortLivedMs: (entry) => (entry.config === undefined ? missingMs : undefined),
      onRefreshError: (group, error) => options.onRefreshError?.(`config of group ${group}`, error),
      clock: options.clock,
    });
  }

  /**
   * The topic's message type. Throws TOPIC_NOT_EXIST when the NameServer has no route, and Remoting
   * errors when no broker answers; UNSPECIFIED when the broker has no config for the topic.
   */
  topicType(topic: string): Promise<TopicType> {
    return this.#topicTypes.get(topic);
  }

  /** The group's config, or undefined when the brokers do not know the group. */
  async groupConfig(group: string): Promise<GroupConfig | undefined> {
    return (await this.#groups.get(group)).config;
  }

  async #loadTopicType(topic: string): Promise<TopicType> {
    const view = await this.#options.routes.view(topic);
    const addresses = [...new Set(view.writeQueues.concat(view.readQueues).map((queue) => queue.brokerAddr))];
    const config = await this.#firstAnswer(addresses, async (address) =>
      parseTopicConfig(
        await this.#options.pool.request(address, topicConfigRequest(topic), {
          timeoutMs: this.#options.timeoutMs,
        }),
      ),
    );
    if (config === undefined) return 'UNSPECIFIED';
    return topicTypeFromAttribute(config.attributes['message.type']);
  }

  async #loadGroup(group: string): Promise<GroupConfig | undefined> {
    const addresses = await this.#options.routes.masterAddresses();
    return this.#firstAnswer(addresses, async (address) =>
      parseGroupConfig(
        await this.#options.pool.request(address, groupConfigRequest(group), {
          timeoutMs: this.#options.timeoutMs,
        }),
      ),
    );
  }

  /** Asks each broker in turn until one answers (any answer, "not found" included). */
  async #firstAnswer<T>(addresses: readonly string[], ask: (address: string) => Promise<T>): Promise<T> {
    if (addresses.length === 0) throw new Error('no broker master is known to ask');
    let lastError: unknown;
    for (const address of addresses) {
      try {
        return await ask(address);
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError;
  }
}
