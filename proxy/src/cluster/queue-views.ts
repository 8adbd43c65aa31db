/**
 * The proxy's own view of a topic route: the queues it may send to (write view) and read from (read
 * view), each with the master address that serves it, sorted by (topic, broker name, queue id) as the
 * Java proxy sorts them. The FIFO hash indexes into the write view, so its order is part of the wire
 * contract between proxies.
 */
import { Permission } from '../remoting/requests/admin.ts';
import { type BrokerData, masterAddress, type TopicRoute } from '../remoting/requests/route.ts';

export interface AddressableQueue {
  readonly topic: string;
  readonly brokerName: string;
  readonly queueId: number;
  /** `host:port` of the broker that serves the queue (the master for writes). */
  readonly brokerAddr: string;
}

export function isReadable(perm: number): boolean {
  return (perm & Permission.READ) !== 0;
}

export function isWritable(perm: number): boolean {
  return (perm & Permission.WRITE) !== 0;
}

function brokerByName(route: TopicRoute): Map<string, BrokerData> {
  return new Map(route.brokerDatas.map((broker) => [broker.brokerName, broker]));
}

function masterOf(brokers: Map<string, BrokerData>, brokerName: string): string | undefined {
  const broker = brokers.get(brokerName);
  return broker === undefined ? undefined : masterAddress(broker);
}

/** The master, else the replica with the lowest id (reads may be served by a slave). */
function masterPreferred(brokers: Map<string, BrokerData>, brokerName: string): string | undefined {
  const broker = brokers.get(brokerName);
  if (broker === undefined) return undefined;
  const master = masterAddress(broker);
  if (master !== undefined) return master;
  const ids = [...broker.brokerAddrs.keys()].sort((a, b) => a - b);
  return ids.length === 0 ? undefined : broker.brokerAddrs.get(ids[0]!);
}

/** Java's `String.compareTo` is UTF-16 code unit order, which is also JavaScript's `<` on strings. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareQueues(a: AddressableQueue, b: AddressableQueue): number {
  return (
    compareText(a.topic, b.topic) ||
    compareText(a.brokerName, b.brokerName) ||
    a.queueId - b.queueId ||
    compareText(a.brokerAddr, b.brokerAddr)
  );
}

function sortedUnique(queues: AddressableQueue[]): AddressableQueue[] {
  const seen = new Set<string>();
  const unique: AddressableQueue[] = [];
  for (const queue of queues) {
    const key = `${queue.brokerName}\u0000${queue.queueId}\u0000${queue.brokerAddr}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(queue);
  }
  return unique.sort(compareQueues);
}

/** Parses `orderTopicConf` ("broker-a:4;broker-b:8"); malformed items are skipped. */
function orderTopicLayout(conf: string): { brokerName: string; queues: number }[] {
  const layout: { brokerName: string; queues: number }[] = [];
  for (const item of conf.split(';')) {
    const [brokerName, count] = item.split(':');
    const queues = Number(count);
    if (brokerName && Number.isInteger(queues) && queues > 0) layout.push({ brokerName, queues });
  }
  return layout;
}

export function writeView(topic: string, route: TopicRoute): AddressableQueue[] {
  const brokers = brokerByName(route);
  const queues: AddressableQueue[] = [];
  const add = (brokerName: string, count: number): void => {
    const brokerAddr = masterOf(brokers, brokerName);
    if (brokerAddr === undefined) return;
    for (let queueId = 0; queueId < count; queueId++) queues.push({ topic, brokerName, queueId, brokerAddr });
  };
  if (route.orderTopicConf !== undefined && route.orderTopicConf.trim() !== '') {
    for (const { brokerName, queues: count } of orderTopicLayout(route.orderTopicConf))
      add(brokerName, count);
  } else {
    for (const data of route.queueDatas) {
      if (isWritable(data.perm)) add(data.brokerName, data.writeQueueNums);
    }
  }
  return sortedUnique(queues);
}

export function readView(topic: string, route: TopicRoute): AddressableQueue[] {
  const brokers = brokerByName(route);
  const queues: AddressableQueue[] = [];
  for (const data of route.queueDatas) {
    if (!isReadable(data.perm)) continue;
    const brokerAddr = masterPreferred(brokers, data.brokerName);
    if (brokerAddr === undefined) continue;
    for (let queueId = 0; queueId < data.readQueueNums; queueId++) {
      queues.push({ topic, brokerName: data.brokerName, queueId, brokerAddr });
    }
  }
  return sortedUnique(queues);
}

/** One entry per broker (queue id -1), sorted: what "send/pop on any queue of this broker" uses. */
export function brokerActingView(queues: readonly AddressableQueue[]): AddressableQueue[] {
  const byBroker = new Map<string, AddressableQueue>();
  for (const queue of queues) {
    if (!byBroker.has(queue.brokerName)) byBroker.set(queue.brokerName, { ...queue, queueId: -1 });
  }
  return [...byBroker.values()].sort(compareQueues);
}
