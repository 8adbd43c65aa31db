import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { RemotingError } from '../../../proxy/src/remoting/errors.ts';
import {
  formatExtraInfo,
  formatPopReceipt,
  isOrderReceipt,
  type PopReceipt,
  parsePopReceipt,
  realTopicOf,
  renewedReceipt,
  retryFlagOfTopic,
} from '../../../proxy/src/remoting/message/pop-receipt.ts';

// remoting.md §5.3 example: queue 1, checkpoint start 100, message offset 101.
const EXAMPLE = '100 1700000000123 60000 3 0 broker-a 1 101';

function badPayload(pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof RemotingError, `expected RemotingError, got ${String(error)}`);
    assert.equal(error.code, 'RMQ_BAD_PAYLOAD');
    assert.match(error.message, pattern);
    return true;
  };
}

const nameChars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-%|';
const arbName = fc.string({ unit: fc.constantFrom(...nameChars), minLength: 1, maxLength: 40 });
const arbReceipt: fc.Arbitrary<PopReceipt> = fc.record(
  {
    ckQueueOffset: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    popTime: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    invisibleTime: fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }),
    reviveQid: fc.nat({ max: 2 ** 31 - 1 }),
    retry: fc.constantFrom('0' as const, '1' as const, '2' as const),
    brokerName: arbName,
    queueId: fc.nat({ max: 2 ** 31 - 1 }),
    queueOffset: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    commitLogOffset: fc.option(fc.integer({ min: -1, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }),
  },
  { noNullPrototype: true },
);

describe('pop receipt format', () => {
  test('parses the §5.3 example into its eight fields', () => {
    assert.deepEqual(parsePopReceipt(EXAMPLE), {
      ckQueueOffset: 100,
      popTime: 1700000000123,
      invisibleTime: 60000,
      reviveQid: 3,
      retry: '0',
      brokerName: 'broker-a',
      queueId: 1,
      queueOffset: 101,
      commitLogOffset: undefined,
    });
  });

  test('accepts the Apache proxy handle with a ninth commit-log offset field, and sends only eight', () => {
    const receipt = parsePopReceipt(`${EXAMPLE} 4096`);
    assert.equal(receipt.commitLogOffset, 4096);
    assert.equal(formatPopReceipt(receipt), `${EXAMPLE} 4096`);
    assert.equal(formatExtraInfo(receipt), EXAMPLE);
  });

  test('property: format → parse round trip keeps every field', () => {
    fc.assert(
      fc.property(arbReceipt, (receipt) => {
        assert.deepEqual(parsePopReceipt(formatPopReceipt(receipt)), receipt);
      }),
      { numRuns: 2000 },
    );
  });

  test('property: a canonical receipt string survives parse → format unchanged', () => {
    fc.assert(
      fc.property(arbReceipt, (receipt) => {
        const text = formatPopReceipt(receipt);
        assert.equal(formatPopReceipt(parsePopReceipt(text)), text);
      }),
    );
  });

  test('signed zero and a plus sign (which Java accepts) parse to plain numbers', () => {
    const receipt = parsePopReceipt('-0 +1700000000123 60000 3 0 broker-a 1 101');
    assert.ok(Object.is(receipt.ckQueueOffset, 0));
    assert.equal(formatPopReceipt(receipt), '0 1700000000123 60000 3 0 broker-a 1 101');
  });

  test('order receipts are those with reviveQid 999', () => {
    assert.equal(isOrderReceipt(parsePopReceipt('5 1700000000123 30000 999 0 broker-a 2 5')), true);
    assert.equal(isOrderReceipt(parsePopReceipt(EXAMPLE)), false);
  });
});

