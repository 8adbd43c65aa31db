import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deflateSync, zstdCompressSync } from 'node:zlib';
import fc from 'fast-check';
import { RemotingError } from '../../../proxy/src/remoting/errors.ts';
import {
  decodeStoredMessage,
  decodeStoredMessages,
} from '../../../proxy/src/remoting/message/stored-message.ts';
import { MessageSysFlag } from '../../../proxy/src/remoting/message/sysflag.ts';
import {
  encodeStoredMessage,
  type StoredMessageInput,
} from '../../support/remoting/stored-message-encoder.ts';

// remoting.md §4.5 test vector (the spec elides the middle of the UNIQ_KEY; this one keeps its 7F…AB ends).
const UNIQ_KEY = '7F0000010FA018B4AAC2000000000ABB';
const VECTOR_HEX =
  '0000009c' + // TOTALSIZE 156
  'daa320a7' + // MAGICCODE V1
  '58932aac' + // BODYCRC = crc32("hi") & 0x7fffffff
  '00000001' + // QUEUEID
  '00000000' + // FLAG
  '0000000000000005' + // QUEUEOFFSET
  '0000000000001000' + // PHYSICALOFFSET
  '00000000' + // SYSFLAG
  '0000018bcfe56800' + // BORNTIMESTAMP 1700000000000
  '7f0000010000d431' + // BORNHOST 127.0.0.1:54321
  '0000018bcfe56805' + // STORETIMESTAMP
  '0a00000500002a9f' + // STOREHOST 10.0.0.5:10911
  '00000000' + // RECONSUMETIMES
  '0000000000000000' + // PREPARED TRANSACTION OFFSET
  '000000026869' + // BODY "hi"
  '0154' + // TOPIC "T"
  '003e' + // PROPERTIESLENGTH 62
  Buffer.from(`UNIQ_KEY\u0001${UNIQ_KEY}\u0002WAIT\u0001true\u0002TAGS\u0001TagA\u0002`).toString('hex');

const VECTOR_INPUT: StoredMessageInput = {
  topic: 'T',
  body: Buffer.from('hi'),
  queueId: 1,
  queueOffset: 5,
  commitLogOffset: 4096,
  bornTimestamp: 1700000000000,
  bornHost: '127.0.0.1:54321',
  storeTimestamp: 1700000000005,
  storeHost: '10.0.0.5:10911',
  properties: new Map([
    ['UNIQ_KEY', UNIQ_KEY],
    ['WAIT', 'true'],
    ['TAGS', 'TagA'],
  ]),
};

// Field positions in an IPv4 V1 record.
const SYSFLAG_AT = 36;
const BODYLENGTH_AT = 84;
const BODY_AT = 88;

function vector(): Buffer {
  return Buffer.from(VECTOR_HEX, 'hex');
}

function assertBadPayload(fn: () => unknown, fieldPattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof RemotingError, `expected RemotingError, got ${String(error)}`);
    assert.equal(error.code, 'RMQ_BAD_PAYLOAD');
    assert.match(error.message, fieldPattern);
    return true;
  });
}

describe('stored message: the §4.5 vector', () => {
  test('encodes byte for byte', () => {
    assert.equal(encodeStoredMessage(VECTOR_INPUT).toString('hex'), VECTOR_HEX);
  });

  test('decodes every field and derives the offset message id', () => {
    const message = decodeStoredMessage(vector());
    assert.deepEqual(message, {
      topic: 'T',
      queueId: 1,
      queueOffset: 5,
      commitLogOffset: 4096,
      sysFlag: 0,
      flag: 0,
      bodyCrc: 0x58932aac,
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
      bornTimestamp: 1700000000000,
      bornHost: '127.0.0.1:54321',
      storeTimestamp: 1700000000005,
      storeHost: '10.0.0.5:10911',
      storeSize: 156,
      body: Buffer.from('hi'),
      properties: new Map([
        ['UNIQ_KEY', UNIQ_KEY],
        ['WAIT', 'true'],
        ['TAGS', 'TagA'],
      ]),
      msgId: '0A00000500002A9F0000000000001000',
    });
  });

  test('a body of several records decodes in order; an empty body has none', () => {
    const second = encodeStoredMessage({ ...VECTOR_INPUT, queueOffset: 6, commitLogOffset: 4252 });
    const messages = decodeStoredMessages(Buffer.concat([vector(), second]));
    assert.deepEqual(
      messages.map((m) => [m.queueOffset, m.msgId]),
      [
        [5, '0A00000500002A9F0000000000001000'],
        [6, '0A00000500002A9F000000000000109C'],
      ],
    );
    assert.deepEqual(decodeStoredMessages(Buffer.alloc(0)), []);
  });

  test('the decoded body does not alias the response buffer', () => {
    const record = vector();
    const message = decodeStoredMessage(record);
    record.fill(0, BODY_AT, BODY_AT + 2);
    assert.equal(message.body.toString(), 'hi');
  });
});

