import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inflateSync, zstdDecompressSync } from 'node:zlib';
import fc from 'fast-check';
import type { RemotingCommand } from '../../../proxy/src/remoting/command.ts';
import { RemotingError, RemotingResponseError } from '../../../proxy/src/remoting/errors.ts';
import { decodeBatchBody } from '../../../proxy/src/remoting/message/batch.ts';
import { decodeProperties } from '../../../proxy/src/remoting/message/properties.ts';
import {
  decodeSendHeader,
  encodeSendHeader,
  type SendHeader,
  sendHeaderFormOf,
} from '../../../proxy/src/remoting/message/send-header.ts';
import { decodeStoredMessage } from '../../../proxy/src/remoting/message/stored-message.ts';
import {
  MessageValidationError,
  parseSendResult,
  type SendMessageParams,
  sendBatchRequest,
  sendMessageRequest,
} from '../../../proxy/src/remoting/requests/send.ts';
import { encodeStoredMessage } from '../../support/remoting/stored-message-encoder.ts';

const UNIQ = '0A0000070FA018B4AAC2000000000001';
const BASE: SendMessageParams = {
  producerGroup: 'PG_A',
  topic: 'TopicTest',
  body: Buffer.from('hello'),
  uniqueId: UNIQ,
  bornTimestamp: 1700000000000,
};

function response(code: number, extFields: Record<string, string>): RemotingCommand {
  return { code, language: 'JAVA', version: 479, opaque: 1, flag: 1, extFields };
}

function propertiesOf(fields: Record<string, string> | undefined, key = 'i'): Map<string, string> {
  return decodeProperties(fields?.[key] ?? '');
}

