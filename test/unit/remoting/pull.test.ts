import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { RemotingCommand } from '../../../proxy/src/remoting/command.ts';
import { RemotingError, RemotingResponseError } from '../../../proxy/src/remoting/errors.ts';
import { decodeFrame } from '../../../proxy/src/remoting/frame.ts';
import {
  buildPullSysFlag,
  PullSysFlag,
  parsePullResponse,
  pullMessageRequest,
} from '../../../proxy/src/remoting/requests/pull.ts';
import { encodeStoredMessage } from '../../support/remoting/stored-message-encoder.ts';

// remoting.md §9 vector 3: a PULL_MESSAGE request header as Java encodes it (rocketmq-rust golden fixture
// pull-fast-inherited-json).
const VECTOR_3 =
  '{"code":11,"extFields":{"queueId":"1","maxMsgBytes":"4194304","lo":"true","maxMsgNums":"32","sysFlag":"0","ns":"tenant-a","commitOffset":"-1","proxyFrowardClientId":"proxy-client","subscription":"tagA || tagB","requestSource":"0","oway":"false","suspendTimeoutMillis":"15000","bname":"broker-a","topic":"TopicA","queueOffset":"42","expressionType":"TAG","subVersion":"7","consumerGroup":"消费者组-α","nsd":"true"},"flag":0,"language":"RUST","opaque":7,"serializeTypeCurrentRPC":"JSON","version":501}';

// §9 vector 4: the whole ROCKETMQ-encoded frame of fixture pull-response-fast-rocketmq.
const VECTOR_4_FRAME_BASE64 =
  'AAAAugEAALYACwwB9QAAAAcAAAAAAAAAAAAAAKEAFHN1Z2dlc3RXaGljaEJyb2tlcklkAAAAATEAD25leHRCZWdpbk9mZnNldAAAAAItMgAJbWluT2Zmc2V0AAAAAi0zAAltYXhPZmZzZXQAAAACOTkAC29mZnNldERlbHRhAAAAAi01AAx0b3BpY1N5c0ZsYWcAAAABNgAMZ3JvdXBTeXNGbGFnAAAAATcADWZvcmJpZGRlblR5cGUAAAABOA==';

const OFFSETS = { suggestWhichBrokerId: '0', nextBeginOffset: '12', minOffset: '0', maxOffset: '12' };

function response(code: number, extFields: Record<string, string>, body?: Buffer): RemotingCommand {
  return { code, language: 'JAVA', version: 479, opaque: 1, flag: 1, extFields, body };
}

function badPayload(pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof RemotingError, `expected RemotingError, got ${String(error)}`);
    assert.equal(error.code, 'RMQ_BAD_PAYLOAD');
    assert.match(error.message, pattern);
    return true;
  };
}

