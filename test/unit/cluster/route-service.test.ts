import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fifoQueueIndex } from '../../../proxy/src/cluster/consistent-hash.ts';
import { RouteService } from '../../../proxy/src/cluster/route-service.ts';
import { v2 } from '../../../proxy/src/grpc/protocol.ts';
import { statusFromError } from '../../../proxy/src/grpc/status.ts';
import type { RemotingCommand, RequestSpec } from '../../../proxy/src/remoting/command.ts';
import { RemotingResponseError } from '../../../proxy/src/remoting/errors.ts';

function response(code: number, body?: object, remark?: string): RemotingCommand {
  return {
    code,
    language: 'JAVA',
    version: 0,
    opaque: 1,
    flag: 1,
    remark,
    body: body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
  };
}

const ROUTE = {
  queueDatas: [
    { brokerName: 'broker-b', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 },
    { brokerName: 'broker-a', readQueueNums: 4, writeQueueNums: 4, perm: 6, topicSysFlag: 0 },
  ],
  brokerDatas: [
    { cluster: 'C', brokerName: 'broker-a', brokerAddrs: { '0': '10.0.0.1:10911' } },
    { cluster: 'C', brokerName: 'broker-b', brokerAddrs: { '0': '10.0.0.2:10911' } },
  ],
};

/** A NameServer stand-in answering GET_ROUTEINFO_BY_TOPIC from a table. */
function fakeNamesrv(routes: Map<string, object>) {
  const asked: string[] = [];
  return {
    asked,
    request: async (spec: RequestSpec) => {
      const topic = spec.extFields?.['topic'] ?? '';
      asked.push(topic);
      const route = routes.get(topic);
      return route === undefined
        ? response(17, undefined, `No topic route info in name server for the topic: ${topic}`)
        : response(0, route);
    },
  };
}

describe('RouteService', () => {
  test('caches routes: refresh after refreshMs in the background, reload after expireMs unused', async () => {
    let now = 0;
    const namesrv = fakeNamesrv(new Map([['T', ROUTE]]));
    const routes = new RouteService({ namesrv, refreshMs: 20_000, expireMs: 300_000, clock: () => now });
    await routes.view('T');
    now = 19_999;
    await routes.view('T');
    assert.equal(namesrv.asked.length, 1);
    now = 20_000;
    await routes.view('T');
    assert.equal(namesrv.asked.length, 2, 'background refresh started');
    now = 20_000 + 300_000;
    await routes.view('T');
    assert.equal(namesrv.asked.length, 3, 'expired after 300 s without a read');
  });

  test('an unknown topic is TOPIC_NOT_EXIST (→ TOPIC_NOT_FOUND), remembered only briefly', async () => {
    let now = 0;
    const table = new Map<string, object>();
    const namesrv = fakeNamesrv(table);
    const routes = new RouteService({
      namesrv,
      refreshMs: 20_000,
      expireMs: 300_000,
      missingTopicMs: 1000,
      clock: () => now,
    });
    const error = await routes.view('T').catch((e: unknown) => e);
    assert.ok(error instanceof RemotingResponseError);
    assert.equal(statusFromError(error).code, v2.Code.TOPIC_NOT_FOUND);
    await assert.rejects(routes.view('T'));
    assert.equal(namesrv.asked.length, 1);
    table.set('T', ROUTE);
    now = 1000;
    assert.equal(
      (await routes.view('T')).writeQueues.length,
      8,
      'the topic appears once the short memory ends',
    );
  });

  test('a route without queues or brokers counts as missing', async () => {
    const namesrv = fakeNamesrv(new Map([['E', { queueDatas: [], brokerDatas: [] }]]));
    const routes = new RouteService({ namesrv, refreshMs: 1000, expireMs: 1000 });
    const error = await routes.view('E').catch((e: unknown) => e);
    assert.ok(error instanceof RemotingResponseError && error.responseCode === 17);
  });

  test('FIFO selection hashes the group over the sorted write queues; others round-robin', async () => {
    const routes = new RouteService({
      namesrv: fakeNamesrv(new Map([['T', ROUTE]])),
      refreshMs: 1000,
      expireMs: 1000,
      random: () => 0,
    });
    const queues = (await routes.view('T')).writeQueues;
    for (const group of ['order-1', 'order-2', 'user-42']) {
      const chosen = await routes.selectWriteQueue('T', group);
      assert.deepEqual(chosen, queues[fifoQueueIndex(group, 8)]);
      assert.deepEqual(
        await routes.selectWriteQueue('T', group),
        chosen,
        'the same group always gets the same queue',
      );
    }
    const spread = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const queue = await routes.selectWriteQueue('T');
      spread.add(`${queue?.brokerName}/${queue?.queueId}`);
    }
    assert.equal(spread.size, 8, 'round-robin visits every write queue');
    const failed = queues[0]!;
    const retry = await routes.selectRetryQueue('T', failed);
    assert.notEqual(retry?.brokerName, failed.brokerName);
  });

  test('broker address by name comes from the route of the topic named like the broker', async () => {
    const namesrv = fakeNamesrv(new Map([['broker-a', ROUTE]]));
    const routes = new RouteService({ namesrv, refreshMs: 1000, expireMs: 1000 });
    assert.equal(await routes.brokerAddress('broker-a'), '10.0.0.1:10911');
  });
});