describe('stored message: layout variants', () => {
  test('IPv6 born/store hosts switch on the sysFlag bits and give a 56-char message id', () => {
    const record = encodeStoredMessage({
      ...VECTOR_INPUT,
      bornHost: '[::1]:40000',
      storeHost: '[2001:db8::5]:10911',
    });
    assert.equal(record.length, 156 + 12 + 12);
    const flags = record.readInt32BE(SYSFLAG_AT);
    assert.equal(flags & MessageSysFlag.BORNHOST_V6, MessageSysFlag.BORNHOST_V6);
    assert.equal(flags & MessageSysFlag.STOREHOST_V6, MessageSysFlag.STOREHOST_V6);
    const message = decodeStoredMessage(record);
    assert.equal(message.bornHost, '[::1]:40000');
    assert.equal(message.storeHost, '[2001:db8::5]:10911');
    assert.equal(message.msgId, '20010DB800000000000000000000000500002A9F0000000000001000');
    assert.equal(message.body.toString(), 'hi');
  });

  test('only the born host may be IPv6', () => {
    const message = decodeStoredMessage(encodeStoredMessage({ ...VECTOR_INPUT, bornHost: '[fe80::7]:1' }));
    assert.equal(message.bornHost, '[fe80::7]:1');
    assert.equal(message.storeHost, '10.0.0.5:10911');
    assert.equal(message.msgId.length, 32);
  });

  test('topics over 127 bytes use magic V2 with a two-byte topic length', () => {
    const topic = 'L'.repeat(300);
    const record = encodeStoredMessage({ ...VECTOR_INPUT, topic });
    assert.equal(record.readInt32BE(4), -626843477);
    assert.equal(record.readInt16BE(BODY_AT + 2), 300);
    assert.equal(decodeStoredMessage(record).topic, topic);
  });

  test('a V1 topic length byte is read unsigned (retry topics of up to 255 bytes)', () => {
    const topic = `%RETRY%${'g'.repeat(120)}+${'t'.repeat(60)}`;
    const record = encodeStoredMessage({ ...VECTOR_INPUT, topic, version: 'V1' });
    assert.equal(record[BODY_AT + 2], topic.length);
    assert.equal(decodeStoredMessage(record).topic, topic);
  });

  test('a multi-byte UTF-8 topic and property values survive', () => {
    const message = decodeStoredMessage(
      encodeStoredMessage({ ...VECTOR_INPUT, topic: 'Tópico', properties: { KEYS: '键 ключ' } }),
    );
    assert.equal(message.topic, 'Tópico');
    assert.equal(message.properties.get('KEYS'), '键 ключ');
  });

  for (const compression of ['ZLIB', 'LZ4', 'ZSTD'] as const) {
    test(`${compression} bodies are decompressed and COMPRESSED is cleared (type bits kept)`, () => {
      const body = Buffer.from('compressible '.repeat(20000));
      const record = encodeStoredMessage({ ...VECTOR_INPUT, body, compression });
      const storedFlags = record.readInt32BE(SYSFLAG_AT);
      assert.equal(storedFlags & MessageSysFlag.COMPRESSED, MessageSysFlag.COMPRESSED);
      const message = decodeStoredMessage(record);
      assert.deepEqual(message.body, body);
      assert.equal(message.sysFlag & MessageSysFlag.COMPRESSED, 0);
      assert.equal(message.sysFlag & MessageSysFlag.COMPRESSION_TYPE_MASK, storedFlags & 0x700);
    });
  }

  // Produced by the lz4 1.9 and zstd 1.5 command-line tools and by zlib at level 5 (what Java uses).
  const REFERENCE_TEXT = 'RocketMQ RocketMQ RocketMQ RocketMQ RocketMQ!';
  for (const [name, sysFlag, hex] of [
    ['lz4 CLI', 0x101, '04224d186440a7130000009f526f636b65744d512009000c5065744d51210000000043a11ac1'],
    ['zstd CLI', 0x201, '28b52ffd242d85000050526f636b65744d51202101004896235dc403f7'],
    ['zlib level 5', 0x301, '785e0bca4fce4e2df10d540822cc50040070a80fc0'],
  ] as const) {
    test(`a body compressed by ${name} decodes`, () => {
      const record = encodeStoredMessage({ ...VECTOR_INPUT, body: Buffer.from(hex, 'hex'), sysFlag });
      assert.equal(decodeStoredMessage(record).body.toString(), REFERENCE_TEXT);
    });
  }

  test('COMPRESSED without type bits means zlib (pre-5.x producers)', () => {
    const body = Buffer.from('legacy client body');
    const record = encodeStoredMessage({
      ...VECTOR_INPUT,
      body: deflateSync(body),
      sysFlag: MessageSysFlag.COMPRESSED,
    });
    assert.deepEqual(decodeStoredMessage(record).body, body);
  });

  test('an empty body stays empty even when flagged compressed', () => {
    const record = encodeStoredMessage({ ...VECTOR_INPUT, body: Buffer.alloc(0), sysFlag: 1 });
    assert.equal(decodeStoredMessage(record).body.length, 0);
  });

  test('the transaction type and other sysFlag bits pass through', () => {
    const record = encodeStoredMessage({ ...VECTOR_INPUT, sysFlag: 0x4 | MessageSysFlag.MULTI_TAGS });
    assert.equal(decodeStoredMessage(record).sysFlag, 0x6);
  });
});

