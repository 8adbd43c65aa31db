/**
 * Discovery at the NameServer: a topic's route (which brokers hold its queues, and where those brokers
 * listen) and the whole cluster map. Both bodies are fastjson: the route body uses standard JSON when we
 * ask for it, but ClusterInfo always keys `brokerAddrs` by bare integers (`{0:"host:port"}`).
 */
import { RequestCode } from '../codes.ts';
import type { RemotingCommand, RequestSpec } from '../command.ts';
import { RemotingError } from '../errors.ts';
import {
  expectArray,
  expectObject,
  expectString,
  type JsonEntry,
  type JsonObject,
  type JsonValue,
  parseFastjson,
  readNumber,
} from '../fastjson.ts';
import { expectSuccess } from '../response.ts';
import { extFields } from './ext-fields.ts';

/** brokerId of a broker group's master in `brokerAddrs`; slaves have ids ≥ 1. */
export const MASTER_BROKER_ID = 0;

export interface QueueData {
  brokerName: string;
  readQueueNums: number;
  writeQueueNums: number;
  /** Permission bits: 4 READ, 2 WRITE, 1 INHERIT, 8 PRIORITY (see `Permission` in admin.ts). */
  perm: number;
  topicSysFlag: number;
}

export interface BrokerData {
  cluster: string;
  brokerName: string;
  /** brokerId → "host:port"; 0 is the master. */
  brokerAddrs: Map<number, string>;
  enableActingMaster: boolean;
  zoneName?: string | undefined;
}

export interface TopicRoute {
  queueDatas: QueueData[];
  brokerDatas: BrokerData[];
  /** Legacy order-topic layout, `"broker-a:8;broker-b:4"`; when present it overrides queueDatas for publishing. */
  orderTopicConf?: string | undefined;
}

export interface ClusterInfo {
  /** brokerName → its broker group. */
  brokers: Map<string, BrokerData>;
  /** clusterName → the names of its broker groups. */
  clusters: Map<string, string[]>;
}

export function routeRequest(topic: string): RequestSpec {
  // Our version code already selects standard JSON; the flag keeps that true for any version we announce.
  return {
    code: RequestCode.GET_ROUTEINFO_BY_TOPIC,
    extFields: extFields({ topic, acceptStandardJsonOnly: true }),
  };
}

/**
 * The topic's route. An unknown topic throws RemotingResponseError with errorCode RMQ_TOPIC_NOT_EXIST
 * (retriable: the broker may not have registered it yet).
 */
export function parseRoute(response: RemotingCommand): TopicRoute {
  expectSuccess(response, RequestCode.GET_ROUTEINFO_BY_TOPIC);
  const root = bodyObject(response, 'TopicRouteData');
  const queueDatas = optionalArray(root.get('queueDatas'), 'TopicRouteData.queueDatas').map((value, i) =>
    readQueueData(value, `TopicRouteData.queueDatas[${i}]`),
  );
  const brokerDatas = optionalArray(root.get('brokerDatas'), 'TopicRouteData.brokerDatas').map((value, i) =>
    readBrokerData(value, `TopicRouteData.brokerDatas[${i}]`),
  );
  const orderTopicConf = optionalString(root.get('orderTopicConf'), 'TopicRouteData.orderTopicConf');
  return orderTopicConf === undefined
    ? { queueDatas, brokerDatas }
    : { queueDatas, brokerDatas, orderTopicConf };
}

export function clusterInfoRequest(): RequestSpec {
  return { code: RequestCode.GET_BROKER_CLUSTER_INFO };
}

