/**
 * Broker-side load balancing against the real broker: QUERY_ASSIGNMENT splits a topic's queues among
 * the group's registered clients (PULL mode, AVG strategy), and after SET_MESSAGE_REQUEST_MODE POP every
 * client gets the whole broker as queue −1.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { RequestCode } from '../../proxy/src/remoting/codes.ts';
import type { RemotingConnection } from '../../proxy/src/remoting/connection.ts';
import { heartbeatRequest, parseHeartbeat } from '../../proxy/src/remoting/requests/heartbeat.ts';
import { expectSuccess } from '../../proxy/src/remoting/response.ts';
import { connect, createGroup, createTopic, rocketmq, uniqueName } from '../support/broker.ts';
import {
  parseQueryAssignment,
  type QueueAssignment,
  queryAssignmentRequest,
  setMessageRequestModeRequest,
} from '../support/remoting/assignment-requests.ts';

describe('QUERY_ASSIGNMENT', () => {
  let first: RemotingConnection;
  let second: RemotingConnection;
  before(async () => {
    first = await connect(rocketmq.brokerAddr);
    second = await connect(rocketmq.brokerAddr);
  });

  test('PULL mode splits the queues among the clients; POP mode hands each client queue -1', async () => {
    const topic = uniqueName('rmqp-it-assign');
    const group = uniqueName('rmqp-it-assign-group');
    await createTopic(first, { topic, readQueueNums: 4, writeQueueNums: 4, messageType: 'NORMAL' });
    await createGroup(first, { groupName: group });
    const clients = [uniqueName('127.0.0.1@x'), uniqueName('127.0.0.1@y')];
    for (const [i, connection] of [first, second].entries()) {
      parseHeartbeat(
        await connection.request(
          heartbeatRequest({
            clientId: clients[i]!,
            consumers: [
              { group, consumeType: 'CONSUME_PASSIVELY', subscriptions: [{ topic, expression: '*' }] },
            ],
          }),
        ),
      );
    }
    const assignmentOf = async (clientId: string): Promise<QueueAssignment[]> =>
      parseQueryAssignment(
        await first.request(queryAssignmentRequest({ topic, consumerGroup: group, clientId })),
      );

    const pullAssignments = await Promise.all(clients.map(assignmentOf));
    for (const assignments of pullAssignments) {
      assert.equal(assignments.length, 2, 'AVG gives each of two clients half of four queues');
      for (const assignment of assignments) {
        assert.equal(assignment.topic, topic);
        assert.equal(assignment.brokerName, rocketmq.brokerName);
        assert.equal(assignment.mode, 'PULL');
      }
    }
    const queueIds = pullAssignments.flat().map((assignment) => assignment.queueId);
    assert.deepEqual(queueIds.sort(), [0, 1, 2, 3], 'every queue exactly once across the clients');

    expectSuccess(
      await first.request(setMessageRequestModeRequest({ topic, consumerGroup: group, mode: 'POP' })),
      RequestCode.SET_MESSAGE_REQUEST_MODE,
    );
    for (const clientId of clients) {
      assert.deepEqual(await assignmentOf(clientId), [
        { topic, brokerName: rocketmq.brokerName, queueId: -1, mode: 'POP' },
      ]);
    }
  });
});
