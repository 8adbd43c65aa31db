import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RequestCode } from '../../../proxy/src/remoting/codes.ts';
import type { RemotingCommand } from '../../../proxy/src/remoting/command.ts';
import { RemotingError, RemotingResponseError } from '../../../proxy/src/remoting/errors.ts';
import {
  groupConfigRequest,
  Permission,
  parseGroupConfig,
  parseTopicConfig,
  topicConfigRequest,
} from '../../../proxy/src/remoting/requests/admin.ts';
import {
  createGroupRequest,
  createTopicRequest,
  deleteGroupRequest,
  deleteTopicInBrokerRequest,
  deleteTopicInNamesrvRequest,
  parseAdminAck,
} from '../../support/remoting/admin-requests.ts';

function response(code: number, body?: string, remark?: string): RemotingCommand {
  return {
    code,
    language: 'JAVA',
    version: 479,
    opaque: 1,
    flag: 1,
    remark,
    body: body === undefined ? undefined : Buffer.from(body),
  };
}

function badPayload(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof RemotingError && !(error instanceof RemotingResponseError), String(error));
    assert.equal(error.code, 'RMQ_BAD_PAYLOAD');
    assert.match(error.message, message);
    return true;
  });
}

// remoting.md §2.5: TopicConfig as GET_TOPIC_CONFIG returns it.
const TOPIC_CONFIG =
  '{"attributes":{},"order":false,"perm":6,"readQueueNums":8,"topicFilterType":"SINGLE_TAG","topicName":"T","topicSysFlag":0,"writeQueueNums":8}';

describe('topic administration requests (§3.3)', () => {
  test('UPDATE_AND_CREATE_TOPIC with defaults', () => {
    assert.deepEqual(createTopicRequest({ topic: 'T' }), {
      code: RequestCode.UPDATE_AND_CREATE_TOPIC,
      extFields: {
        topic: 'T',
        defaultTopic: 'TBW102',
        readQueueNums: '4',
        writeQueueNums: '4',
        perm: '6',
        topicFilterType: 'SINGLE_TAG',
        topicSysFlag: '0',
        order: 'false',
      },
    });
  });

  test('UPDATE_AND_CREATE_TOPIC with queue counts, permission and message type attribute', () => {
    const request = createTopicRequest({
      topic: 'F',
      readQueueNums: 2,
      writeQueueNums: 1,
      perm: Permission.READ,
      messageType: 'FIFO',
    });
    assert.equal(request.code, 17);
    assert.equal(request.body, undefined);
    assert.deepEqual(request.extFields, {
      topic: 'F',
      defaultTopic: 'TBW102',
      readQueueNums: '2',
      writeQueueNums: '1',
      perm: '4',
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: '0',
      order: 'false',
      attributes: '+message.type=FIFO',
    });
  });

  test('DELETE_TOPIC_IN_BROKER, DELETE_TOPIC_IN_NAMESRV, GET_TOPIC_CONFIG', () => {
    assert.deepEqual(deleteTopicInBrokerRequest('T'), { code: 215, extFields: { topic: 'T' } });
    assert.deepEqual(deleteTopicInNamesrvRequest('T'), { code: 216, extFields: { topic: 'T' } });
    assert.deepEqual(deleteTopicInNamesrvRequest('T', 'DefaultCluster'), {
      code: 216,
      extFields: { topic: 'T', clusterName: 'DefaultCluster' },
    });
    assert.deepEqual(topicConfigRequest('T'), { code: 351, extFields: { topic: 'T' } });
  });

  test('Permission bits', () => {
    assert.deepEqual(Permission, { READ: 4, WRITE: 2, INHERIT: 1, READ_WRITE: 6 });
  });
});

describe('GET_TOPIC_CONFIG response', () => {
  test('the §2.5 body', () => {
    assert.deepEqual(parseTopicConfig(response(0, TOPIC_CONFIG)), {
      topicName: 'T',
      readQueueNums: 8,
      writeQueueNums: 8,
      perm: 6,
      order: false,
      attributes: {},
      messageType: 'UNSPECIFIED',
    });
  });

  test('attributes give the message type; order and static-topic extras', () => {
    const body =
      '{"attributes":{"message.type":"FIFO","queue.type":"SimpleCQ"},"order":true,"perm":7,"readQueueNums":1,"topicName":"F","writeQueueNums":1,"mappingDetail":{"bname":"b"}}';
    const config = parseTopicConfig(response(0, body))!;
    assert.equal(config.messageType, 'FIFO');
    assert.deepEqual(config.attributes, { 'message.type': 'FIFO', 'queue.type': 'SimpleCQ' });
    assert.equal(config.order, true);
    assert.equal(config.perm, 7);
  });

  test('a {"topicConfig":{…}} wrapper, numeric strings and absent fields are tolerated', () => {
    const config = parseTopicConfig(
      response(0, '{"topicConfig":{"topicName":"W","readQueueNums":"3","perm":6}}'),
    )!;
    assert.equal(config.topicName, 'W');
    assert.equal(config.readQueueNums, 3);
    assert.equal(config.writeQueueNums, 0);
    assert.deepEqual(config.attributes, {});
  });

  test('TOPIC_NOT_EXIST means no config; other codes throw the broker error', () => {
    assert.equal(parseTopicConfig(response(17)), undefined);
    assert.throws(() => parseTopicConfig(response(1, undefined, 'boom')), {
      name: 'RemotingResponseError',
      responseCode: 1,
      message: /request 351 failed with SYSTEM_ERROR \(1\): boom/,
    });
  });

  test('malformed bodies raise RMQ_BAD_PAYLOAD', () => {
    badPayload(() => parseTopicConfig(response(0)), /TopicConfig response has no body/);
    badPayload(() => parseTopicConfig(response(0, '[1]')), /TopicConfig body: expected an object/);
    badPayload(() => parseTopicConfig(response(0, '{"topicName":')), /fastjson: unexpected end of input/);
    badPayload(
      () => parseTopicConfig(response(0, '{"topicName":"T","perm":"rw"}')),
      /TopicConfig\.perm: expected a number/,
    );
    badPayload(
      () => parseTopicConfig(response(0, '{"topicName":5}')),
      /TopicConfig\.topicName: expected a string/,
    );
    badPayload(
      () => parseTopicConfig(response(0, '{"attributes":[]}')),
      /TopicConfig\.attributes: expected an object/,
    );
  });
});