describe('PULL_MESSAGE request', () => {
  test('§9 vector 3: every field we produce matches the Java-encoded header', () => {
    const java = (JSON.parse(VECTOR_3) as { extFields: Record<string, string> }).extFields;
    const spec = pullMessageRequest({
      consumerGroup: '消费者组-α',
      topic: 'TopicA',
      queueId: 1,
      queueOffset: 42,
      maxMsgNums: 32,
      sysFlag: 0,
      commitOffset: -1,
      suspendTimeoutMillis: 15000,
      subscription: 'tagA || tagB',
      subVersion: 7,
      expressionType: 'TAG',
      maxMsgBytes: 4194304,
      brokerName: 'broker-a',
    });
    assert.equal(spec.code, 11);
    const ours = spec.extFields ?? {};
    for (const [key, value] of Object.entries(ours)) assert.equal(java[key], value, `field ${key}`);
    // What we leave out is exactly the namespace/proxy/static-topic extras we never set.
    const missing = Object.keys(java).filter((key) => !(key in ours));
    assert.deepEqual(missing.sort(), ['lo', 'ns', 'nsd', 'oway', 'proxyFrowardClientId', 'requestSource']);
  });

  test('keys follow the order Java writes them; optional fields are omitted, not empty', () => {
    const spec = pullMessageRequest({
      consumerGroup: 'CG',
      topic: 'T',
      queueId: 0,
      queueOffset: 0,
      maxMsgNums: 32,
      sysFlag: { suspend: true },
    });
    assert.deepEqual(Object.entries(spec.extFields ?? {}), [
      ['consumerGroup', 'CG'],
      ['topic', 'T'],
      ['queueId', '0'],
      ['queueOffset', '0'],
      ['maxMsgNums', '32'],
      ['sysFlag', '2'],
      ['commitOffset', '0'],
      ['suspendTimeoutMillis', '0'],
      ['subVersion', '0'],
    ]);
  });

  test('PullSysFlag bits match Java (commitOffset 1, suspend 2, subscription 4, classFilter 8, litePull 16)', () => {
    assert.equal(buildPullSysFlag({}), 0);
    assert.equal(buildPullSysFlag({ commitOffset: true, suspend: true, subscription: true }), 7);
    assert.equal(buildPullSysFlag({ classFilter: true }), PullSysFlag.CLASS_FILTER);
    assert.equal(buildPullSysFlag({ litePull: true }), 16);
    assert.equal(
      pullMessageRequest({
        consumerGroup: 'CG',
        topic: 'T',
        queueId: 0,
        queueOffset: 0,
        maxMsgNums: 1,
        sysFlag: { subscription: true, commitOffset: true },
      }).extFields?.sysFlag,
      '5',
    );
  });

  test('an offset beyond 2^53 is refused rather than rounded', () => {
    assert.throws(
      () =>
        pullMessageRequest({
          consumerGroup: 'CG',
          topic: 'T',
          queueId: 0,
          queueOffset: 2 ** 60,
          maxMsgNums: 1,
          sysFlag: 0,
        }),
      RangeError,
    );
  });
});

