/**
 * Topic routes from the NameServer, cached (refresh in the background after `refreshMs`, dropped after
 * `expireMs` without use), with the queue views and selection the data path needs. A topic the
 * NameServer does not know is remembered briefly and reported as RemotingResponseError
 * TOPIC_NOT_EXIST, which the gRPC layer answers with TOPIC_NOT_FOUND.
 */
import { RequestCode, ResponseCode } from '../remoting/codes.ts';
import { RemotingResponseError } from '../remoting/errors.ts';
import {
  type ClusterInfo,
  clusterInfoRequest,
  masterAddress,
  parseClusterInfo,
  parseRoute,
  routeRequest,
  type TopicRoute,
} from '../remoting/requests/route.ts';
import type { Clock } from './clock.ts';
import { fifoQueueIndex } from './consistent-hash.ts';
import { LoadingCache } from './loading-cache.ts';
import type { NameServerClient } from './nameserver.ts';
import { type AddressableQueue, brokerActingView, readView, writeView } from './queue-views.ts';

export interface RouteServiceOptions {
  /** The NameServer client (anything that answers Remoting requests, in tests). */
  namesrv: Pick<NameServerClient, 'request'>;
  refreshMs: number;
  expireMs: number;
  /** How long "no such topic" is believed before asking again (default 1 s). */
  missingTopicMs?: number | undefined;
  clock?: Clock | undefined;
  onRefreshError?: ((what: string, error: unknown) => void) | undefined;
  /** Start of the round-robin counters (default random, so proxies do not all start on queue 0). */
  random?: (() => number) | undefined;
}

/** A route with the views computed once per load. */
export interface RouteView {
  readonly topic: string;
  readonly route: TopicRoute;
  readonly writeQueues: readonly AddressableQueue[];
  readonly readQueues: readonly AddressableQueue[];
  /** One queue (id -1) per broker that has write queues. */
  readonly writeBrokers: readonly AddressableQueue[];
  /** One queue (id -1) per broker that has read queues. */
  readonly readBrokers: readonly AddressableQueue[];
}

type Loaded = { kind: 'found'; view: RouteView } | { kind: 'missing'; error: RemotingResponseError };

const CLUSTER_INFO_KEY = 'cluster';

export class RouteService {
  readonly #namesrv: Pick<NameServerClient, 'request'>;
  readonly #routes: LoadingCache<Loaded>;
  readonly #clusterInfo: LoadingCache<ClusterInfo>;
  #counter: number;