describe('stored message: malformed input names the field', () => {
  const cases: Array<[string, () => Buffer, RegExp]> = [
    ['TOTALSIZE truncated', () => vector().subarray(0, 3), /TOTALSIZE truncated/],
    ['TOTALSIZE beyond the body', () => vector().subarray(0, 155), /TOTALSIZE 156 runs past the end/],
    ['TOTALSIZE negative', () => patch32(vector(), 0, -5), /TOTALSIZE -5 is too small/],
    [
      'TOTALSIZE larger than the fields',
      () => patch32(Buffer.concat([vector(), Buffer.alloc(1)]), 0, 157),
      /TOTALSIZE 157 disagrees with the fields, which end at byte 156/,
    ],
    ['TOTALSIZE smaller than the fields', () => patch32(vector(), 0, 150), /TOTALSIZE/],
    ['bad magic', () => patch32(vector(), 4, 0x12345678), /bad MAGICCODE 0x12345678/],
    ['blank magic', () => patch32(vector(), 4, -875286124), /MAGICCODE is the end-of-file blank marker/],
    ['negative body length', () => patch32(vector(), BODYLENGTH_AT, -1), /BODYLENGTH -1 is negative/],
    ['body length past the end', () => patch32(vector(), BODYLENGTH_AT, 1000), /BODY \(1000 bytes/],
    [
      'topic length past the end',
      () => patchByte(vector(), BODY_AT + 2, 200),
      /TOPIC \(200 bytes at byte 91\) runs past TOTALSIZE 156/,
    ],
    ['properties length past the end', () => patch16(vector(), 92, 100), /PROPERTIES \(100 bytes/],
    ['negative properties length', () => patch16(vector(), 92, -2), /PROPERTIESLENGTH -2 is negative/],
    ['store host port out of range', () => patch32(vector(), 68, 70000), /STOREHOST port 70000/],
    ['born host port negative', () => patch32(vector(), 52, -1), /BORNHOST port -1/],
    ['queue offset beyond 2^53', () => patch32(vector(), 20, 0x7fffffff), /QUEUEOFFSET exceeds/],
    [
      'IPv6 flag on an IPv4 record',
      () => patch32(vector(), SYSFLAG_AT, 0x20),
      /^stored message 0 at byte 0: /,
    ],
    ['unknown compression type', () => patch32(vector(), SYSFLAG_AT, 0x701), /SYSFLAG: .*compression type 7/],
    ['corrupt zlib body', () => patch32(vector(), SYSFLAG_AT, 0x301), /BODY \(ZLIB\) does not decompress/],
    ['corrupt LZ4 body', () => patch32(vector(), SYSFLAG_AT, 0x101), /BODY \(LZ4\) does not decompress/],
    ['corrupt ZSTD body', () => patch32(vector(), SYSFLAG_AT, 0x201), /BODY \(ZSTD\) does not decompress/],
  ];
  for (const [name, make, pattern] of cases) {
    test(name, () => {
      const bytes = make();
      assertBadPayload(() => decodeStoredMessages(bytes), pattern);
    });
  }

  test('errors say which record of a body failed', () => {
    const body = Buffer.concat([vector(), patch32(vector(), 4, 0)]);
    assertBadPayload(() => decodeStoredMessages(body), /stored message 1 at byte 156: bad MAGICCODE/);
  });

  test('decodeStoredMessage insists on exactly one record', () => {
    assertBadPayload(
      () => decodeStoredMessage(Buffer.concat([vector(), vector()])),
      /TOTALSIZE 156 disagrees with the 312-byte buffer/,
    );
    assertBadPayload(() => decodeStoredMessage(Buffer.alloc(0)), /TOTALSIZE truncated/);
  });

  for (const [name, compressed] of [
    ['ZLIB', { body: deflateSync(Buffer.alloc(1 << 20)), sysFlag: 0x301 }],
    ['ZSTD', { body: zstdCompressSync(Buffer.alloc(1 << 20)), sysFlag: 0x201 }],
  ] as const) {
    test(`a ${name} decompression bomb beyond maxBodyBytes is refused`, () => {
      const record = encodeStoredMessage({ ...VECTOR_INPUT, ...compressed });
      assertBadPayload(
        () => decodeStoredMessage(record, { maxBodyBytes: 64 * 1024 }),
        new RegExp(`BODY \\(${name}\\) decompresses to more than maxBodyBytes 65536`),
      );
      assert.equal(decodeStoredMessage(record, { maxBodyBytes: 1 << 20 }).body.length, 1 << 20);
    });
  }

  test('an LZ4 body beyond maxBodyBytes is refused', () => {
    const record = encodeStoredMessage({ ...VECTOR_INPUT, body: Buffer.alloc(200_000), compression: 'LZ4' });
    assertBadPayload(() => decodeStoredMessage(record, { maxBodyBytes: 100_000 }), /BODY \(LZ4\).*exceeds/);
  });

  test('the default cap is 16 MiB', () => {
    const record = encodeStoredMessage({
      ...VECTOR_INPUT,
      body: zstdCompressSync(Buffer.alloc(16 * 1024 * 1024 + 1)),
      sysFlag: 0x201,
    });
    assertBadPayload(() => decodeStoredMessage(record), /maxBodyBytes 16777216/);
  });
});

function patch32(buffer: Buffer, at: number, value: number): Buffer {
  buffer.writeInt32BE(value, at);
  return buffer;
}

function patch16(buffer: Buffer, at: number, value: number): Buffer {
  buffer.writeInt16BE(value, at);
  return buffer;
}

function patchByte(buffer: Buffer, at: number, value: number): Buffer {
  buffer[at] = value;
  return buffer;
}

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const long = fc.maxSafeInteger();
const ipv4Host = fc.tuple(fc.ipV4(), fc.integer({ min: 0, max: 65535 })).map(([ip, port]) => `${ip}:${port}`);
const ipv6Host = fc
  .tuple(fc.ipV6(), fc.integer({ min: 0, max: 65535 }))
  .map(([ip, port]) => `[${ip}]:${port}`);
const host = fc.oneof(ipv4Host, ipv6Host);
const propertyText = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
  .filter((text) => !text.includes('\u0001') && !text.includes('\u0002'));
const topicText = fc.stringMatching(/^[%|a-zA-Z0-9_-]{1,300}$/);

const inputArbitrary: fc.Arbitrary<StoredMessageInput> = fc.record({
  topic: topicText,
  body: fc.uint8Array({ maxLength: 2000 }),
  queueId: int32,
  queueOffset: long,
  commitLogOffset: long,
  // Keep the compression, transaction and host bits for the encoder to decide.
  sysFlag: int32.map((flag) => flag & ~0x731),
  flag: int32,
  reconsumeTimes: int32,
  preparedTransactionOffset: long,
  bornTimestamp: long,
  bornHost: host,
  storeTimestamp: long,
  storeHost: host,
  properties: fc
    .dictionary(propertyText, propertyText, { maxKeys: 8 })
    .map((record) => new Map(Object.entries(record))),
  compression: fc.constantFrom(undefined, 'ZLIB' as const, 'LZ4' as const, 'ZSTD' as const),
});

describe('stored message: properties and fuzzing', () => {
  test('encode → decode round-trips every field', () => {
    fc.assert(
      fc.property(inputArbitrary, (input) => {
        const record = encodeStoredMessage(input);
        const message = decodeStoredMessage(record);
        assert.equal(message.topic, input.topic);
        assert.deepEqual(message.body, Buffer.from(input.body));
        assert.deepEqual(message.properties, input.properties);
        assert.equal(message.storeSize, record.length);
        for (const key of [
          'queueId',
          'queueOffset',
          'commitLogOffset',
          'flag',
          'reconsumeTimes',
          'preparedTransactionOffset',
          'bornTimestamp',
          'storeTimestamp',
        ] as const) {
          assert.equal(message[key], input[key], key);
        }
        // Canonical address text: parse-and-format may normalise IPv6 spelling.
        assert.equal(canonicalHost(message.bornHost), canonicalHost(input.bornHost!));
        assert.equal(canonicalHost(message.storeHost), canonicalHost(input.storeHost!));
        assert.equal(message.sysFlag & ~0x730, input.sysFlag);
        assert.equal(decodeStoredMessages(Buffer.concat([record, record])).length, 2);
      }),
      { numRuns: 300 },
    );
  });

  test('10,000 random and mutated records only ever throw RemotingError', () => {
    const seeds = [
      vector(),
      encodeStoredMessage({
        ...VECTOR_INPUT,
        bornHost: '[::1]:1',
        storeHost: '[::2]:2',
        topic: 'x'.repeat(140),
      }),
      encodeStoredMessage({ ...VECTOR_INPUT, body: Buffer.alloc(3000, 1), compression: 'ZLIB' }),
      encodeStoredMessage({ ...VECTOR_INPUT, body: Buffer.alloc(3000, 2), compression: 'LZ4' }),
      encodeStoredMessage({ ...VECTOR_INPUT, body: Buffer.alloc(3000, 3), compression: 'ZSTD' }),
    ];
    const mutated = fc
      .tuple(
        fc.constantFrom(...seeds),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat(), { nil: undefined }),
      )
      .map(([seed, edits, cut]) => {
        const bytes = Buffer.from(seed);
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        return cut === undefined ? bytes : bytes.subarray(0, cut % (bytes.length + 1));
      });
    const random = fc.uint8Array({ maxLength: 400 }).map((bytes) => Buffer.from(bytes));
    let decoded = 0;
    fc.assert(
      fc.property(fc.oneof(mutated, random), (bytes) => {
        try {
          decoded += decodeStoredMessages(bytes, { maxBodyBytes: 1 << 20 }).length;
        } catch (error) {
          if (!(error instanceof RemotingError) || error.code !== 'RMQ_BAD_PAYLOAD') throw error;
        }
      }),
      { numRuns: 10_000 },
    );
    assert.ok(decoded > 0, 'some mutations (e.g. of the CRC or timestamps) must still decode');
  });
});

function canonicalHost(address: string): string {
  return decodeStoredMessage(encodeStoredMessage({ topic: 't', body: Buffer.alloc(0), storeHost: address }))
    .storeHost;
}
