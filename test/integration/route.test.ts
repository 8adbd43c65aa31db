/**
 * Discovery and topic administration against the real NameServer + Broker: routes of every topic type,
 * the cluster map, and a topic's life cycle (create → route appears → update → delete → TOPIC_NOT_EXIST).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RequestCode } from '../../proxy/src/remoting/codes.ts';
import type { RemotingConnection } from '../../proxy/src/remoting/connection.ts';
import { RemotingResponseError } from '../../proxy/src/remoting/errors.ts';
import { Permission, parseTopicConfig, topicConfigRequest } from '../../proxy/src/remoting/requests/admin.ts';
import {
  clusterInfoRequest,
  MASTER_BROKER_ID,
  masterAddress,
  parseClusterInfo,
} from '../../proxy/src/remoting/requests/route.ts';
import { TOPIC_LAYOUT, TOPICS } from '../harness/env.ts';
import type { TopicKind } from '../harness/topology.ts';
import { connect, createTopic, rocketmq, route, uniqueName } from '../support/broker.ts';
import {
  deleteTopicInBrokerRequest,
  deleteTopicInNamesrvRequest,
  parseAdminAck,
} from '../support/remoting/admin-requests.ts';
import { eventually } from '../support/wait.ts';

const isTopicNotExist = (topic: string) => (error: unknown) =>
  error instanceof RemotingResponseError &&
  error.errorCode === 'RMQ_TOPIC_NOT_EXIST' &&
  (error.remark ?? '').includes(topic);

describe('routes and cluster info', () => {
  let namesrv: RemotingConnection;
  let broker: RemotingConnection;
  before(async () => {
    namesrv = await connect(rocketmq.namesrvAddr);
    broker = await connect(rocketmq.brokerAddr);
  });

  test('cluster info maps the cluster to its broker group and the master to 127.0.0.1:<listen port>', async () => {
    const info = parseClusterInfo(await namesrv.request(clusterInfoRequest()));
    assert.deepEqual([...info.clusters.keys()], [rocketmq.clusterName]);
    assert.deepEqual(info.clusters.get(rocketmq.clusterName), [rocketmq.brokerName]);
    const group = info.brokers.get(rocketmq.brokerName);
    assert.ok(group);
    assert.equal(group.cluster, rocketmq.clusterName);
    assert.equal(group.brokerName, rocketmq.brokerName);
    // A single master: id 0 only, on loopback (the harness sets brokerIP1).
    assert.deepEqual([...group.brokerAddrs.keys()], [MASTER_BROKER_ID]);
    assert.match(group.brokerAddrs.get(MASTER_BROKER_ID) ?? '', /^127\.0\.0\.1:\d+$/);
    assert.equal(masterAddress(group), rocketmq.brokerAddr);
  });

  for (const kind of Object.keys(TOPICS) as TopicKind[]) {
    test(`the ${kind} topic's route has its queues, read-write perm and the broker's loopback address`, async () => {
      const topicRoute = await route(namesrv, TOPICS[kind]);
      const layout = TOPIC_LAYOUT[kind];
      assert.equal(topicRoute.queueDatas.length, 1);
      const queues = topicRoute.queueDatas[0]!;
      assert.equal(queues.brokerName, rocketmq.brokerName);
      assert.equal(queues.readQueueNums, layout.readQueueNums);
      assert.equal(queues.writeQueueNums, layout.writeQueueNums);
      assert.equal(queues.perm, Permission.READ_WRITE);
      assert.equal(topicRoute.orderTopicConf, undefined);
      assert.equal(topicRoute.brokerDatas.length, 1);
      const brokerData = topicRoute.brokerDatas[0]!;
      assert.equal(brokerData.cluster, rocketmq.clusterName);
      assert.equal(brokerData.brokerName, rocketmq.brokerName);
      assert.equal(masterAddress(brokerData), rocketmq.brokerAddr);
      // The route and the broker's own config agree on the message type the topology asked for.
      const config = parseTopicConfig(await broker.request(topicConfigRequest(TOPICS[kind])));
      assert.equal(config?.messageType, layout.messageType);
    });
  }

  test('a missing topic is TOPIC_NOT_EXIST at the NameServer and absent at the broker', async () => {
    const topic = uniqueName('rmqp-it-missing');
    await assert.rejects(route(namesrv, topic), isTopicNotExist(topic));
    assert.equal(parseTopicConfig(await broker.request(topicConfigRequest(topic))), undefined);
  });
});

describe('topic life cycle through UPDATE_AND_CREATE_TOPIC and DELETE_TOPIC', () => {
  let namesrv: RemotingConnection;
  let broker: RemotingConnection;
  before(async () => {
    namesrv = await connect(rocketmq.namesrvAddr);
    broker = await connect(rocketmq.brokerAddr);
  });

  test('create a read-only topic, see its route, update it, delete it', { timeout: 60_000 }, async () => {
    const topic = uniqueName('rmqp-it-route');
    await assert.rejects(route(namesrv, topic), isTopicNotExist(topic));

    // Distinct read/write counts and a read-only perm prove each field travels on its own.
    await createTopic(broker, {
      topic,
      readQueueNums: 3,
      writeQueueNums: 5,
      perm: Permission.READ,
      messageType: 'FIFO',
    });
    const config = parseTopicConfig(await broker.request(topicConfigRequest(topic)));
    assert.ok(config);
    assert.deepEqual(
      {
        topicName: config.topicName,
        readQueueNums: config.readQueueNums,
        writeQueueNums: config.writeQueueNums,
        perm: config.perm,
        messageType: config.messageType,
      },
      { topicName: topic, readQueueNums: 3, writeQueueNums: 5, perm: Permission.READ, messageType: 'FIFO' },
    );
    assert.equal(config.attributes['message.type'], 'FIFO');

    // The broker registers the new topic with the NameServer right away (an incremental registration).
    const created = await eventually('the new route', { timeoutMs: 20_000 }, async () =>
      route(namesrv, topic),
    );
    assert.deepEqual(created.queueDatas, [
      {
        brokerName: rocketmq.brokerName,
        readQueueNums: 3,
        writeQueueNums: 5,
        perm: Permission.READ,
        topicSysFlag: 0,
      },
    ]);
    assert.equal(masterAddress(created.brokerDatas[0]!), rocketmq.brokerAddr);

    // UPDATE_AND_CREATE on an existing topic updates it, and the NameServer follows.
    await createTopic(broker, {
      topic,
      readQueueNums: 2,
      writeQueueNums: 2,
      perm: Permission.READ_WRITE,
      messageType: 'FIFO',
    });
    const updated = await eventually('the updated route', { timeoutMs: 20_000 }, async () => {
      const current = await route(namesrv, topic);
      const queues = current.queueDatas[0];
      return queues?.perm === Permission.READ_WRITE && queues.writeQueueNums === 2 ? current : undefined;
    });
    assert.equal(updated.queueDatas[0]?.readQueueNums, 2);

    parseAdminAck(
      await broker.request(deleteTopicInBrokerRequest(topic)),
      RequestCode.DELETE_TOPIC_IN_BROKER,
    );
    parseAdminAck(
      await namesrv.request(deleteTopicInNamesrvRequest(topic, rocketmq.clusterName)),
      RequestCode.DELETE_TOPIC_IN_NAMESRV,
    );
    await assert.rejects(route(namesrv, topic), isTopicNotExist(topic));
    assert.equal(parseTopicConfig(await broker.request(topicConfigRequest(topic))), undefined);
  });
});
