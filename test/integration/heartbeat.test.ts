/**
 * Client registration against the real broker: HEART_BEAT with consumer and producer data registers the
 * client per connection (visible through GET_CONSUMER_LIST_BY_GROUP and GET_CONSUMER_CONNECTION_LIST,
 * including the subscription exactly as the broker parsed it), and UNREGISTER_CLIENT removes it.
 * Producer registration is proven end to end by transaction.test.ts (checks reach the heartbeat connection).
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RequestCode, ResponseCode } from '../../proxy/src/remoting/codes.ts';
import type { RemotingConnection } from '../../proxy/src/remoting/connection.ts';
import {
  expectArray,
  expectObject,
  expectString,
  type JsonObject,
  parseFastjson,
} from '../../proxy/src/remoting/fastjson.ts';
import { javaStringHashCode } from '../../proxy/src/remoting/message/java-hash.ts';
import {
  type ConsumerRegistration,
  heartbeatRequest,
  parseHeartbeat,
  parseUnregisterClient,
  unregisterClientRequest,
} from '../../proxy/src/remoting/requests/heartbeat.ts';
import { expectSuccess } from '../../proxy/src/remoting/response.ts';
import { ROCKETMQ_VERSION_CODE } from '../harness/versions.ts';
import { connect, createGroup, createTopic, rocketmq, uniqueName } from '../support/broker.ts';

/**
 * GET_CONSUMER_LIST_BY_GROUP has no builder in the proxy (it balances on the broker); built inline.
 * A group without online consumers is answered SYSTEM_ERROR "no consumer for this group", not an empty list.
 */
async function consumerIds(broker: RemotingConnection, group: string): Promise<string[]> {
  const raw = await broker.request({
    code: RequestCode.GET_CONSUMER_LIST_BY_GROUP,
    extFields: { consumerGroup: group },
  });
  if (raw.code === ResponseCode.SYSTEM_ERROR && (raw.remark ?? '').startsWith('no consumer for this group')) {
    return [];
  }
  const response = expectSuccess(raw);
  const body = expectObject(parseFastjson(response.body ?? Buffer.alloc(0)), 'consumer list');
  return expectArray(body.get('consumerIdList') ?? [], 'consumerIdList')
    .map((id) => expectString(id, 'consumer id'))
    .sort();
}

/** GET_CONSUMER_CONNECTION_LIST (203): the group's connections and subscriptions; undefined when none. */
async function consumerConnection(
  broker: RemotingConnection,
  group: string,
): Promise<JsonObject | undefined> {
  const response = await broker.request({
    code: RequestCode.GET_CONSUMER_CONNECTION_LIST,
    extFields: { consumerGroup: group },
  });
  if (response.code === ResponseCode.CONSUMER_NOT_ONLINE) return undefined;
  expectSuccess(response);
  return expectObject(parseFastjson(response.body ?? Buffer.alloc(0)), 'ConsumerConnection');
}

describe('HEART_BEAT and UNREGISTER_CLIENT', () => {
  let first: RemotingConnection;
  let second: RemotingConnection;
  before(async () => {
    first = await connect(rocketmq.brokerAddr);
    second = await connect(rocketmq.brokerAddr);
  });

  test('consumers register per client id with their subscription; unregistering removes exactly one', async () => {
    const topic = uniqueName('rmqp-it-hb');
    const group = uniqueName('rmqp-it-hb-group');
    await createTopic(first, { topic, readQueueNums: 2, writeQueueNums: 2, messageType: 'NORMAL' });
    await createGroup(first, { groupName: group });
    const consumer: ConsumerRegistration = {
      group,
      consumeType: 'CONSUME_PASSIVELY',
      subscriptions: [{ topic, expression: 'TagA || TagB' }],
    };
    const producerGroup = uniqueName('rmqp-it-hb-producer');
    const clientA = uniqueName('127.0.0.1@a');
    const clientB = uniqueName('127.0.0.1@b');

    assert.deepEqual(await consumerIds(first, group), []);
    const answer = parseHeartbeat(
      await first.request(
        heartbeatRequest({ clientId: clientA, producerGroups: [producerGroup], consumers: [consumer] }),
      ),
    );
    // The broker answers with its own version code: 5.4.0.
    assert.equal(answer.brokerVersion, ROCKETMQ_VERSION_CODE);
    parseHeartbeat(await second.request(heartbeatRequest({ clientId: clientB, consumers: [consumer] })));
    assert.deepEqual(await consumerIds(first, group), [clientA, clientB].sort());

    // The broker parsed the subscription as a Java client's: tags split, Java hash codes.
    const connection = await consumerConnection(first, group);
    assert.ok(connection);
    assert.equal(connection.get('consumeType'), 'CONSUME_PASSIVELY');
    assert.equal(connection.get('messageModel'), 'CLUSTERING');
    const subscription = expectObject(
      expectObject(connection.get('subscriptionTable'), 'subscriptionTable').get(topic),
      'subscription',
    );
    assert.equal(subscription.get('subString'), 'TagA || TagB');
    assert.equal(subscription.get('expressionType'), 'TAG');
    assert.deepEqual(expectArray(subscription.get('tagsSet'), 'tagsSet'), ['TagA', 'TagB']);
    assert.deepEqual(
      expectArray(subscription.get('codeSet'), 'codeSet'),
      ['TagA', 'TagB'].map(javaStringHashCode),
    );
    const clients = expectArray(connection.get('connectionSet'), 'connectionSet').map((entry) => {
      const object = expectObject(entry, 'connection');
      return { clientId: object.get('clientId'), addr: String(object.get('clientAddr')) };
    });
    assert.deepEqual(clients.map((c) => c.clientId).sort(), [clientA, clientB].sort());
    for (const client of clients) assert.match(client.addr, /^127\.0\.0\.1:\d+$/);

    parseUnregisterClient(
      await first.request(unregisterClientRequest(clientA, { consumerGroup: group, producerGroup })),
    );
    assert.deepEqual(await consumerIds(first, group), [clientB]);
    parseUnregisterClient(await second.request(unregisterClientRequest(clientB, { consumerGroup: group })));
    assert.deepEqual(await consumerIds(first, group), []);
    assert.equal(await consumerConnection(first, group), undefined);
  });

  test('a heartbeat carrying only producer data succeeds and registers no consumer', async () => {
    const producerGroup = uniqueName('rmqp-it-hb-producer');
    parseHeartbeat(
      await first.request(
        heartbeatRequest({ clientId: uniqueName('127.0.0.1@p'), producerGroups: [producerGroup] }),
      ),
    );
    // A producer group is not a consumer group: nothing is listed under its name.
    assert.deepEqual(await consumerIds(first, producerGroup), []);
  });
});
