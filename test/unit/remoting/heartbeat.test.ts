import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RemotingCommand } from '../../../proxy/src/remoting/command.ts';
import {
  heartbeatRequest,
  parseHeartbeat,
  parseUnregisterClient,
  subscriptionData,
  unregisterClientRequest,
} from '../../../proxy/src/remoting/requests/heartbeat.ts';

function response(code: number, version = 479): RemotingCommand {
  return {
    code,
    language: 'JAVA',
    version,
    opaque: 1,
    flag: 1,
    extFields: { IS_SUPPORT_HEART_BEAT_V2: 'true' },
  };
}

// remoting.md §2.2: the HeartbeatData a Java push consumer + producer sends.
const JAVA_HEARTBEAT =
  '{"clientID":"10.0.0.7@12345#98127318731","consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY","groupName":"CG_A","messageModel":"CLUSTERING","subscriptionDataSet":[{"classFilterMode":false,"codeSet":[2598919],"expressionType":"TAG","subString":"TagA","subVersion":1700000000000,"tagsSet":["TagA"],"topic":"TopicTest"},{"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","subVersion":1700000000000,"tagsSet":[],"topic":"%RETRY%CG_A"}],"unitMode":false}],"heartbeatFingerprint":0,"producerDataSet":[{"groupName":"PG_A"},{"groupName":"CLIENT_INNER_PRODUCER"}],"withoutSub":false}';

describe('HEART_BEAT request (§2.2)', () => {
  test('the body matches what the Java client sends (withoutSub omitted: false by default)', () => {
    const request = heartbeatRequest(
      {
        clientId: '10.0.0.7@12345#98127318731',
        producerGroups: ['PG_A', 'CLIENT_INNER_PRODUCER'],
        consumers: [
          {
            group: 'CG_A',
            consumeType: 'CONSUME_PASSIVELY',
            subscriptions: [
              { topic: 'TopicTest', expression: 'TagA' },
              { topic: '%RETRY%CG_A', expression: '*' },
            ],
          },
        ],
      },
      1700000000000,
    );
    assert.equal(request.code, 34);
    assert.equal(request.extFields, undefined);
    const expected = JSON.parse(JAVA_HEARTBEAT);
    delete expected.withoutSub;
    assert.deepEqual(JSON.parse(request.body!.toString()), expected);
  });

  test('a client with nothing registered still sends empty sets', () => {
    const body = JSON.parse(heartbeatRequest({ clientId: 'c' }, 1).body!.toString());
    assert.deepEqual(body, {
      clientID: 'c',
      producerDataSet: [],
      consumerDataSet: [],
      heartbeatFingerprint: 0,
    });
  });

  test('consumer options: message model and pop consumption', () => {
    const body = JSON.parse(
      heartbeatRequest(
        {
          clientId: 'c',
          consumers: [
            { group: 'G', consumeType: 'CONSUME_POP', messageModel: 'BROADCASTING', subscriptions: [] },
          ],
        },
        1,
      ).body!.toString(),
    );
    assert.deepEqual(body.consumerDataSet, [
      {
        groupName: 'G',
        consumeType: 'CONSUME_POP',
        messageModel: 'BROADCASTING',
        consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
        subscriptionDataSet: [],
        unitMode: false,
      },
    ]);
  });
});

describe('SubscriptionData', () => {
  test('tags split on ||, trimmed, with Java hash codes (§9 vector 6)', () => {
    assert.deepEqual(subscriptionData({ topic: 'T', expression: ' TagA || 中文 ||  || TagB ' }, 7), {
      classFilterMode: false,
      topic: 'T',
      subString: 'TagA || 中文 ||  || TagB',
      tagsSet: ['TagA', '中文', 'TagB'],
      codeSet: [2598919, 646394, 2598920],
      subVersion: 7,
      expressionType: 'TAG',
    });
  });

  test('"*", empty and blank expressions subscribe to everything with no tags', () => {
    for (const expression of ['*', '', '   ', ' * ']) {
      const data = subscriptionData({ topic: 'T', expression }, 1);
      assert.equal(data.subString, '*', JSON.stringify(expression));
      assert.deepEqual(data.tagsSet, []);
      assert.deepEqual(data.codeSet, []);
    }
  });

  test('SQL92 expressions are passed through without tags', () => {
    const data = subscriptionData({ topic: 'T', expression: "a > 1 || b = 'x'", expressionType: 'SQL92' }, 1);
    assert.equal(data.subString, "a > 1 || b = 'x'");
    assert.equal(data.expressionType, 'SQL92');
    assert.deepEqual(data.tagsSet, []);
    assert.deepEqual(data.codeSet, []);
  });
});

describe('HEART_BEAT / UNREGISTER_CLIENT responses', () => {
  test('heartbeat reports the broker version from the response', () => {
    assert.deepEqual(parseHeartbeat(response(0, 453)), { brokerVersion: 453 });
    assert.throws(() => parseHeartbeat(response(2)), {
      name: 'RemotingResponseError',
      message: /request 34 failed with SYSTEM_BUSY/,
    });
  });

  test('UNREGISTER_CLIENT header (§3.3) and acknowledgement', () => {
    assert.deepEqual(unregisterClientRequest('cid', { producerGroup: 'PG' }), {
      code: 35,
      extFields: { clientID: 'cid', producerGroup: 'PG' },
    });
    assert.deepEqual(unregisterClientRequest('cid', { consumerGroup: 'CG', producerGroup: 'PG' }).extFields, {
      clientID: 'cid',
      producerGroup: 'PG',
      consumerGroup: 'CG',
    });
    parseUnregisterClient(response(0));
    assert.throws(() => parseUnregisterClient(response(1)), { responseCode: 1, message: /request 35/ });
  });
});
