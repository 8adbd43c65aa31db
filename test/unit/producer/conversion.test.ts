import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gzipSync, inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { v2 } from '../../../proxy/src/grpc/protocol.ts';
import { ProxyStatusError } from '../../../proxy/src/grpc/status.ts';
import {
  convertMessage,
  type ProducerLimits,
  timestampMillis,
} from '../../../proxy/src/producer/conversion.ts';
import { checkMessageKind, messageKindOf } from '../../../proxy/src/producer/message-kind.ts';
import { containsControlCharacter, isJavaBlank } from '../../../proxy/src/producer/text-rules.ts';

const limits: ProducerLimits = {
  maxBodyBytes: 1024,
  maxUserProperties: 3,
  maxUserPropertyBytes: 64,
  maxMessageGroupBytes: 8,
  maxDelayMs: 10_000,
  maxTransactionRecoveryMs: 60_000,
};
const NOW = 1_700_000_000_000;
const context = { limits, producerGroup: 'topic-a', peer: '10.0.0.9:5555', now: NOW };

function message(system: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    topic: { name: 'topic-a' },
    body: Buffer.from('hello'),
    systemProperties: { messageId: 'ID-1', ...system },
    ...extra,
  };
}

function codeOf(run: () => unknown): number | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof ProxyStatusError) return error.code;
    throw error;
  }
  return undefined;
}

describe('convertMessage', () => {
  test('builds the stored properties of §12.1', () => {
    const out = convertMessage(
      message(
        {
          tag: 'T',
          keys: ['k1', 'k2'],
          messageGroup: 'g1',
          traceContext: 'tp',
          bornTimestamp: { seconds: 1_700_000_000, nanos: 5_000_000 },
          deliveryTimestamp: { seconds: (NOW + 5000) / 1000, nanos: 0 },
        },
        { userProperties: { a: '1' } },
      ),
      context,
    );
    assert.deepEqual(Object.fromEntries(out.properties), {
      a: '1',
      TAGS: 'T',
      KEYS: 'k1 k2',
      UNIQ_KEY: 'ID-1',
      TIMER_DELIVER_MS: String(NOW + 5000),
      PGROUP: 'topic-a',
      __SHARDINGKEY: 'g1',
      TRACE_CONTEXT: 'tp',
      __BORNHOST: '10.0.0.9:5555',
      BORN_TIMESTAMP: '1700000000005',
    });
    assert.equal(out.bornTimestamp, 1_700_000_000_005);
    assert.equal(out.messageGroup, 'g1');
    assert.equal(out.transactional, false);
  });

  test('TRANSACTION sets TRAN_MSG and the recovery time only when given', () => {
    const plain = convertMessage(message({ messageType: v2.MessageType.TRANSACTION }), context);
    assert.equal(plain.transactional, true);
    assert.equal(plain.properties.get('TRAN_MSG'), 'true');
    assert.equal(plain.properties.has('CHECK_IMMUNITY_TIME_IN_SECONDS'), false);
    const timed = convertMessage(
      message({
        messageType: v2.MessageType.TRANSACTION,
        orphanedTransactionRecoveryDuration: { seconds: 30 },
      }),
      context,
    );
    assert.equal(timed.properties.get('CHECK_IMMUNITY_TIME_IN_SECONDS'), '30');
  });

  test('each §7 rule yields its Code, in the Java order', () => {
    const cases: [Record<string, unknown>, Record<string, unknown>, number][] = [
      [{}, { body: Buffer.alloc(0) }, v2.Code.MESSAGE_BODY_EMPTY],
      [{}, { body: Buffer.alloc(1025) }, v2.Code.MESSAGE_BODY_TOO_LARGE],
      [{}, { userProperties: { a: '1', b: '2', c: '3', d: '4' } }, v2.Code.MESSAGE_PROPERTIES_TOO_LARGE],
      [{}, { userProperties: { TAGS: 'x' } }, v2.Code.ILLEGAL_MESSAGE_PROPERTY_KEY],
      [{}, { userProperties: { 'a\u0085': 'x' } }, v2.Code.ILLEGAL_MESSAGE_PROPERTY_KEY],
      [{ tag: 'a|b' }, {}, v2.Code.ILLEGAL_MESSAGE_TAG],
      [{ tag: '\u2003' }, {}, v2.Code.ILLEGAL_MESSAGE_TAG],
      [{ keys: ['\n'] }, {}, v2.Code.ILLEGAL_MESSAGE_KEY],
      [{}, { userProperties: { big: 'x'.repeat(65) } }, v2.Code.MESSAGE_PROPERTIES_TOO_LARGE],
      [{ messageId: ' ' }, {}, v2.Code.ILLEGAL_MESSAGE_ID],
      [
        { messageType: v2.MessageType.TRANSACTION, orphanedTransactionRecoveryDuration: { seconds: 61 } },
        {},
        v2.Code.BAD_REQUEST,
      ],
      [{ deliveryTimestamp: { seconds: (NOW + 10_001) / 1000 } }, {}, v2.Code.ILLEGAL_DELIVERY_TIME],
      [{ messageGroup: '12345678' }, {}, v2.Code.ILLEGAL_MESSAGE_GROUP],
      [{ messageGroup: 'a\u0000' }, {}, v2.Code.ILLEGAL_MESSAGE_GROUP],
      [{ messageType: 17 }, {}, v2.Code.BAD_REQUEST],
      [{ bodyEncoding: 5 }, {}, v2.Code.BAD_REQUEST],
      [{ bodyEncoding: v2.Encoding.GZIP }, {}, v2.Code.MESSAGE_CORRUPTED],
    ];
    for (const [system, extra, code] of cases) {
      assert.equal(
        codeOf(() => convertMessage(message(system, extra), context)),
        code,
        JSON.stringify([system, extra]),
      );
    }
    // Both a bad tag and a bad group: the tag is checked first.
    assert.equal(
      codeOf(() => convertMessage(message({ tag: '|', messageGroup: ' ' }), context)),
      v2.Code.ILLEGAL_MESSAGE_TAG,
    );
  });

  test('accepts what Java accepts: past delivery times, a 7-byte group, keys with spaces, empty properties dropped', () => {
    const out = convertMessage(
      message(
        { deliveryTimestamp: { seconds: 1 }, messageGroup: '1234567', keys: ['a b', ''] },
        { userProperties: { '': 'v', k: '' } },
      ),
      context,
    );
    assert.equal(out.properties.get('TIMER_DELIVER_MS'), '1000');
    assert.equal(out.properties.get('KEYS'), 'a b ');
    assert.equal(out.properties.has(''), false);
    assert.equal(out.properties.has('k'), false);
  });

  test('GZIP bodies are stored gunzipped, or as real zlib when the plain body is over the limit', () => {
    const small = convertMessage(
      message({ bodyEncoding: v2.Encoding.GZIP }, { body: gzipSync('tiny') }),
      context,
    );
    assert.equal(Buffer.from(small.body).toString(), 'tiny');
    assert.equal(small.compressed, false);
    const plain = Buffer.alloc(4000, 0x61);
    const big = convertMessage(
      message({ bodyEncoding: v2.Encoding.GZIP }, { body: gzipSync(plain) }),
      context,
    );
    assert.equal(big.compressed, true);
    assert.deepEqual(inflateSync(big.body), plain);
  });

  test('timestampMillis rejects out-of-range timestamps', () => {
    assert.equal(timestampMillis({ seconds: 2, nanos: 999_999_999 }), 2999);
    assert.equal(timestampMillis({ seconds: 1, nanos: 1_000_000_000 }), undefined);
    assert.equal(timestampMillis({ seconds: 253_402_300_800 }), undefined);
    assert.equal(timestampMillis(null), undefined);
  });
});