function assertProblem(fn: () => unknown, problem: string, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(
      error instanceof MessageValidationError,
      `expected MessageValidationError, got ${String(error)}`,
    );
    assert.equal(error.problem, problem);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('send header', () => {
  const header: SendHeader = {
    producerGroup: 'PG',
    topic: 'T',
    defaultTopic: 'TBW102',
    defaultTopicQueueNums: 4,
    queueId: 3,
    sysFlag: 4,
    bornTimestamp: 1700000000000,
    flag: -7,
    properties: 'UNIQ_KEY\u0001X\u0002',
    reconsumeTimes: 2,
    unitMode: false,
    maxReconsumeTimes: 16,
    batch: true,
    brokerName: 'broker-a',
  };

  test('V2 uses the compact keys a..n', () => {
    assert.deepEqual(encodeSendHeader(header, 'V2'), {
      a: 'PG',
      b: 'T',
      c: 'TBW102',
      d: '4',
      e: '3',
      f: '4',
      g: '1700000000000',
      h: '-7',
      i: 'UNIQ_KEY\u0001X\u0002',
      j: '2',
      k: 'false',
      l: '16',
      m: 'true',
      n: 'broker-a',
    });
  });

  test('V1 uses the Java field names and bname for the broker', () => {
    assert.deepEqual(encodeSendHeader(header, 'V1'), {
      producerGroup: 'PG',
      topic: 'T',
      defaultTopic: 'TBW102',
      defaultTopicQueueNums: '4',
      queueId: '3',
      sysFlag: '4',
      bornTimestamp: '1700000000000',
      flag: '-7',
      properties: 'UNIQ_KEY\u0001X\u0002',
      reconsumeTimes: '2',
      unitMode: 'false',
      maxReconsumeTimes: '16',
      batch: 'true',
      bname: 'broker-a',
    });
  });

  test('the form follows the request code', () => {
    assert.equal(sendHeaderFormOf(10), 'V1');
    assert.equal(sendHeaderFormOf(310), 'V2');
    assert.equal(sendHeaderFormOf(320), 'V2');
    assert.throws(() => sendHeaderFormOf(11), RangeError);
  });

  test('decoding names the missing or malformed key', () => {
    const fields = encodeSendHeader(header, 'V2');
    const { a: _, ...withoutGroup } = fields;
    assert.throws(() => decodeSendHeader(withoutGroup, 'V2'), {
      code: 'RMQ_BAD_PAYLOAD',
      message: /lacks "a" \(producerGroup\)/,
    });
    assert.throws(() => decodeSendHeader({ ...fields, d: 'four' }, 'V2'), {
      code: 'RMQ_BAD_PAYLOAD',
      message: /"d" \(defaultTopicQueueNums\) is "four", expected an int32/,
    });
    assert.throws(() => decodeSendHeader({ ...fields, e: '2147483648' }, 'V2'), /"e" \(queueId\)/);
    assert.throws(() => decodeSendHeader(fields, 'V1'), /lacks "producerGroup"/);
  });

  test('booleans decode like Java parseBoolean', () => {
    const fields = { ...encodeSendHeader(header, 'V2'), k: 'TRUE', m: 'yes' };
    const decoded = decodeSendHeader(fields, 'V2');
    assert.equal(decoded.unitMode, true);
    assert.equal(decoded.batch, false);
  });

  test('encode → decode round-trips in both forms', () => {
    const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    const text = fc.string({ minLength: 1, maxLength: 30 });
    const arbitrary: fc.Arbitrary<SendHeader> = fc.record(
      {
        producerGroup: text,
        topic: text,
        defaultTopic: text,
        defaultTopicQueueNums: int32,
        queueId: int32,
        sysFlag: int32,
        bornTimestamp: fc.maxSafeInteger(),
        flag: int32,
        properties: text,
        reconsumeTimes: int32,
        unitMode: fc.boolean(),
        maxReconsumeTimes: int32,
        batch: fc.boolean(),
        brokerName: text,
      },
      {
        requiredKeys: [
          'producerGroup',
          'topic',
          'defaultTopic',
          'defaultTopicQueueNums',
          'queueId',
          'sysFlag',
          'bornTimestamp',
          'flag',
        ],
      },
    );
    fc.assert(
      fc.property(arbitrary, fc.constantFrom('V1' as const, 'V2' as const), (value, form) => {
        const decoded = decodeSendHeader(encodeSendHeader(value, form), form);
        for (const [key, expected] of Object.entries(value)) {
          assert.deepEqual(decoded[key as keyof SendHeader], expected, key);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('sendMessageRequest', () => {
  test('builds SEND_MESSAGE_V2 the way the Java producer does', () => {
    const spec = sendMessageRequest({
      ...BASE,
      tags: 'TagA',
      keys: ['order-1', 'order-2'],
      properties: { color: 'red' },
      brokerName: 'broker-a',
      queueId: 2,
      flag: 9,
    });
    assert.equal(spec.code, 310);
    assert.equal(spec.uniqueId, UNIQ);
    assert.deepEqual(spec.body, Buffer.from('hello'));
    const { i, ...rest } = spec.extFields ?? {};
    assert.deepEqual(rest, {
      a: 'PG_A',
      b: 'TopicTest',
      c: 'TBW102',
      d: '4',
      e: '2',
      f: '0',
      g: '1700000000000',
      h: '9',
      j: '0',
      k: 'false',
      m: 'false',
      n: 'broker-a',
    });
    assert.deepEqual(
      decodeProperties(i ?? ''),
      new Map([
        ['color', 'red'],
        ['TAGS', 'TagA'],
        ['KEYS', 'order-1 order-2'],
        ['WAIT', 'true'],
        ['UNIQ_KEY', UNIQ],
      ]),
    );
  });

  test('V1 form uses SEND_MESSAGE (10) and field names; queueId defaults to -1 (broker picks)', () => {
    const spec = sendMessageRequest({ ...BASE, form: 'V1', brokerName: 'b' });
    assert.equal(spec.code, 10);
    assert.equal(spec.extFields?.['queueId'], '-1');
    assert.equal(spec.extFields?.['bname'], 'b');
    assert.equal(propertiesOf(spec.extFields, 'properties').get('UNIQ_KEY'), UNIQ);
  });

  test('generates a distinct 32-hex-char UNIQ_KEY when none is given', () => {
    const { uniqueId: _, ...params } = BASE;
    const first = sendMessageRequest(params);
    const second = sendMessageRequest(params);
    assert.match(first.uniqueId, /^[0-9A-F]{32}$/);
    assert.notEqual(first.uniqueId, second.uniqueId);
    assert.equal(propertiesOf(first.extFields).get('UNIQ_KEY'), first.uniqueId);
  });

  test('typed fields win over same-named free properties', () => {
    const spec = sendMessageRequest({
      ...BASE,
      tags: 'real',
      properties: { TAGS: 'shadowed', UNIQ_KEY: 'x' },
    });
    const properties = propertiesOf(spec.extFields);
    assert.equal(properties.get('TAGS'), 'real');
    assert.equal(properties.get('UNIQ_KEY'), UNIQ);
  });

  test('WAIT=false when the caller does not wait for the store', () => {
    assert.equal(
      propertiesOf(sendMessageRequest({ ...BASE, waitStoreMsgOk: false }).extFields).get('WAIT'),
      'false',
    );
  });

  test('a half message carries TRAN_MSG, PGROUP and the PREPARED sysFlag', () => {
    const spec = sendMessageRequest({ ...BASE, transactional: true, checkImmunitySeconds: 10 });
    assert.equal(spec.extFields?.['f'], '4');
    const properties = propertiesOf(spec.extFields);
    assert.equal(properties.get('TRAN_MSG'), 'true');
    assert.equal(properties.get('PGROUP'), 'PG_A');
    assert.equal(properties.get('CHECK_IMMUNITY_TIME_IN_SECONDS'), '10');
  });

  test('delays map to DELAY and the 5.x timer properties', () => {
    const cases = [
      [{ level: 3 }, 'DELAY', '3'],
      [{ deliverAtMs: 1700000060000 }, 'TIMER_DELIVER_MS', '1700000060000'],
      [{ delaySeconds: 30 }, 'TIMER_DELAY_SEC', '30'],
      [{ delayMs: 1500 }, 'TIMER_DELAY_MS', '1500'],
    ] as const;
    for (const [delay, key, value] of cases) {
      const properties = propertiesOf(sendMessageRequest({ ...BASE, delay }).extFields);
      assert.equal(properties.get(key), value, key);
    }
  });

  test('retry-topic sends move reconsume counts into the header', () => {
    const spec = sendMessageRequest({
      ...BASE,
      topic: '%RETRY%CG_A',
      reconsumeTimes: 3,
      maxReconsumeTimes: 16,
    });
    assert.equal(spec.extFields?.['j'], '3');
    assert.equal(spec.extFields?.['l'], '16');
  });

  for (const [compression, typeBits, inflate] of [
    ['ZLIB', 0x300, inflateSync],
    ['ZSTD', 0x200, zstdDecompressSync],
  ] as const) {
    test(`${compression} compression applies from 4 KiB and sets the sysFlag type`, () => {
      const body = Buffer.from('x'.repeat(5000));
      const spec = sendMessageRequest({ ...BASE, body, compression });
      assert.equal(Number(spec.extFields?.['f']), 0x1 | typeBits);
      assert.ok(spec.body!.length < body.length);
      assert.deepEqual(inflate(spec.body!), body);
      const small = sendMessageRequest({ ...BASE, compression });
      assert.equal(small.extFields?.['f'], '0');
      assert.deepEqual(small.body, Buffer.from('hello'));
    });
  }

  test('what a fake broker stores from the request decodes back to the message', () => {
    const spec = sendMessageRequest({
      ...BASE,
      tags: 'TagA',
      transactional: true,
      body: Buffer.alloc(6000, 1),
      compression: 'ZLIB',
    });
    const header = decodeSendHeader(spec.extFields!, sendHeaderFormOf(spec.code));
    const stored = decodeStoredMessage(
      encodeStoredMessage({
        topic: header.topic,
        body: spec.body!,
        sysFlag: header.sysFlag,
        properties: decodeProperties(header.properties ?? ''),
        bornTimestamp: header.bornTimestamp,
      }),
    );
    assert.deepEqual(stored.body, Buffer.alloc(6000, 1));
    assert.equal(stored.sysFlag & 0xc, 0x4);
    assert.equal(stored.properties.get('UNIQ_KEY'), UNIQ);
    assert.equal(stored.properties.get('TAGS'), 'TagA');
  });
});

describe('sendMessageRequest refuses what the broker would reject', () => {
  const cases: Array<[string, Partial<SendMessageParams>, string, RegExp]> = [
    ['blank topic', { topic: ' ' }, 'ILLEGAL_TOPIC', /topic is blank/],
    ['topic charset', { topic: 'Topic.A' }, 'ILLEGAL_TOPIC', /"Topic.A" contains characters outside/],
    ['topic over 127 chars', { topic: 'T'.repeat(128) }, 'ILLEGAL_TOPIC', /128 characters long \(max 127\)/],
    ['retry topic over 255 chars', { topic: `%RETRY%${'g'.repeat(249)}` }, 'ILLEGAL_TOPIC', /max 255/],
    ['system topic', { topic: 'RMQ_SYS_TRANS_HALF_TOPIC' }, 'ILLEGAL_TOPIC', /system topic/],
    ['blank producer group', { producerGroup: '' }, 'ILLEGAL_PRODUCER_GROUP', /blank/],
    ['empty body', { body: Buffer.alloc(0) }, 'MESSAGE_BODY_EMPTY', /message body is empty/],
    [
      'body over 4 MiB',
      { body: Buffer.alloc(4 * 1024 * 1024 + 1) },
      'MESSAGE_BODY_TOO_LARGE',
      /4194305 bytes, over the 4194304-byte limit/,
    ],
    [
      'body over a custom cap',
      { body: Buffer.alloc(11), maxBodyBytes: 10 },
      'MESSAGE_BODY_TOO_LARGE',
      /10-byte/,
    ],
    [
      'properties over 32767 bytes',
      { properties: { big: 'é'.repeat(16380) } },
      'MESSAGE_PROPERTIES_TOO_LARGE',
      /properties are \d+ bytes encoded \(max 32767\)/,
    ],
    [
      'separator inside a property value',
      { properties: { a: 'x\u0001y' } },
      'ILLEGAL_MESSAGE_PROPERTY',
      /property "a" has a value that is contains U\+0001/,
    ],
    [
      'empty property value',
      { properties: { a: '' } },
      'ILLEGAL_MESSAGE_PROPERTY',
      /"a" has a value that is empty/,
    ],
    [
      'empty property key',
      { properties: { '': 'v' } },
      'ILLEGAL_MESSAGE_PROPERTY',
      /has a key that is empty/,
    ],
    ['tag with ||', { tags: 'a||b' }, 'ILLEGAL_MESSAGE_TAG', /"a\|\|b"/],
    ['key with a space', { keys: ['a b'] }, 'ILLEGAL_MESSAGE_KEY', /"a b"/],
    ['delay level 0', { delay: { level: 0 } }, 'ILLEGAL_DELIVERY_TIME', /delay level 0/],
    ['negative delivery time', { delay: { deliverAtMs: -1 } }, 'ILLEGAL_DELIVERY_TIME', /delivery time -1/],
    [
      'delayed half message',
      { transactional: true, delay: { delaySeconds: 5 } },
      'ILLEGAL_DELIVERY_TIME',
      /transactional \(half\) message cannot be delayed/,
    ],
    ['queueId below -1', { queueId: -2 }, 'ILLEGAL_ARGUMENT', /queueId -2/],
    ['flag beyond int32', { flag: 2 ** 31 }, 'ILLEGAL_ARGUMENT', /flag 2147483648 is not an int32/],
    [
      'reconsume count on a normal topic',
      { reconsumeTimes: 1 },
      'ILLEGAL_ARGUMENT',
      /only apply to %RETRY% topics/,
    ],
  ];
  for (const [name, override, problem, pattern] of cases) {
    test(name, () => assertProblem(() => sendMessageRequest({ ...BASE, ...override }), problem, pattern));
  }

  test('validation errors are RangeErrors, not peer (Remoting) errors', () => {
    assert.throws(
      () => sendMessageRequest({ ...BASE, topic: '' }),
      (error: unknown) => {
        return error instanceof RangeError && !(error instanceof RemotingError);
      },
    );
  });
});

describe('sendBatchRequest', () => {
  test('builds SEND_BATCH_MESSAGE with V2 keys, m=true and one record per message', () => {
    const spec = sendBatchRequest({
      producerGroup: 'PG_A',
      topic: 'TopicTest',
      brokerName: 'broker-a',
      uniqueId: 'BATCH',
      bornTimestamp: 1700000000000,
      messages: [
        { body: Buffer.from('one'), tags: 'A', uniqueId: 'U1', flag: 1 },
        { body: Buffer.from('two'), keys: 'k2', uniqueId: 'U2' },
      ],
    });
    assert.equal(spec.code, 320);
    assert.deepEqual(spec.uniqueIds, ['U1', 'U2']);
    const { i, ...rest } = spec.extFields ?? {};
    assert.deepEqual(rest, {
      a: 'PG_A',
      b: 'TopicTest',
      c: 'TBW102',
      d: '4',
      e: '-1',
      f: '0',
      g: '1700000000000',
      h: '0',
      j: '0',
      k: 'false',
      m: 'true',
      n: 'broker-a',
    });
    assert.deepEqual(
      decodeProperties(i ?? ''),
      new Map([
        ['WAIT', 'true'],
        ['UNIQ_KEY', 'BATCH'],
      ]),
    );
    const entries = decodeBatchBody(spec.body!);
    assert.deepEqual(
      entries.map((entry) => [
        entry.flag,
        Buffer.from(entry.body).toString(),
        decodeProperties(entry.properties),
      ]),
      [
        [
          1,
          'one',
          new Map([
            ['TAGS', 'A'],
            ['WAIT', 'true'],
            ['UNIQ_KEY', 'U1'],
          ]),
        ],
        [
          0,
          'two',
          new Map([
            ['KEYS', 'k2'],
            ['WAIT', 'true'],
            ['UNIQ_KEY', 'U2'],
          ]),
        ],
      ],
    );
  });

  test('each message gets its own generated UNIQ_KEY', () => {
    const spec = sendBatchRequest({
      producerGroup: 'PG',
      topic: 'T',
      messages: [{ body: Buffer.from('a') }, { body: Buffer.from('b') }],
    });
    assert.equal(new Set([...spec.uniqueIds, spec.uniqueId]).size, 3);
    const stored = decodeBatchBody(spec.body!).map((entry) =>
      decodeProperties(entry.properties).get('UNIQ_KEY'),
    );
    assert.deepEqual(stored, spec.uniqueIds);
  });

  const base = { producerGroup: 'PG', topic: 'T', messages: [{ body: Buffer.from('a') }] };
  test('refuses retry topics, empty batches, delays, bad messages and oversized bodies', () => {
    assertProblem(() => sendBatchRequest({ ...base, topic: '%RETRY%G' }), 'ILLEGAL_TOPIC', /retry topic/);
    assertProblem(() => sendBatchRequest({ ...base, messages: [] }), 'MESSAGE_BODY_EMPTY', /at least one/);
    assertProblem(
      () => sendBatchRequest({ ...base, messages: [{ body: Buffer.from('a'), properties: { DELAY: '2' } }] }),
      'ILLEGAL_DELIVERY_TIME',
      /batch message 0: delay levels are not supported/,
    );
    assertProblem(
      () => sendBatchRequest({ ...base, messages: [{ body: Buffer.from('a') }, { body: Buffer.alloc(0) }] }),
      'MESSAGE_BODY_EMPTY',
      /batch message 1 body is empty/,
    );
    assertProblem(
      () =>
        sendBatchRequest({ ...base, messages: [{ body: Buffer.from('a'), properties: { x: '\u0002' } }] }),
      'ILLEGAL_MESSAGE_PROPERTY',
      /batch message 0: property "x"/,
    );
    assertProblem(
      () =>
        sendBatchRequest({
          ...base,
          maxBodyBytes: 100,
          messages: [{ body: Buffer.alloc(60) }, { body: Buffer.alloc(60) }],
        }),
      'MESSAGE_BODY_TOO_LARGE',
      /batch body is \d+ bytes, over the 100-byte limit/,
    );
  });
});

describe('parseSendResult', () => {
  const headers = {
    msgId: '0A00000500002A9F0000000000001000',
    queueId: '3',
    queueOffset: '42',
    transactionId: UNIQ,
    MSG_REGION: 'DefaultRegion',
    TRACE_ON: 'true',
  };

  test('SUCCESS is SEND_OK with the client id as msgId and the offset id separately', () => {
    assert.deepEqual(parseSendResult(response(0, headers), { uniqueId: UNIQ }), {
      status: 'SEND_OK',
      msgId: UNIQ,
      offsetMsgId: '0A00000500002A9F0000000000001000',
      queueId: 3,
      queueOffset: 42,
      transactionId: UNIQ,
      regionId: 'DefaultRegion',
      traceOn: true,
      recallHandle: undefined,
      batchUniqId: undefined,
    });
  });

  test('codes 10, 11 and 12 are stored sends with a degraded status', () => {
    assert.equal(parseSendResult(response(10, headers)).status, 'FLUSH_DISK_TIMEOUT');
    assert.equal(parseSendResult(response(11, headers)).status, 'SLAVE_NOT_AVAILABLE');
    assert.equal(parseSendResult(response(12, headers)).status, 'FLUSH_SLAVE_TIMEOUT');
  });

  test('other codes throw RemotingResponseError with the broker code and remark', () => {
    const failure = { ...response(13, {}), remark: 'msg body must be less 64KB' };
    assert.throws(
      () => parseSendResult(failure),
      (error: unknown) =>
        error instanceof RemotingResponseError &&
        error.responseCode === 13 &&
        error.errorCode === 'RMQ_MESSAGE_ILLEGAL' &&
        /64KB/.test(error.message),
    );
  });

  test('missing or malformed header fields are RMQ_BAD_PAYLOAD naming the field', () => {
    const { msgId: _, ...noMsgId } = headers;
    assert.throws(() => parseSendResult(response(0, noMsgId)), {
      code: 'RMQ_BAD_PAYLOAD',
      message: /"msgId"/,
    });
    assert.throws(() => parseSendResult(response(0, { ...headers, queueOffset: 'x' })), {
      code: 'RMQ_BAD_PAYLOAD',
      message: /"queueOffset"/,
    });
  });

  test('without the request the broker transactionId stands in; region and trace defaults follow Java', () => {
    const result = parseSendResult(
      response(0, { ...headers, MSG_REGION: '', TRACE_ON: 'false', recallHandle: 'h' }),
    );
    assert.equal(result.msgId, UNIQ);
    assert.equal(result.regionId, 'DefaultRegion');
    assert.equal(result.traceOn, false);
    assert.equal(result.recallHandle, 'h');
    const { transactionId: _, MSG_REGION: __, TRACE_ON: ___, ...bare } = headers;
    const minimal = parseSendResult(response(0, bare));
    assert.equal(minimal.msgId, headers.msgId);
    assert.equal(minimal.regionId, 'DefaultRegion');
    assert.equal(minimal.traceOn, true);
  });

  test('a batch reports its messages ids joined, unless stored as one inner batch', () => {
    const batchHeaders = { ...headers, msgId: 'OFF1,OFF2' };
    const request = { uniqueId: 'BATCH', uniqueIds: ['U1', 'U2'] };
    assert.equal(parseSendResult(response(0, batchHeaders), request).msgId, 'U1,U2');
    assert.equal(parseSendResult(response(0, batchHeaders), request).offsetMsgId, 'OFF1,OFF2');
    const inner = parseSendResult(response(0, { ...batchHeaders, batchUniqId: 'BATCH' }), request);
    assert.equal(inner.msgId, 'BATCH');
    assert.equal(inner.batchUniqId, 'BATCH');
  });
});
