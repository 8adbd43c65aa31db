import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RequestCode, ResponseCode } from '../../../proxy/src/remoting/codes.ts';
import type { RemotingCommand } from '../../../proxy/src/remoting/command.ts';
import { RemotingError, RemotingResponseError } from '../../../proxy/src/remoting/errors.ts';
import {
  clusterInfoRequest,
  masterAddress,
  parseClusterInfo,
  parseRoute,
  routeRequest,
} from '../../../proxy/src/remoting/requests/route.ts';

function response(
  body: string | undefined,
  code: number = ResponseCode.SUCCESS,
  remark?: string,
): RemotingCommand {
  return {
    code,
    language: 'JAVA',
    version: 493,
    opaque: 7,
    flag: 1,
    remark,
    body: body === undefined ? undefined : Buffer.from(body, 'utf8'),
  };
}

// Shaped like the NameServer's replies (fastjson, properties sorted, nulls omitted).
const LEGACY_ROUTE =
  '{"brokerDatas":[{"brokerAddrs":{0:"192.168.1.10:10911",1:"192.168.1.11:10911"},"brokerName":"broker-a",' +
  '"cluster":"DefaultCluster","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":' +
  '"broker-a","perm":6,"readQueueNums":8,"topicSysFlag":0,"writeQueueNums":8}]}';
const STANDARD_ROUTE =
  '{"brokerDatas":[{"brokerAddrs":{"0":"127.0.0.1:10911"},"brokerName":"broker-a","cluster":"DefaultCluster",' +
  '"enableActingMaster":false,"zoneName":"zone-1"},{"brokerAddrs":{"0":"127.0.0.1:10921","2":"127.0.0.1:10931"},' +
  '"brokerName":"broker-b","cluster":"DefaultCluster","enableActingMaster":true}],"filterServerTable":{},' +
  '"orderTopicConf":"broker-a:8;broker-b:4","queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":8,' +
  '"topicSysFlag":0,"writeQueueNums":8},{"brokerName":"broker-b","perm":4,"readQueueNums":4,"topicSysFlag":1,' +
  '"writeQueueNums":2}]}';
const CLUSTER_INFO =
  '{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"127.0.0.1:10911"},"brokerName":"broker-a","cluster":' +
  '"DefaultCluster","enableActingMaster":false},"broker-b":{"brokerAddrs":{1:"127.0.0.1:10931"},"brokerName":' +
  '"broker-b","cluster":"OtherCluster","enableActingMaster":false}},"clusterAddrTable":{"DefaultCluster":' +
  '["broker-a"],"OtherCluster":["broker-b"]}}';

