import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { RequestCode } from '../../../proxy/src/remoting/codes.ts';
import type { RemotingCommand } from '../../../proxy/src/remoting/command.ts';
import {
  maxOffsetRequest,
  minOffsetRequest,
  parseOffset,
  parseQueryConsumerOffset,
  parseUpdateConsumerOffset,
  queryConsumerOffsetRequest,
  searchOffsetRequest,
  updateConsumerOffsetRequest,
} from '../../../proxy/src/remoting/requests/offsets.ts';

function response(code: number, extFields?: Record<string, string>): RemotingCommand {
  return { code, language: 'JAVA', version: 479, opaque: 1, flag: 1, extFields };
}

const queue = { topic: 'T', queueId: 3, brokerName: 'broker-a' };

describe('offset requests (§3.3 field names)', () => {
  test('QUERY_CONSUMER_OFFSET', () => {
    assert.deepEqual(queryConsumerOffsetRequest(queue, 'G'), {
      code: RequestCode.QUERY_CONSUMER_OFFSET,
      extFields: {
        consumerGroup: 'G',
        topic: 'T',
        queueId: '3',
        setZeroIfNotFound: 'false',
        bname: 'broker-a',
      },
    });
    assert.deepEqual(queryConsumerOffsetRequest({ topic: 'T', queueId: 0 }, 'G').extFields, {
      consumerGroup: 'G',
      topic: 'T',
      queueId: '0',
      setZeroIfNotFound: 'false',
    });
  });

  test('UPDATE_CONSUMER_OFFSET', () => {
    assert.deepEqual(updateConsumerOffsetRequest(queue, 'G', 2 ** 40), {
      code: 15,
      extFields: {
        consumerGroup: 'G',
        topic: 'T',
        queueId: '3',
        commitOffset: '1099511627776',
        bname: 'broker-a',
      },
    });
  });

  test('GET_MAX_OFFSET and GET_MIN_OFFSET', () => {
    assert.deepEqual(maxOffsetRequest(queue), {
      code: 30,
      extFields: { topic: 'T', queueId: '3', bname: 'broker-a' },
    });
    assert.deepEqual(minOffsetRequest({ topic: 'T', queueId: 1 }), {
      code: 31,
      extFields: { topic: 'T', queueId: '1' },
    });
  });

  test('SEARCH_OFFSET_BY_TIMESTAMP with LOWER by default, or UPPER', () => {
    assert.deepEqual(searchOffsetRequest(queue, 1700000000000), {
      code: 29,
      extFields: {
        topic: 'T',
        queueId: '3',
        timestamp: '1700000000000',
        boundaryType: 'LOWER',
        bname: 'broker-a',
      },
    });
    assert.equal(searchOffsetRequest(queue, 5, 'UPPER').extFields?.boundaryType, 'UPPER');
  });

  test('a non-integer queue id or offset is refused before anything is sent', () => {
    assert.throws(() => maxOffsetRequest({ topic: 'T', queueId: 1.5 }), RangeError);
    assert.throws(() => updateConsumerOffsetRequest(queue, 'G', Number.NaN), RangeError);
  });
});

describe('offset responses', () => {
  test('QUERY_CONSUMER_OFFSET: the offset header, or undefined for QUERY_NOT_FOUND', () => {
    assert.equal(parseQueryConsumerOffset(response(0, { offset: '42' })), 42);
    assert.equal(parseQueryConsumerOffset(response(0, { offset: '-1' })), -1);
    assert.equal(parseQueryConsumerOffset(response(22)), undefined);
  });

  test('QUERY_CONSUMER_OFFSET: other codes throw the broker error, bad headers a payload error', () => {
    assert.throws(() => parseQueryConsumerOffset(response(26)), {
      name: 'RemotingResponseError',
      message: /request 14 failed with SUBSCRIPTION_GROUP_NOT_EXIST/,
    });
    assert.throws(() => parseQueryConsumerOffset(response(0)), {
      code: 'RMQ_BAD_PAYLOAD',
      message: /lacks header field "offset"/,
    });
    assert.throws(() => parseQueryConsumerOffset(response(0, { offset: 'abc' })), {
      code: 'RMQ_BAD_PAYLOAD',
    });
    assert.throws(() => parseQueryConsumerOffset(response(0, { offset: '9007199254740993' })), {
      code: 'RMQ_BAD_PAYLOAD',
      message: /±2\^53/,
    });
  });

  test('min/max/search offsets', () => {
    assert.equal(parseOffset(response(0, { offset: '1099511627776' }), 30), 2 ** 40);
    assert.equal(parseOffset(response(0, { offset: '0' }), 31), 0);
    assert.throws(() => parseOffset(response(17), 29), {
      name: 'RemotingResponseError',
      message: /request 29 failed with TOPIC_NOT_EXIST/,
    });
    assert.throws(() => parseOffset(response(0, { offset: '' }), 30), { code: 'RMQ_BAD_PAYLOAD' });
  });

  test('UPDATE_CONSUMER_OFFSET acknowledgement', () => {
    parseUpdateConsumerOffset(response(0));
    assert.throws(() => parseUpdateConsumerOffset(response(22)), { responseCode: 22, message: /request 15/ });
  });
});