describe('subscription group administration', () => {
  test('UPDATE_AND_CREATE_SUBSCRIPTIONGROUP: no header, SubscriptionGroupConfig body', () => {
    const request = createGroupRequest({ groupName: 'G', consumeMessageOrderly: true, retryMaxTimes: 3 });
    assert.equal(request.code, 200);
    assert.equal(request.extFields, undefined);
    assert.deepEqual(JSON.parse(request.body!.toString()), {
      groupName: 'G',
      consumeEnable: true,
      consumeFromMinEnable: true,
      consumeBroadcastEnable: true,
      consumeMessageOrderly: true,
      retryQueueNums: 1,
      retryMaxTimes: 3,
      brokerId: 0,
      whichBrokerWhenConsumeSlowly: 1,
      notifyConsumerIdsChangedEnable: true,
    });
    const defaults = JSON.parse(
      createGroupRequest({ groupName: 'H', consumeBroadcastEnable: false }).body!.toString(),
    );
    assert.equal(defaults.retryMaxTimes, 16);
    assert.equal(defaults.consumeMessageOrderly, false);
    assert.equal(defaults.consumeBroadcastEnable, false);
  });

  test('DELETE_SUBSCRIPTIONGROUP and GET_SUBSCRIPTIONGROUP_CONFIG headers', () => {
    assert.deepEqual(deleteGroupRequest('G'), {
      code: 207,
      extFields: { groupName: 'G', cleanOffset: 'true' },
    });
    assert.deepEqual(deleteGroupRequest('G', false), {
      code: 207,
      extFields: { groupName: 'G', cleanOffset: 'false' },
    });
    assert.deepEqual(groupConfigRequest('G'), { code: 352, extFields: { group: 'G' } });
  });

  test('group config body, retry policy passed on as a plain object', () => {
    const body =
      '{"brokerId":0,"consumeBroadcastEnable":true,"consumeMessageOrderly":true,"groupName":"G","groupRetryPolicy":{"type":"EXPONENTIAL","exponentialRetryPolicy":{"initial":1000,"max":7200000,"multiplier":2}},"retryMaxTimes":5}';
    assert.deepEqual(parseGroupConfig(response(0, body)), {
      groupName: 'G',
      consumeMessageOrderly: true,
      retryMaxTimes: 5,
      consumeBroadcastEnable: true,
      groupRetryPolicy: {
        type: 'EXPONENTIAL',
        exponentialRetryPolicy: { initial: 1000, max: 7200000, multiplier: 2 },
      },
    });
    assert.deepEqual(parseGroupConfig(response(0, '{"groupName":"G"}')), {
      groupName: 'G',
      consumeMessageOrderly: false,
      retryMaxTimes: 16,
      consumeBroadcastEnable: false,
      groupRetryPolicy: undefined,
    });
  });

  test('SUBSCRIPTION_GROUP_NOT_EXIST means no config; bad bodies and other codes throw', () => {
    assert.equal(parseGroupConfig(response(26)), undefined);
    assert.throws(() => parseGroupConfig(response(16)), {
      name: 'RemotingResponseError',
      errorCode: 'RMQ_NO_PERMISSION',
    });
    badPayload(
      () => parseGroupConfig(response(0, 'null')),
      /SubscriptionGroupConfig body: expected an object/,
    );
    badPayload(
      () => parseGroupConfig(response(0, '{"retryMaxTimes":true}')),
      /SubscriptionGroupConfig\.retryMaxTimes/,
    );
  });

  test('parseAdminAck: success passes, anything else throws with the request code', () => {
    parseAdminAck(response(0), 17);
    assert.throws(() => parseAdminAck(response(29, undefined, 'bad topic name'), 17), {
      errorCode: 'RMQ_INVALID_PARAMETER',
      message: /request 17 failed with INVALID_PARAMETER \(29\): bad topic name/,
    });
  });
});