export function parseClusterInfo(response: RemotingCommand): ClusterInfo {
  expectSuccess(response, RequestCode.GET_BROKER_CLUSTER_INFO);
  const root = bodyObject(response, 'ClusterInfo');
  const brokers = new Map<string, BrokerData>();
  for (const entry of optionalObjectEntries(root.get('brokerAddrTable'), 'ClusterInfo.brokerAddrTable')) {
    brokers.set(entry.key, readBrokerData(entry.value, `ClusterInfo.brokerAddrTable["${entry.key}"]`));
  }
  const clusters = new Map<string, string[]>();
  for (const entry of optionalObjectEntries(root.get('clusterAddrTable'), 'ClusterInfo.clusterAddrTable')) {
    const what = `ClusterInfo.clusterAddrTable["${entry.key}"]`;
    clusters.set(
      entry.key,
      expectArray(entry.value, what).map((name, i) => expectString(name, `${what}[${i}]`)),
    );
  }
  return { brokers, clusters };
}

/** The master's address of a broker group, or undefined when the group currently has no master. */
export function masterAddress(broker: BrokerData): string | undefined {
  return broker.brokerAddrs.get(MASTER_BROKER_ID);
}

function readQueueData(value: JsonValue, what: string): QueueData {
  const object = expectObject(value, what);
  return {
    brokerName: expectString(object.get('brokerName'), `${what}.brokerName`),
    readQueueNums: readInt(object.get('readQueueNums'), `${what}.readQueueNums`),
    writeQueueNums: readInt(object.get('writeQueueNums'), `${what}.writeQueueNums`),
    perm: readInt(object.get('perm'), `${what}.perm`),
    // Absent in bodies from very old brokers; Java's default is 0.
    topicSysFlag: object.has('topicSysFlag')
      ? readInt(object.get('topicSysFlag'), `${what}.topicSysFlag`)
      : 0,
  };
}

function readBrokerData(value: JsonValue, what: string): BrokerData {
  const object = expectObject(value, what);
  const brokerAddrs = new Map<number, string>();
  for (const entry of optionalObjectEntries(object.get('brokerAddrs'), `${what}.brokerAddrs`)) {
    // Keys arrive bare (`0`) or quoted (`"0"`); both canonicalise to the decimal text.
    if (!BROKER_ID.test(entry.key)) {
      throw new RemotingError(
        'RMQ_BAD_PAYLOAD',
        `${what}.brokerAddrs: key ${JSON.stringify(entry.key)} is not a broker id`,
      );
    }
    brokerAddrs.set(Number(entry.key), expectString(entry.value, `${what}.brokerAddrs["${entry.key}"]`));
  }
  const enableActingMaster = object.get('enableActingMaster');
  const zoneName = optionalString(object.get('zoneName'), `${what}.zoneName`);
  const broker: BrokerData = {
    cluster: expectString(object.get('cluster'), `${what}.cluster`),
    brokerName: expectString(object.get('brokerName'), `${what}.brokerName`),
    brokerAddrs,
    enableActingMaster: enableActingMaster === true,
  };
  if (zoneName !== undefined) broker.zoneName = zoneName;
  return broker;
}

/** A brokerId: a Java long that fits comfortably in a double (ids are small in practice). */
const BROKER_ID = /^-?[0-9]{1,15}$/;

function readInt(value: JsonValue | undefined, what: string): number {
  const number = readNumber(value, what);
  if (!Number.isInteger(number) || number < -(2 ** 31) || number >= 2 ** 31) {
    throw new RemotingError('RMQ_BAD_PAYLOAD', `${what}: expected a 32-bit integer, got ${number}`);
  }
  return number;
}

function bodyObject(response: RemotingCommand, what: string): JsonObject {
  if (!response.body || response.body.length === 0) {
    throw new RemotingError('RMQ_BAD_PAYLOAD', `${what} response has no body`);
  }
  return expectObject(parseFastjson(response.body), what);
}

/** fastjson omits null properties, so an absent list or map reads as empty. */
function optionalArray(value: JsonValue | undefined, what: string): JsonValue[] {
  return value === undefined || value === null ? [] : expectArray(value, what);
}

function optionalObjectEntries(value: JsonValue | undefined, what: string): Iterable<JsonEntry> {
  return value === undefined || value === null ? [] : expectObject(value, what).entries();
}

function optionalString(value: JsonValue | undefined, what: string): string | undefined {
  return value === undefined || value === null ? undefined : expectString(value, what);
}
