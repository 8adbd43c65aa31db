import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RemotingCommand } from '../../../proxy/src/remoting/command.ts';
import { RemotingError, RemotingResponseError } from '../../../proxy/src/remoting/errors.ts';
import {
  parseQueryAssignment,
  queryAssignmentRequest,
  setMessageRequestModeRequest,
} from '../../support/remoting/assignment-requests.ts';

function response(code: number, body?: string): RemotingCommand {
  return {
    code,
    language: 'JAVA',
    version: 479,
    opaque: 1,
    flag: 1,
    body: body === undefined ? undefined : Buffer.from(body),
  };
}

function badPayload(body: string, message: RegExp): void {
  assert.throws(
    () => parseQueryAssignment(response(0, body)),
    (error: unknown) => {
      assert.ok(error instanceof RemotingError && !(error instanceof RemotingResponseError), String(error));
      assert.equal(error.code, 'RMQ_BAD_PAYLOAD');
      assert.match(error.message, message);
      return true;
    },
    body,
  );
}

describe('QUERY_ASSIGNMENT / SET_MESSAGE_REQUEST_MODE requests (§2.5)', () => {
  test('QueryAssignmentRequestBody with defaults', () => {
    const request = queryAssignmentRequest({ topic: 'T', consumerGroup: 'G', clientId: 'cid' });
    assert.equal(request.code, 400);
    assert.equal(request.extFields, undefined);
    assert.deepEqual(JSON.parse(request.body!.toString()), {
      topic: 'T',
      consumerGroup: 'G',
      clientId: 'cid',
      messageModel: 'CLUSTERING',
      strategyName: 'AVG',
    });
  });

  test('QueryAssignmentRequestBody with model and strategy', () => {
    const request = queryAssignmentRequest({
      topic: 'T',
      consumerGroup: 'G',
      clientId: 'cid',
      messageModel: 'BROADCASTING',
      strategyName: 'AVG_BY_CIRCLE',
    });
    const body = JSON.parse(request.body!.toString());
    assert.equal(body.messageModel, 'BROADCASTING');
    assert.equal(body.strategyName, 'AVG_BY_CIRCLE');
  });

  test('SetMessageRequestModeRequestBody', () => {
    const request = setMessageRequestModeRequest({ topic: 'T', consumerGroup: 'G', mode: 'POP' });
    assert.equal(request.code, 401);
    assert.deepEqual(JSON.parse(request.body!.toString()), {
      topic: 'T',
      consumerGroup: 'G',
      mode: 'POP',
      popShareQueueNum: 0,
    });
    const shared = setMessageRequestModeRequest({
      topic: 'T',
      consumerGroup: 'G',
      mode: 'PULL',
      popShareQueueNum: 2,
    });
    assert.equal(JSON.parse(shared.body!.toString()).popShareQueueNum, 2);
  });
});

describe('QueryAssignmentResponseBody', () => {
  test('the §2.5 POP example: every broker with queueId -1', () => {
    const body =
      '{"messageQueueAssignments":[{"messageQueue":{"brokerName":"b","queueId":-1,"topic":"T"},"mode":"POP"}]}';
    assert.deepEqual(parseQueryAssignment(response(0, body)), [
      { topic: 'T', brokerName: 'b', queueId: -1, mode: 'POP' },
    ]);
  });

  test('PULL assignments, attachments ignored, absent queueId means -1, numeric strings accepted', () => {
    const body =
      '{"attachments":{"k":"v"},"messageQueueAssignments":[{"messageQueue":{"brokerName":"b","queueId":2,"topic":"T"},"mode":"PULL"},{"messageQueue":{"brokerName":"c","topic":"T"}},{"messageQueue":{"brokerName":"d","queueId":"5","topic":"T"},"mode":"OTHER"}]}';
    assert.deepEqual(parseQueryAssignment(response(0, body)), [
      { topic: 'T', brokerName: 'b', queueId: 2, mode: 'PULL' },
      { topic: 'T', brokerName: 'c', queueId: -1, mode: 'PULL' },
      { topic: 'T', brokerName: 'd', queueId: 5, mode: 'PULL' },
    ]);
  });

  test('fastjson-dialect bodies parse too', () => {
    const body =
      "{messageQueueAssignments:[{'messageQueue':{'brokerName':'b','queueId':0,'topic':'T'},'mode':'POP'}]}";
    assert.deepEqual(parseQueryAssignment(response(0, body)), [
      { topic: 'T', brokerName: 'b', queueId: 0, mode: 'POP' },
    ]);
  });

  test('no body, an empty body, or no assignment set: no assignments', () => {
    assert.deepEqual(parseQueryAssignment(response(0)), []);
    assert.deepEqual(parseQueryAssignment(response(0, '')), []);
    assert.deepEqual(parseQueryAssignment(response(0, '{}')), []);
    assert.deepEqual(parseQueryAssignment(response(0, '{"messageQueueAssignments":[]}')), []);
  });

  test('error codes throw the broker error', () => {
    assert.throws(() => parseQueryAssignment(response(1, 'x')), {
      name: 'RemotingResponseError',
      message: /request 400 failed with SYSTEM_ERROR/,
    });
  });

  test('malformed bodies raise RMQ_BAD_PAYLOAD, never a TypeError', () => {
    badPayload('{"messageQueueAssignments":', /fastjson: unexpected end of input/);
    badPayload('null', /QueryAssignment body: expected an object/);
    badPayload('[]', /QueryAssignment body: expected an object/);
    badPayload('{"messageQueueAssignments":{}}', /messageQueueAssignments: expected an array/);
    badPayload('{"messageQueueAssignments":[null]}', /QueryAssignment entry 0: expected an object/);
    badPayload(
      '{"messageQueueAssignments":[{"mode":"POP"}]}',
      /entry 0\.messageQueue: expected an object, got nothing/,
    );
    badPayload(
      '{"messageQueueAssignments":[{"messageQueue":{"brokerName":"b"}}]}',
      /entry 0\.messageQueue\.topic: expected a string/,
    );
    badPayload(
      '{"messageQueueAssignments":[{"messageQueue":{"topic":"T","brokerName":1}}]}',
      /messageQueue\.brokerName: expected a string/,
    );
    badPayload(
      '{"messageQueueAssignments":[{"messageQueue":{"topic":"T","brokerName":"b","queueId":"x"}}]}',
      /messageQueue\.queueId: expected a number/,
    );
  });
});