describe('GET_ROUTEINFO_BY_TOPIC', () => {
  test('request carries the topic and asks for standard JSON', () => {
    const spec = routeRequest('TopicTest');
    assert.equal(spec.code, 105);
    assert.deepEqual(spec.extFields, { topic: 'TopicTest', acceptStandardJsonOnly: 'true' });
    assert.equal(spec.body, undefined);
  });

  test('parses the legacy body with bare integer brokerId keys', () => {
    const route = parseRoute(response(LEGACY_ROUTE));
    assert.deepEqual(route, {
      queueDatas: [{ brokerName: 'broker-a', readQueueNums: 8, writeQueueNums: 8, perm: 6, topicSysFlag: 0 }],
      brokerDatas: [
        {
          cluster: 'DefaultCluster',
          brokerName: 'broker-a',
          brokerAddrs: new Map([
            [0, '192.168.1.10:10911'],
            [1, '192.168.1.11:10911'],
          ]),
          enableActingMaster: false,
        },
      ],
    });
    assert.equal(masterAddress(route.brokerDatas[0]!), '192.168.1.10:10911');
  });

  test('legacy and standard key forms give the same addresses', () => {
    const legacy = parseRoute(response(LEGACY_ROUTE.replace(',1:"192.168.1.11:10911"', '')));
    const standard = parseRoute(
      response(
        LEGACY_ROUTE.replace('{0:"192.168.1.10:10911",1:"192.168.1.11:10911"}', '{"0":"192.168.1.10:10911"}'),
      ),
    );
    assert.deepEqual(legacy, standard);
  });

  test('parses the standard body with several brokers, order config and zone', () => {
    const route = parseRoute(response(STANDARD_ROUTE));
    assert.equal(route.orderTopicConf, 'broker-a:8;broker-b:4');
    assert.deepEqual(
      route.queueDatas.map((q) => [q.brokerName, q.readQueueNums, q.writeQueueNums, q.perm, q.topicSysFlag]),
      [
        ['broker-a', 8, 8, 6, 0],
        ['broker-b', 4, 2, 4, 1],
      ],
    );
    const [a, b] = route.brokerDatas;
    assert.equal(a?.zoneName, 'zone-1');
    assert.equal(b?.enableActingMaster, true);
    assert.deepEqual(
      [...(b?.brokerAddrs ?? [])],
      [
        [0, '127.0.0.1:10921'],
        [2, '127.0.0.1:10931'],
      ],
    );
  });

  test('numbers written as strings (BrowserCompatible) are accepted', () => {
    const body = STANDARD_ROUTE.replace('"readQueueNums":8', '"readQueueNums":"8"');
    assert.equal(parseRoute(response(body)).queueDatas[0]?.readQueueNums, 8);
  });

  test('absent lists read as empty (fastjson omits nulls)', () => {
    assert.deepEqual(parseRoute(response('{"filterServerTable":{}}')), { queueDatas: [], brokerDatas: [] });
  });

  test('TOPIC_NOT_EXIST surfaces as RMQ_TOPIC_NOT_EXIST', () => {
    const remark = 'No topic route info in name server for the topic: Nope';
    assert.throws(
      () => parseRoute(response(undefined, ResponseCode.TOPIC_NOT_EXIST, remark)),
      (error: unknown) =>
        error instanceof RemotingResponseError &&
        error.errorCode === 'RMQ_TOPIC_NOT_EXIST' &&
        error.responseCode === 17 &&
        error.remark === remark &&
        error.message.includes(`request ${RequestCode.GET_ROUTEINFO_BY_TOPIC}`),
    );
  });

  test('SYSTEM_ERROR (NameServer not ready) is a retriable response error', () => {
    assert.throws(
      () => parseRoute(response(undefined, ResponseCode.SYSTEM_ERROR, 'name server not ready')),
      (error: unknown) =>
        error instanceof RemotingResponseError && error.retriable && error.errorCode === 'RMQ_SYSTEM_ERROR',
    );
  });

  const badBodies: [string, string | undefined, RegExp][] = [
    ['no body', undefined, /TopicRouteData response has no body/],
    ['empty body', '', /no body/],
    ['not JSON', '<html>', /fastjson: unexpected character/],
    ['truncated', LEGACY_ROUTE.slice(0, 60), /fastjson: /],
    ['an array at the top', '[]', /TopicRouteData: expected an object/],
    ['queueDatas not a list', '{"queueDatas":{}}', /TopicRouteData\.queueDatas: expected an array/],
    [
      'queue without brokerName',
      '{"queueDatas":[{"perm":6,"readQueueNums":1,"writeQueueNums":1}]}',
      /queueDatas\[0\]\.brokerName/,
    ],
    [
      'fractional queue count',
      '{"queueDatas":[{"brokerName":"b","perm":6,"readQueueNums":1.5,"writeQueueNums":1}]}',
      /readQueueNums: expected a 32-bit integer/,
    ],
    [
      'huge perm',
      '{"queueDatas":[{"brokerName":"b","perm":4294967296,"readQueueNums":1,"writeQueueNums":1}]}',
      /perm: expected a 32-bit integer/,
    ],
    [
      'non-numeric broker id',
      '{"brokerDatas":[{"brokerAddrs":{"master":"h:1"},"brokerName":"b","cluster":"c"}]}',
      /brokerAddrs: key "master" is not a broker id/,
    ],
    [
      'address not a string',
      '{"brokerDatas":[{"brokerAddrs":{0:10911},"brokerName":"b","cluster":"c"}]}',
      /brokerAddrs\["0"\]: expected a string/,
    ],
    ['orderTopicConf not a string', '{"orderTopicConf":5}', /orderTopicConf: expected a string/],
  ];
  for (const [name, body, message] of badBodies) {
    test(`bad body: ${name}`, () => {
      assert.throws(
        () => parseRoute(response(body)),
        (error: unknown) =>
          error instanceof RemotingError && error.code === 'RMQ_BAD_PAYLOAD' && message.test(error.message),
      );
    });
  }
});

describe('GET_BROKER_CLUSTER_INFO', () => {
  test('request has no header and no body', () => {
    assert.deepEqual(clusterInfoRequest(), { code: 106 });
  });

  test('parses brokers and clusters from the legacy body', () => {
    const info = parseClusterInfo(response(CLUSTER_INFO));
    assert.deepEqual(
      [...info.clusters],
      [
        ['DefaultCluster', ['broker-a']],
        ['OtherCluster', ['broker-b']],
      ],
    );
    assert.deepEqual([...info.brokers.keys()], ['broker-a', 'broker-b']);
    const a = info.brokers.get('broker-a')!;
    assert.equal(a.cluster, 'DefaultCluster');
    assert.equal(masterAddress(a), '127.0.0.1:10911');
    // A group whose master is down has only slave ids.
    assert.equal(masterAddress(info.brokers.get('broker-b')!), undefined);
    assert.equal(info.brokers.get('broker-b')!.brokerAddrs.get(1), '127.0.0.1:10931');
  });

  test('an empty cluster (no broker registered yet) parses as empty maps', () => {
    const info = parseClusterInfo(response('{"brokerAddrTable":{},"clusterAddrTable":{}}'));
    assert.equal(info.brokers.size, 0);
    assert.equal(info.clusters.size, 0);
  });

  test('bad bodies name the field', () => {
    const cases: [string, RegExp][] = [
      ['{"brokerAddrTable":[]}', /ClusterInfo\.brokerAddrTable: expected an object/],
      ['{"clusterAddrTable":{"C":"broker-a"}}', /clusterAddrTable\["C"\]: expected an array/],
      ['{"clusterAddrTable":{"C":[1]}}', /clusterAddrTable\["C"\]\[0\]: expected a string/],
      [
        '{"brokerAddrTable":{"b":{"brokerAddrs":{0:"h:1"},"brokerName":"b"}}}',
        /brokerAddrTable\["b"\]\.cluster/,
      ],
    ];
    for (const [body, message] of cases) {
      assert.throws(
        () => parseClusterInfo(response(body)),
        (error: unknown) =>
          error instanceof RemotingError && error.code === 'RMQ_BAD_PAYLOAD' && message.test(error.message),
        body,
      );
    }
  });

  test('a non-success code is a response error', () => {
    assert.throws(
      () => parseClusterInfo(response(undefined, ResponseCode.SYSTEM_BUSY, '[OVERLOAD]')),
      (error: unknown) => error instanceof RemotingResponseError && error.errorCode === 'RMQ_SYSTEM_BUSY',
    );
  });
});