  constructor(options: RouteServiceOptions) {
    this.#namesrv = options.namesrv;
    const missingTopicMs = options.missingTopicMs ?? 1000;
    this.#routes = new LoadingCache<Loaded>({
      load: (topic) => this.#loadRoute(topic),
      refreshAfterMs: options.refreshMs,
      expireAfterAccessMs: options.expireMs,
      shortLivedMs: (loaded) => (loaded.kind === 'missing' ? missingTopicMs : undefined),
      onRefreshError: (topic, error) => options.onRefreshError?.(`route of ${topic}`, error),
      clock: options.clock,
    });
    this.#clusterInfo = new LoadingCache<ClusterInfo>({
      load: async () => parseClusterInfo(await this.#namesrv.request(clusterInfoRequest())),
      refreshAfterMs: options.refreshMs,
      expireAfterAccessMs: options.expireMs,
      onRefreshError: (_key, error) => options.onRefreshError?.('cluster info', error),
      clock: options.clock,
    });
    this.#counter = Math.floor((options.random ?? Math.random)() * 2 ** 31);
  }

  /** The topic's route and views; throws TOPIC_NOT_EXIST for an unknown topic or one without queues. */
  async view(topic: string): Promise<RouteView> {
    const loaded = await this.#routes.get(topic);
    if (loaded.kind === 'missing') throw loaded.error;
    return loaded.view;
  }

  async route(topic: string): Promise<TopicRoute> {
    return (await this.view(topic)).route;
  }

  /**
   * The queue a send goes to: for a FIFO message group the Java proxy's consistent hash over the sorted
   * write queues (so every proxy picks the same queue), otherwise round-robin. Undefined when the
   * topic has no writable queue with a master.
   */
  async selectWriteQueue(topic: string, messageGroup?: string): Promise<AddressableQueue | undefined> {
    const queues = (await this.view(topic)).writeQueues;
    if (queues.length === 0) return undefined;
    if (messageGroup !== undefined && messageGroup !== '')
      return queues[fifoQueueIndex(messageGroup, queues.length)];
    return queues[this.#next(queues.length)];
  }

  /**
   * The next write queue after a failed attempt, on another broker when there is one (non-FIFO retries).
   */
  async selectRetryQueue(topic: string, failed: AddressableQueue): Promise<AddressableQueue | undefined> {
    const queues = (await this.view(topic)).writeQueues;
    if (queues.length === 0) return undefined;
    const others = queues.filter((queue) => queue.brokerName !== failed.brokerName);
    const pool = others.length > 0 ? others : queues;
    return pool[this.#next(pool.length)];
  }

  /** Round-robin over the brokers that have readable queues (queue id -1). */
  async selectReadBroker(topic: string): Promise<AddressableQueue | undefined> {
    const brokers = (await this.view(topic)).readBrokers;
    return brokers.length === 0 ? undefined : brokers[this.#next(brokers.length)];
  }

  /**
   * The master address of a broker group, found as the Java proxy does through the route of the topic
   * named like the broker (brokers create it), falling back to the cluster map.
   */
  async brokerAddress(brokerName: string): Promise<string> {
    try {
      const view = await this.view(brokerName);
      const broker = view.route.brokerDatas.find((data) => data.brokerName === brokerName);
      const address = broker === undefined ? undefined : masterAddress(broker);
      if (address !== undefined) return address;
    } catch (error) {
      if (!isTopicNotExist(error)) throw error;
    }
    const broker = (await this.clusterInfo()).brokers.get(brokerName);
    const address = broker === undefined ? undefined : masterAddress(broker);
    if (address === undefined) {
      throw new RemotingResponseError(
        ResponseCode.TOPIC_NOT_EXIST,
        `no master address for broker ${brokerName}`,
        RequestCode.GET_ROUTEINFO_BY_TOPIC,
      );
    }
    return address;
  }

  /** The cluster map (cached like routes). */
  clusterInfo(): Promise<ClusterInfo> {
    return this.#clusterInfo.get(CLUSTER_INFO_KEY);
  }

  /** Master addresses of every broker group in the cluster map, sorted. */
  async masterAddresses(): Promise<string[]> {
    const info = await this.clusterInfo();
    const addresses = new Set<string>();
    for (const broker of info.brokers.values()) {
      const address = masterAddress(broker);
      if (address !== undefined) addresses.add(address);
    }
    return [...addresses].sort();
  }

  /** Forgets a topic's route (e.g. after a send saw TOPIC_NOT_EXIST). */
  invalidate(topic: string): void {
    this.#routes.invalidate(topic);
  }

  #next(size: number): number {
    const index = this.#counter % size;
    this.#counter = (this.#counter + 1) % 2 ** 31;
    return index;
  }

  async #loadRoute(topic: string): Promise<Loaded> {
    let route: TopicRoute;
    try {
      route = parseRoute(await this.#namesrv.request(routeRequest(topic)));
    } catch (error) {
      if (isTopicNotExist(error)) return { kind: 'missing', error };
      throw error;
    }
    if (route.queueDatas.length === 0 || route.brokerDatas.length === 0) {
      return {
        kind: 'missing',
        error: new RemotingResponseError(
          ResponseCode.TOPIC_NOT_EXIST,
          `No topic route info in name server for the topic: ${topic}`,
          RequestCode.GET_ROUTEINFO_BY_TOPIC,
        ),
      };
    }
    const writeQueues = writeView(topic, route);
    const readQueues = readView(topic, route);
    return {
      kind: 'found',
      view: {
        topic,
        route,
        writeQueues,
        readQueues,
        writeBrokers: brokerActingView(writeQueues),
        readBrokers: brokerActingView(readQueues),
      },
    };
  }
}

export function isTopicNotExist(error: unknown): error is RemotingResponseError {
  return error instanceof RemotingResponseError && error.responseCode === ResponseCode.TOPIC_NOT_EXIST;
}
