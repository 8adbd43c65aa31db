import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { gzipSync, inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { ProxyError } from '../../../proxy/src/core/errors.ts';
import { checkMessageKind, messageKindOf } from '../../../proxy/src/core/message-kind.ts';
import { containsControlCharacter, isJavaBlank } from '../../../proxy/src/core/text-rules.ts';
import { v2 } from '../../../proxy/src/grpc/protocol.ts';
import { messageDraftOf, timestampMillis } from '../../../proxy/src/grpc/publish-codec.ts';
import { statusFromError } from '../../../proxy/src/grpc/status.ts';
import { convertMessage, type ProducerLimits } from '../../../proxy/src/producer/conversion.ts';
import type { MessageDraft } from '../../../proxy/src/producer/message-draft.ts';
import { EMPTY_DRAFT } from './drafts.ts';

const limits: ProducerLimits = {
  maxBodyBytes: 1024,
  maxUserProperties: 3,
  maxUserPropertyBytes: 64,
  maxMessageGroupBytes: 8,
  maxDelayMs: 10_000,
  maxTransactionRecoveryMs: 60_000,
};
const NOW = 1_700_000_000_000;
const context = { limits, producerGroup: 'topic-a', remoteAddress: '10.0.0.9:5555', now: NOW };

/** A gRPC Message as decoded, its draft in the core's terms. */
function message(system: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): MessageDraft {
  return messageDraftOf({
    topic: { name: 'topic-a' },
    body: Buffer.from('hello'),
    systemProperties: { messageId: 'ID-1', ...system },
    ...extra,
  });
}

/** The failure as the gRPC client sees it. */
function statusOfFailure(run: () => unknown): { code: number; message: string } | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof ProxyError) return statusFromError(error);
    throw error;
  }
  return undefined;
}

function codeOf(run: () => unknown): number | undefined {
  return statusOfFailure(run)?.code;
}

describe('convertMessage', () => {
  test('builds the stored properties of a sent message', () => {
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

  test('each validation rule yields its Code, in the Java order', () => {
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
    // An unknown enum value comes after the body checks and before the user properties.
    assert.equal(
      codeOf(() => convertMessage(message({ messageType: 17 }, { body: Buffer.alloc(0) }), context)),
      v2.Code.MESSAGE_BODY_EMPTY,
    );
    assert.deepEqual(
      statusOfFailure(() =>
        convertMessage(
          message({ messageType: 17, bodyEncoding: 5 }, { userProperties: { TAGS: 'x' } }),
          context,
        ),
      ),
      { code: v2.Code.BAD_REQUEST, message: 'unknown system_properties.message_type value 17' },
    );
    assert.deepEqual(
      statusOfFailure(() => convertMessage(message({ bodyEncoding: 5 }), context)),
      { code: v2.Code.BAD_REQUEST, message: 'unknown system_properties.body_encoding value 5' },
    );
  });

  test('refusals carry the reason and the Java message', () => {
    assert.throws(
      () => convertMessage(message({ messageGroup: '12345678' }), context),
      (error: unknown) =>
        error instanceof ProxyError &&
        error.reason === 'IllegalMessageGroup' &&
        error.message === 'message group exceed the max size 8',
    );
    assert.throws(
      () => convertMessage({ ...message(), type: { unrecognized: 'no such type' } }, context),
      (error: unknown) =>
        error instanceof ProxyError && error.reason === 'BadRequest' && error.message === 'no such type',
    );
    assert.throws(
      () => convertMessage(message({ deliveryTimestamp: { seconds: 1, nanos: -1 } }), context),
      (error: unknown) =>
        error instanceof ProxyError &&
        error.reason === 'IllegalDeliveryTime' &&
        error.message === 'delivery_timestamp is not a valid timestamp after 1970',
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

describe('messageDraftOf', () => {
  test('decodes a gRPC Message into the core draft; absent fields are empty', () => {
    const draft = messageDraftOf({
      topic: { name: 't', resourceNamespace: 'ns' },
      body: Buffer.from('b'),
      systemProperties: {
        messageId: 'M',
        messageType: v2.MessageType.TRANSACTION,
        bodyEncoding: v2.Encoding.GZIP,
        deliveryTimestamp: { seconds: 1, nanos: 1_000_000_000 },
        bornTimestamp: { seconds: 2, nanos: 3_000_000 },
        orphanedTransactionRecoveryDuration: { seconds: 30 },
        deliveryAttempt: 2,
      },
    });
    assert.equal(draft.topic, 't');
    assert.equal(draft.namespace, 'ns');
    assert.equal(draft.type, 'TRANSACTION');
    assert.equal(draft.bodyEncoding, 'GZIP');
    assert.ok(Number.isNaN(draft.deliveryTime), 'an invalid delivery time stays visible as NaN');
    assert.equal(draft.bornTimestamp, 2003);
    assert.equal(draft.transactionRecoverySeconds, 30);
    assert.equal(draft.deliveryAttempt, 2);
    const bare = messageDraftOf({});
    assert.deepEqual({ ...bare, body: [...bare.body] }, { ...EMPTY_DRAFT, body: [] });
  });

  test('every message type and encoding the proto defines is named; others are unrecognized', () => {
    const numbers = <T>(values: Record<string, T | string>) =>
      Object.values(values).filter((value): value is T => typeof value === 'number');
    assert.equal(numbers(v2.MessageType).length, 7);
    for (const value of numbers(v2.MessageType)) {
      assert.equal(typeof messageDraftOf({ systemProperties: { messageType: value } }).type, 'string');
    }
    for (const value of numbers(v2.Encoding)) {
      assert.equal(
        typeof messageDraftOf({ systemProperties: { bodyEncoding: value } }).bodyEncoding,
        'string',
      );
    }
    assert.deepEqual(messageDraftOf({ systemProperties: { messageType: 1.5 as never } }).type, {
      unrecognized: 'unknown system_properties.message_type value 1.5',
    });
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
        error instanceof ProxyError &&
        error.reason === 'MessageTypeConflict' &&
        statusFromError(error).code === v2.Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE &&
        error.message ===
          'TopicMessageType validate failed, the expected type is NORMAL, but actual type is FIFO',
    );
    assert.throws(
      () => checkMessageKind('UNSPECIFIED', 'NORMAL', 'topic x does not exist'),
      /UNSPECIFIED.*does not exist/,
    );
  });
});