describe('PULL_MESSAGE response', () => {
  test('§9 vector 4: the ROCKETMQ-encoded response header decodes to every field', () => {
    const frame = Buffer.from(VECTOR_4_FRAME_BASE64, 'base64');
    // The bytes the spec quotes: length, serialize type 1 + header length, then code/language/version/opaque.
    assert.equal(frame.subarray(0, 17).toString('hex'), '000000ba010000b6000b0c01f500000007');
    const decoded = decodeFrame(frame.subarray(4));
    // The fixture was captured with code 11; as a pull answer the same header comes with a status code.
    const result = parsePullResponse({ ...decoded, code: 21 });
    assert.deepEqual(result, {
      status: 'OFFSET_ILLEGAL',
      nextBeginOffset: -2,
      minOffset: -3,
      maxOffset: 99,
      suggestWhichBrokerId: 1,
      offsetDelta: -5,
      topicSysFlag: 6,
      groupSysFlag: 7,
      forbiddenType: 8,
      messages: [],
    });
  });

  test('FOUND decodes the body into stored messages', () => {
    const body = Buffer.concat([
      encodeStoredMessage({
        topic: 'T',
        queueId: 3,
        queueOffset: 10,
        body: Buffer.from('a'),
        properties: { TAGS: 'x' },
      }),
      encodeStoredMessage({ topic: 'T', queueId: 3, queueOffset: 11, body: Buffer.from('b') }),
    ]);
    const result = parsePullResponse(response(0, OFFSETS, body));
    assert.equal(result.status, 'FOUND');
    assert.equal(result.nextBeginOffset, 12);
    assert.equal(result.offsetDelta, undefined);
    assert.deepEqual(
      result.messages.map((m) => [
        m.topic,
        m.queueId,
        m.queueOffset,
        m.body.toString(),
        m.properties.get('TAGS'),
      ]),
      [
        ['T', 3, 10, 'a', 'x'],
        ['T', 3, 11, 'b', undefined],
      ],
    );
  });

  test('PULL_NOT_FOUND / RETRY_IMMEDIATELY / OFFSET_MOVED are statuses with offsets and no messages', () => {
    const stray = Buffer.from('ignored');
    assert.deepEqual(
      [19, 20, 21].map((code) => {
        const result = parsePullResponse(response(code, OFFSETS, stray));
        return [result.status, result.nextBeginOffset, result.messages.length];
      }),
      [
        ['NO_NEW_MSG', 12, 0],
        ['NO_MATCHED_MSG', 12, 0],
        ['OFFSET_ILLEGAL', 12, 0],
      ],
    );
  });

  test('other codes throw RemotingResponseError', () => {
    assert.throws(
      () => parsePullResponse({ ...response(24, {}), remark: 'subscription not exist' }),
      (error: unknown) =>
        error instanceof RemotingResponseError &&
        error.errorCode === 'RMQ_SUBSCRIPTION_NOT_EXIST' &&
        error.message.includes('subscription not exist'),
    );
    assert.throws(() => parsePullResponse(response(1, OFFSETS)), RemotingResponseError);
  });

  test('malformed headers name the field', () => {
    const { nextBeginOffset: _, ...withoutNext } = OFFSETS;
    assert.throws(() => parsePullResponse(response(19, withoutNext)), badPayload(/"nextBeginOffset"/));
    assert.throws(
      () => parsePullResponse(response(0, { ...OFFSETS, maxOffset: '12x' })),
      badPayload(/"maxOffset" is "12x"/),
    );
    assert.throws(
      () => parsePullResponse(response(0, { ...OFFSETS, minOffset: '99999999999999999999' })),
      badPayload(/"minOffset"/),
    );
    assert.throws(
      () => parsePullResponse(response(0, { ...OFFSETS, topicSysFlag: '4294967296' })),
      badPayload(/"topicSysFlag"/),
    );
  });

  test('garbage and truncated bodies are RMQ_BAD_PAYLOAD', () => {
    const good = encodeStoredMessage({ topic: 'T', body: Buffer.from('hello') });
    assert.throws(
      () => parsePullResponse(response(0, OFFSETS, Buffer.from('garbage!'))),
      badPayload(/stored message/i),
    );
    assert.throws(
      () => parsePullResponse(response(0, OFFSETS, good.subarray(0, 30))),
      badPayload(/stored message/i),
    );
  });

  test('fuzz: random bodies only yield messages or RemotingError', () => {
    const good = encodeStoredMessage({
      topic: 'T',
      body: Buffer.from('hello'),
      properties: { UNIQ_KEY: 'K' },
    });
    const arbBody = fc.oneof(
      fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
      fc.tuple(fc.nat({ max: good.length - 1 }), fc.nat({ max: 255 })).map(([at, byte]) => {
        const copy = Buffer.from(good);
        copy[at] = byte;
        return copy;
      }),
    );
    fc.assert(
      fc.property(arbBody, (body) => {
        try {
          parsePullResponse(response(0, OFFSETS, body));
        } catch (error) {
          assert.ok(error instanceof RemotingError && error.code === 'RMQ_BAD_PAYLOAD', String(error));
        }
      }),
      { numRuns: 3000 },
    );
  });

  test('property: records encoded as a broker would come back with their fields', () => {
    const arbMessage = fc.record(
      {
        topic: fc.string({ unit: fc.constantFrom(...'abcXYZ%_-|0123'), minLength: 1, maxLength: 200 }),
        queueId: fc.nat({ max: 1023 }),
        queueOffset: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        body: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
        reconsumeTimes: fc.nat({ max: 16 }),
      },
      { noNullPrototype: true },
    );
    fc.assert(
      fc.property(fc.array(arbMessage, { maxLength: 5 }), (messages) => {
        const body = Buffer.concat(messages.map(encodeStoredMessage));
        const result = parsePullResponse(response(0, OFFSETS, body));
        assert.deepEqual(
          result.messages.map((m) => ({
            topic: m.topic,
            queueId: m.queueId,
            queueOffset: m.queueOffset,
            body: m.body,
            reconsumeTimes: m.reconsumeTimes,
          })),
          messages,
        );
      }),
    );
  });
});
