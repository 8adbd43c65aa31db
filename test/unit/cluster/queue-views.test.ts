import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brokerActingView, readView, writeView } from '../../../proxy/src/cluster/queue-views.ts';
import { permissionCounts, publicQueues } from '../../../proxy/src/cluster/route-queues.ts';
import type { BrokerData, QueueData, TopicRoute } from '../../../proxy/src/remoting/requests/route.ts';

function broker(name: string, addrs: Record<number, string>): BrokerData {
  return {
    cluster: 'DefaultCluster',
    brokerName: name,
    brokerAddrs: new Map(Object.entries(addrs).map(([id, addr]) => [Number(id), addr])),
    enableActingMaster: false,
  };
}

function queues(name: string, read: number, write: number, perm = 6): QueueData {
  return { brokerName: name, readQueueNums: read, writeQueueNums: write, perm, topicSysFlag: 0 };
}

describe('queue views', () => {
  const route: TopicRoute = {
    // Deliberately out of order: views are sorted by broker name, then queue id.
    queueDatas: [queues('broker-b', 2, 3), queues('broker-a', 2, 2), queues('broker-c', 2, 2, 4)],
    brokerDatas: [
      broker('broker-b', { 0: '10.0.0.2:10911', 1: '10.0.0.22:10911' }),
      broker('broker-a', { 0: '10.0.0.1:10911' }),
      broker('broker-c', { 1: '10.0.0.33:10911' }),
    ],
  };

  test('write view: writable queue datas with a master, sorted (broker-a first)', () => {
    const view = writeView('T', route);
    assert.deepEqual(
      view.map((q) => `${q.brokerName}/${q.queueId}@${q.brokerAddr}`),
      [
        'broker-a/0@10.0.0.1:10911',
        'broker-a/1@10.0.0.1:10911',
        'broker-b/0@10.0.0.2:10911',
        'broker-b/1@10.0.0.2:10911',
        'broker-b/2@10.0.0.2:10911',
      ],
    );
  });

  test('read view: readable queue datas, served by the master or else a replica', () => {
    const view = readView('T', route);
    assert.deepEqual(
      view.map((q) => `${q.brokerName}/${q.queueId}@${q.brokerAddr}`),
      [
        'broker-a/0@10.0.0.1:10911',
        'broker-a/1@10.0.0.1:10911',
        'broker-b/0@10.0.0.2:10911',
        'broker-b/1@10.0.0.2:10911',
        'broker-c/0@10.0.0.33:10911',
        'broker-c/1@10.0.0.33:10911',
      ],
    );
    assert.deepEqual(
      brokerActingView(view).map((q) => `${q.brokerName}/${q.queueId}`),
      ['broker-a/-1', 'broker-b/-1', 'broker-c/-1'],
    );
  });

  test('orderTopicConf overrides the queue datas for writes', () => {
    const view = writeView('T', { ...route, orderTopicConf: 'broker-b:1;broker-a:2;bad;broker-x:3' });
    assert.deepEqual(
      view.map((q) => `${q.brokerName}/${q.queueId}`),
      ['broker-a/0', 'broker-a/1', 'broker-b/0'],
    );
  });
});

describe('QueryRoute queue layout (Java RouteActivity)', () => {
  test('permission math: READ, then WRITE, then READ_WRITE, then NONE', () => {
    assert.deepEqual(permissionCounts(6, 8, 4), { read: 4, write: 0, readWrite: 4, none: 0 });
    assert.deepEqual(permissionCounts(6, 2, 5), { read: 0, write: 3, readWrite: 2, none: 0 });
    assert.deepEqual(permissionCounts(2, 8, 4), { read: 0, write: 4, readWrite: 0, none: 0 });
    assert.deepEqual(permissionCounts(4, 8, 4), { read: 8, write: 0, readWrite: 0, none: 0 });
    assert.deepEqual(permissionCounts(0, 0, 0), { read: 0, write: 0, readWrite: 0, none: 1 });
    assert.deepEqual(permissionCounts(1, 3, 5), { read: 0, write: 0, readWrite: 0, none: 5 });
  });

  test('every replica gets queues numbered from 0; a queue data without broker data stops the walk', () => {
    const route: TopicRoute = {
      queueDatas: [queues('broker-a', 3, 2), queues('missing', 4, 4), queues('broker-b', 1, 1)],
      brokerDatas: [
        broker('broker-a', { 1: '10.0.0.11:10911', 0: '10.0.0.1:10911' }),
        broker('broker-b', { 0: '10.0.0.2:10911' }),
      ],
    };
    assert.deepEqual(
      publicQueues(route).map((q) => `${q.brokerName}#${q.brokerId}/${q.queueId}:${q.permission}`),
      [
        'broker-a#0/0:READ',
        'broker-a#0/1:READ_WRITE',
        'broker-a#0/2:READ_WRITE',
        'broker-a#1/0:READ',
        'broker-a#1/1:READ_WRITE',
        'broker-a#1/2:READ_WRITE',
      ],
    );
  });
});
