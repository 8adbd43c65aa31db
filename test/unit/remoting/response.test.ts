import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { RemotingCommand } from '../../../proxy/src/remoting/command.ts';
import { RemotingError, RemotingResponseError } from '../../../proxy/src/remoting/errors.ts';
import {
  expectSuccess,
  headerBigInt,
  headerInt,
  headerLong,
  headerOptional,
  headerString,
} from '../../../proxy/src/remoting/response.ts';

function response(code: number, extFields?: Record<string, string>, remark?: string): RemotingCommand {
  return { code, language: 'JAVA', version: 479, opaque: 1, flag: 1, extFields, remark };
}

function badPayload(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof RemotingError && !(error instanceof RemotingResponseError), String(error));
    assert.equal(error.code, 'RMQ_BAD_PAYLOAD');
    assert.match(error.message, message);
    return true;
  });
}

describe('expectSuccess', () => {
  test('returns the response for code 0, or for any listed ok code', () => {
    const ok = response(0);
    assert.equal(expectSuccess(ok), ok);
    const notFound = response(22);
    assert.equal(expectSuccess(notFound, 14, [0, 22]), notFound);
  });

  test('other codes become RemotingResponseError with the broker code, name and remark', () => {
    assert.throws(
      () =>
        expectSuccess(response(17, undefined, 'No topic route info in name server for the topic: T'), 105),
      (error: unknown) => {
        assert.ok(error instanceof RemotingResponseError);
        assert.equal(error.code, 'RMQ_RESPONSE');
        assert.equal(error.responseCode, 17);
        assert.equal(error.errorCode, 'RMQ_TOPIC_NOT_EXIST');
        assert.equal(error.remark, 'No topic route info in name server for the topic: T');
        assert.equal(error.retriable, true);
        assert.equal(
          error.message,
          'request 105 failed with TOPIC_NOT_EXIST (17): No topic route info in name server for the topic: T',
        );
        return true;
      },
    );
  });

  test('unknown codes are named CODE_<n>; non-retriable codes say so', () => {
    assert.throws(() => expectSuccess(response(12345)), {
      errorCode: 'RMQ_CODE_12345',
      message: 'request failed with CODE_12345 (12345)',
    });
    assert.throws(() => expectSuccess(response(13)), { errorCode: 'RMQ_MESSAGE_ILLEGAL', retriable: false });
    assert.throws(() => expectSuccess(response(0), 14, [22]), { responseCode: 0 });
  });
});

describe('typed header values', () => {
  const r = response(0, {
    offset: '42',
    negative: '-7',
    plus: '+5',
    zero: '-0',
    empty: '',
    maxInt: '2147483647',
    minInt: '-2147483648',
    overInt: '2147483648',
    maxSafe: '9007199254740991',
    overSafe: '9007199254740992',
    maxLong: '9223372036854775807',
    minLong: '-9223372036854775808',
    overLong: '9223372036854775808',
    spaced: ' 1',
    decimal: '1.0',
    hex: '0x10',
    exponent: '1e3',
  });

  test('headerOptional and headerString', () => {
    assert.equal(headerOptional(r, 'offset'), '42');
    assert.equal(headerOptional(r, 'absent'), undefined);
    assert.equal(headerOptional(response(0), 'x'), undefined);
    assert.equal(headerString(r, 'empty'), '');
    badPayload(() => headerString(r, 'absent'), /response \(code 0\) lacks header field "absent"/);
    badPayload(() => headerString(response(0), 'msgId'), /lacks header field "msgId"/);
  });

  test('headerInt: Java int range, decimal text only', () => {
    assert.equal(headerInt(r, 'offset'), 42);
    assert.equal(headerInt(r, 'negative'), -7);
    assert.equal(headerInt(r, 'plus'), 5);
    assert.equal(headerInt(r, 'maxInt'), 2147483647);
    assert.equal(headerInt(r, 'minInt'), -2147483648);
    badPayload(() => headerInt(r, 'overInt'), /"overInt" is "2147483648", expected a 32-bit integer/);
    for (const key of ['empty', 'spaced', 'decimal', 'hex', 'exponent']) {
      badPayload(() => headerInt(r, key), new RegExp(`"${key}" is .*, expected an integer`));
    }
    badPayload(() => headerInt(r, 'absent'), /lacks header field "absent"/);
  });

  test('headerLong: exact within ±2^53, refuses to round beyond', () => {
    assert.equal(headerLong(r, 'maxSafe'), Number.MAX_SAFE_INTEGER);
    assert.equal(headerLong(r, 'negative'), -7);
    assert.ok(Object.is(headerLong(r, 'zero'), 0), '"-0" reads as 0, not -0');
    badPayload(() => headerLong(r, 'overSafe'), /expected an integer within ±2\^53/);
    badPayload(() => headerLong(r, 'decimal'), /expected an integer/);
  });

  test('headerBigInt: the whole Java long range', () => {
    assert.equal(headerBigInt(r, 'maxLong'), 9223372036854775807n);
    assert.equal(headerBigInt(r, 'minLong'), -9223372036854775808n);
    assert.equal(headerBigInt(r, 'plus'), 5n);
    badPayload(() => headerBigInt(r, 'overLong'), /expected a 64-bit integer/);
    badPayload(() => headerBigInt(r, 'hex'), /expected an integer/);
  });

  test('any Java long text round-trips through headerBigInt, and through headerLong when safe', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (value) => {
        const r = response(0, { v: value.toString() });
        assert.equal(headerBigInt(r, 'v'), value);
        if (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)) {
          assert.equal(headerLong(r, 'v'), Number(value));
        } else {
          assert.throws(() => headerLong(r, 'v'), { code: 'RMQ_BAD_PAYLOAD' });
        }
      }),
      { numRuns: 500 },
    );
  });
});
