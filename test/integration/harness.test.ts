/**
 * Smoke test of the harness against the real NameServer + Broker: discovery through our Remoting client
 * sees the broker and every topic the topology created, with the right layout and message type.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RemotingResponseError } from '../../proxy/src/remoting/errors.ts';
import {
  groupConfigRequest,
  Permission,
  parseGroupConfig,
  parseTopicConfig,
  topicConfigRequest,
} from '../../proxy/src/remoting/requests/admin.ts';
import {
  clusterInfoRequest,
  masterAddress,
  parseClusterInfo,
  parseRoute,
  routeRequest,
} from '../../proxy/src/remoting/requests/route.ts';
import { GROUPS, peers, TOPIC_LAYOUT, TOPICS } from '../harness/env.ts';
import { call } from '../harness/remoting.ts';
import type { TopicKind } from '../harness/topology.ts';

const rocketmq = peers();
const kinds = Object.keys(TOPICS) as TopicKind[];

describe('RocketMQ harness', () => {
  test('the broker listens on loopback and is registered under its cluster', async () => {
    assert.match(rocketmq.brokerAddr, /^127\.0\.0\.1:\d+$/);
    const info = await call(rocketmq.namesrvAddr, clusterInfoRequest(), parseClusterInfo);
    assert.deepEqual(info.clusters.get(rocketmq.clusterName), [rocketmq.brokerName]);
    const broker = info.brokers.get(rocketmq.brokerName);
    assert.ok(broker, `cluster info lacks ${rocketmq.brokerName}`);
    assert.equal(broker.cluster, rocketmq.clusterName);
    assert.equal(masterAddress(broker), rocketmq.brokerAddr);
  });

  for (const kind of kinds) {
    test(`route of the ${kind} topic points at the broker with its queue layout`, async () => {
      const route = await call(rocketmq.namesrvAddr, routeRequest(TOPICS[kind]), parseRoute);
      const layout = TOPIC_LAYOUT[kind];
      assert.deepEqual(route.queueDatas, [
        {
          brokerName: rocketmq.brokerName,
          readQueueNums: layout.readQueueNums,
          writeQueueNums: layout.writeQueueNums,
          perm: Permission.READ_WRITE,
          topicSysFlag: 0,
        },
      ]);
      assert.equal(route.brokerDatas.length, 1);
      assert.equal(masterAddress(route.brokerDatas[0]!), rocketmq.brokerAddr);
    });

    test(`the ${kind} topic carries message.type=${TOPIC_LAYOUT[kind].messageType}`, async () => {
      const config = await call(rocketmq.brokerAddr, topicConfigRequest(TOPICS[kind]), parseTopicConfig);
      assert.ok(config, `broker has no config for ${TOPICS[kind]}`);
      assert.equal(config.topicName, TOPICS[kind]);
      assert.equal(config.messageType, TOPIC_LAYOUT[kind].messageType);
    });
  }

  test('the FIFO group is orderly and the others are not', async () => {
    const fifo = await call(rocketmq.brokerAddr, groupConfigRequest(GROUPS.fifo), parseGroupConfig);
    const normal = await call(rocketmq.brokerAddr, groupConfigRequest(GROUPS.normal), parseGroupConfig);
    const dlq = await call(rocketmq.brokerAddr, groupConfigRequest(GROUPS.dlq), parseGroupConfig);
    assert.equal(fifo?.consumeMessageOrderly, true);
    assert.equal(normal?.consumeMessageOrderly, false);
    assert.equal(dlq?.retryMaxTimes, 1);
  });

  test('a route for a missing topic is RMQ_TOPIC_NOT_EXIST', async () => {
    const topic = `rmqp-missing-${process.pid}-${Date.now()}`;
    await assert.rejects(
      call(rocketmq.namesrvAddr, routeRequest(topic), parseRoute),
      (error: unknown) =>
        error instanceof RemotingResponseError &&
        error.errorCode === 'RMQ_TOPIC_NOT_EXIST' &&
        error.responseCode === 17 &&
        (error.remark ?? '').includes(topic),
    );
  });
});
