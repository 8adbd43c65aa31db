import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ProxyError } from '../../../proxy/src/core/errors.ts';
import { v2 } from '../../../proxy/src/grpc/protocol.ts';
import {
  Code,
  codeForResponseCode,
  codeName,
  OK_STATUS,
  status,
  statusFromError,
} from '../../../proxy/src/grpc/status.ts';
import { RemotingError, RemotingResponseError } from '../../../proxy/src/remoting/errors.ts';

describe('Status values', () => {
  test('Code numbers match the proto (proxy-grpc.md §5.2)', () => {
    assert.equal(Code.OK, 20000);
    assert.equal(Code.CLIENT_ID_REQUIRED, 40017);
    assert.equal(Code.TOPIC_NOT_FOUND, 40402);
    assert.equal(Code.TOO_MANY_REQUESTS, 42900);
    assert.equal(Code.INTERNAL_SERVER_ERROR, 50001);
    assert.equal(Code.PROXY_TIMEOUT, 50400);
  });

  test('a status without message carries the code name; success says "OK"', () => {
    assert.deepEqual(status(Code.BAD_REQUEST), { code: 40000, message: 'BAD_REQUEST' });
    assert.deepEqual(status(Code.ILLEGAL_TOPIC, 'topic is blank'), {
      code: 40002,
      message: 'topic is blank',
    });
    assert.deepEqual(OK_STATUS, { code: 20000, message: 'OK' });
    assert.equal(codeName(99999), 'CODE_99999');
  });

  test('a status encodes into the wire message', () => {
    const bytes = v2.Status.encode(status(Code.MESSAGE_BODY_TOO_LARGE, 'body too large')).finish();
    const decoded = v2.Status.decode(bytes);
    assert.equal(decoded.code, 41301);
    assert.equal(decoded.message, 'body too large');
  });
});

describe('Remoting response code → Code (§6.2)', () => {
  const table: [number, number][] = [
    [0, Code.OK],
    [2, Code.TOO_MANY_REQUESTS],
    [3, Code.NOT_IMPLEMENTED],
    [17, Code.TOPIC_NOT_FOUND],
    [26, Code.CONSUMER_GROUP_NOT_FOUND],
    [10002, Code.PROXY_TIMEOUT],
    [1, Code.INTERNAL_SERVER_ERROR],
    [16, Code.INTERNAL_SERVER_ERROR], // NO_PERMISSION is not mapped by the Java proxy
    [215, Code.INTERNAL_SERVER_ERROR],
  ];
  for (const [responseCode, expected] of table) {
    test(`${responseCode} → ${codeName(expected)}`, () =>
      assert.equal(codeForResponseCode(responseCode), expected));
  }
});

describe('statusFromError', () => {
  test("the core's errors keep their reason (as its Code) and message", () => {
    assert.deepEqual(statusFromError(new ProxyError('IllegalMessageTag', 'tag has |')), {
      code: Code.ILLEGAL_MESSAGE_TAG,
      message: 'tag has |',
    });
  });

  test('broker responses map by response code with the remark as message', () => {
    assert.deepEqual(statusFromError(new RemotingResponseError(2, '[TIMEOUT_CLEAN_QUEUE]broker busy', 310)), {
      code: Code.TOO_MANY_REQUESTS,
      message: '[TIMEOUT_CLEAN_QUEUE]broker busy',
    });
    assert.deepEqual(statusFromError(new RemotingResponseError(26, undefined)), {
      code: Code.CONSUMER_GROUP_NOT_FOUND,
      message: '26',
    });
    assert.equal(statusFromError(new RemotingResponseError(1, 'boom')).code, Code.INTERNAL_SERVER_ERROR);
  });

  test('"topic not exist" is found directly and one level down the cause chain', () => {
    const direct = new RemotingResponseError(17, 'No topic route info in name server for the topic: T');
    assert.deepEqual(statusFromError(direct), {
      code: Code.TOPIC_NOT_FOUND,
      message: 'No topic route info in name server for the topic: T',
    });
    const wrapped = new Error('route lookup failed', { cause: direct });
    assert.equal(statusFromError(wrapped).code, Code.TOPIC_NOT_FOUND);
    const deeper = new Error('outer', { cause: new Error('middle', { cause: direct }) });
    assert.equal(statusFromError(deeper).code, Code.INTERNAL_SERVER_ERROR, 'only one level, like Java');
  });

  test('transport failures: timeout → PROXY_TIMEOUT, in-flight cap → TOO_MANY_REQUESTS, others → INTERNAL_SERVER_ERROR', () => {
    assert.equal(
      statusFromError(new RemotingError('RMQ_TIMEOUT', 'no response in 3000 ms')).code,
      Code.PROXY_TIMEOUT,
    );
    assert.equal(
      statusFromError(new RemotingError('RMQ_TOO_MANY_IN_FLIGHT', 'full')).code,
      Code.TOO_MANY_REQUESTS,
    );
    for (const code of [
      'RMQ_CONNECTION_CLOSED',
      'RMQ_CONNECT_FAILED',
      'RMQ_BAD_FRAME',
      'RMQ_BAD_PAYLOAD',
    ] as const) {
      const result = statusFromError(new RemotingError(code, `failure ${code}`));
      assert.deepEqual(result, { code: Code.INTERNAL_SERVER_ERROR, message: `failure ${code}` });
    }
  });

  test('anything else is INTERNAL_SERVER_ERROR with the error text', () => {
    assert.deepEqual(statusFromError(new TypeError('x is undefined')), {
      code: Code.INTERNAL_SERVER_ERROR,
      message: 'x is undefined',
    });
    assert.deepEqual(statusFromError('plain string'), {
      code: Code.INTERNAL_SERVER_ERROR,
      message: 'plain string',
    });
  });
});