describe('text rules', () => {
  test('Java blank excludes non-breaking spaces; control characters are C0 and C1', () => {
    assert.equal(isJavaBlank(' \t\u2028\u3000'), true);
    assert.equal(isJavaBlank('\u00a0'), false);
    assert.equal(isJavaBlank('\u202f'), false);
    assert.equal(containsControlCharacter('a\u009fb'), true);
    assert.equal(containsControlCharacter('a\u00a0b'), false);
  });

  test('property: a string of printable ASCII has no control character', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) }),
        (text) => assert.equal(containsControlCharacter(text), false),
      ),
    );
  });
});

describe('message kind', () => {
  test('derived from properties with TRANSACTION > DELAY > FIFO > NORMAL', () => {
    assert.equal(
      messageKindOf(
        new Map([
          ['TRAN_MSG', 'true'],
          ['__SHARDINGKEY', 'g'],
          ['DELAY', '2'],
        ]),
      ),
      'TRANSACTION',
    );
    assert.equal(
      messageKindOf(
        new Map([
          ['TIMER_DELAY_SEC', '3'],
          ['__SHARDINGKEY', 'g'],
        ]),
      ),
      'DELAY',
    );
    assert.equal(messageKindOf(new Map([['__SHARDINGKEY', 'g']])), 'FIFO');
    assert.equal(messageKindOf(new Map([['TRAN_MSG', 'false']])), 'NORMAL');
  });

  test('type check: MIXED accepts all, UNSPECIFIED nothing, with the Java message', () => {
    checkMessageKind('MIXED', 'FIFO');
    checkMessageKind('DELAY', 'DELAY');
    assert.throws(
      () => checkMessageKind('NORMAL', 'FIFO'),
      (error: unknown) =>
        error instanceof ProxyStatusError &&
        error.code === v2.Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE &&
        error.message ===
          'TopicMessageType validate failed, the expected type is NORMAL, but actual type is FIFO',
    );
    assert.throws(
      () => checkMessageKind('UNSPECIFIED', 'NORMAL', 'topic x does not exist'),
      /UNSPECIFIED.*does not exist/,
    );
  });
});