describe('pop receipt rejects malformed input', () => {
  const cases: [string, string, RegExp][] = [
    ['too few fields', '100 1700000000123 60000 3 0 broker-a 1', /7 space-separated fields, expected 8 or 9/],
    ['too many fields', `${EXAMPLE} 1 2`, /10 space-separated fields/],
    ['empty string', '', /1 space-separated fields/],
    ['double space', '100  1700000000123 60000 3 0 broker-a 1', /empty popTime/],
    ['trailing space', `${EXAMPLE} `, /empty commitLogOffset/],
    ['leading space', ` ${EXAMPLE.split(' ').slice(1).join(' ')}`, /empty ckQueueOffset/],
    ['non-numeric popTime', '100 soon 60000 3 0 broker-a 1 101', /popTime "soon"/],
    ['fractional offset', '100 1700000000123 60000 3 0 broker-a 1 101.5', /queueOffset "101.5"/],
    ['hex number', '0x10 1700000000123 60000 3 0 broker-a 1 101', /ckQueueOffset "0x10"/],
    ['unknown retry flag', '100 1700000000123 60000 3 3 broker-a 1 101', /retry flag "3"/],
    ['negative queueId', '100 1700000000123 60000 3 0 broker-a -1 101', /queueId "-1"/],
    ['queueId beyond int32', '100 1700000000123 60000 3 0 broker-a 2147483648 101', /queueId "2147483648"/],
    ['negative reviveQid', '100 1700000000123 60000 -3 0 broker-a 1 101', /reviveQid "-3"/],
    ['negative offset', '100 1700000000123 60000 3 0 broker-a 1 -101', /queueOffset "-101"/],
    ['offset beyond 2^53', '100 1700000000123 60000 3 0 broker-a 1 9007199254740993', /queueOffset/],
    ['tab separator', '100\t1700000000123 60000 3 0 broker-a 1 101 7', /ckQueueOffset "100\\t1700000000123"/],
  ];
  for (const [name, text, pattern] of cases) {
    test(name, () => assert.throws(() => parsePopReceipt(text), badPayload(pattern)));
  }

  test('an overlong string is refused before splitting', () => {
    assert.throws(() => parsePopReceipt(`${EXAMPLE} ${'9'.repeat(5000)}`), badPayload(/at most 4096/));
  });

  test('the message quotes a long receipt only in part', () => {
    const long = `${'1'.repeat(300)} 1 1 1 1 b 1`;
    assert.throws(
      () => parsePopReceipt(long),
      (error: unknown) => error instanceof RemotingError && error.message.length < 400,
    );
  });

  test('fuzz: 10,000 random strings only ever parse or throw RMQ_BAD_PAYLOAD', () => {
    const token = fc.oneof(
      fc.constantFrom(
        '0',
        '1',
        '2',
        '999',
        '-1',
        '+7',
        '',
        ' ',
        'broker-a',
        '9007199254740993',
        '2147483648',
      ),
      fc.string({ maxLength: 6 }),
      fc.string({ unit: 'binary', maxLength: 6 }),
      fc.nat().map(String),
    );
    const arbText = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.array(token, { maxLength: 11 }).map((parts) => parts.join(' ')),
      arbReceipt.chain((receipt) =>
        fc.tuple(fc.nat({ max: 60 }), fc.string({ unit: 'binary', maxLength: 3 })).map(([at, insert]) => {
          const text = formatPopReceipt(receipt);
          return text.slice(0, at) + insert + text.slice(at + 1);
        }),
      ),
    );
    let parsed = 0;
    fc.assert(
      fc.property(arbText, (text) => {
        try {
          const receipt = parsePopReceipt(text);
          parsed++;
          // Whatever parses must be a valid receipt that re-parses identically.
          assert.deepEqual(parsePopReceipt(formatPopReceipt(receipt)), receipt);
        } catch (error) {
          assert.ok(error instanceof RemotingError && error.code === 'RMQ_BAD_PAYLOAD', String(error));
        }
      }),
      { numRuns: 10_000 },
    );
    // The generator must reach the accepting path too, or the round-trip check above is vacuous.
    assert.ok(parsed > 100, `only ${parsed} inputs parsed`);
  });
});

describe('real topics of receipts', () => {
  test('retry flags name the pop-retry topics of KeyBuilder', () => {
    assert.equal(realTopicOf('0', 'TopicTest', 'CG_A'), 'TopicTest');
    assert.equal(realTopicOf('1', 'TopicTest', 'CG_A'), '%RETRY%CG_A_TopicTest');
    assert.equal(realTopicOf('2', 'TopicTest', 'CG_A'), '%RETRY%CG_A+TopicTest');
  });

  test('the flag of a topic follows the broker rule (%RETRY% with + is V2)', () => {
    assert.equal(retryFlagOfTopic('TopicTest'), '0');
    assert.equal(retryFlagOfTopic('%RETRY%CG_A_TopicTest'), '1');
    assert.equal(retryFlagOfTopic('%RETRY%CG_A+TopicTest'), '2');
    // A classic push-consumer retry topic also counts as V1, as in ExtraInfoUtil.
    assert.equal(retryFlagOfTopic('%RETRY%CG_A'), '1');
  });

  test('property: the flag recovered from a real topic is the flag it was built from', () => {
    const plainName = fc.string({ unit: fc.constantFrom(...'abcXYZ019_-|'), minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(
        fc.constantFrom('0' as const, '1' as const, '2' as const),
        plainName,
        plainName,
        (flag, t, g) => {
          assert.equal(retryFlagOfTopic(realTopicOf(flag, t, g)), flag);
        },
      ),
    );
  });

  test('a retry receipt gives what ack needs: real topic, broker, queue and offset', () => {
    const receipt = parsePopReceipt('7 1700000000123 60000 2 1 broker-b 0 9');
    assert.deepEqual(
      {
        realTopic: realTopicOf(receipt.retry, 'TopicTest', 'CG_A'),
        brokerName: receipt.brokerName,
        queueId: receipt.queueId,
        offset: receipt.queueOffset,
      },
      { realTopic: '%RETRY%CG_A_TopicTest', brokerName: 'broker-b', queueId: 0, offset: 9 },
    );
  });

  test('a renewed receipt starts its checkpoint at the message offset (§5.5)', () => {
    const renewed = renewedReceipt(parsePopReceipt(EXAMPLE), {
      popTime: 1700000005000,
      invisibleTime: 30000,
      reviveQid: 5,
    });
    assert.equal(formatPopReceipt(renewed), '101 1700000005000 30000 5 0 broker-a 1 101');
  });
});
