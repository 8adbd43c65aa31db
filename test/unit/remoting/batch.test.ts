import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { RemotingError } from '../../../proxy/src/remoting/errors.ts';
import {
  type BatchEntry,
  decodeBatchBody,
  encodeBatchBody,
} from '../../../proxy/src/remoting/message/batch.ts';
import { encodeProperties, MAX_PROPERTIES_BYTES } from '../../../proxy/src/remoting/message/properties.ts';

function plainEntries(entries: readonly BatchEntry[]): unknown[] {
  return entries.map((e) => ({
    flag: e.flag,
    body: Buffer.from(e.body).toString('hex'),
    properties: e.properties,
  }));
}

function badPayload(body: Buffer, message: RegExp): void {
  assert.throws(
    () => decodeBatchBody(body),
    (error: unknown) => {
      assert.ok(error instanceof RemotingError, String(error));
      assert.equal(error.code, 'RMQ_BAD_PAYLOAD');
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('SEND_BATCH_MESSAGE body (§4.4)', () => {
  const one: BatchEntry = {
    flag: 7,
    body: Buffer.from('hi'),
    properties: encodeProperties({ UNIQ_KEY: 'A', TAGS: 'T' }),
  };

  test('record layout: totalSize, magic 0, CRC 0, flag, body, i16 properties length, properties', () => {
    const bytes = encodeBatchBody([one]);
    const properties = 'UNIQ_KEY\u0001A\u0002TAGS\u0001T\u0002';
    const expected = Buffer.concat([
      Buffer.from([0, 0, 0, 22 + 2 + properties.length]),
      Buffer.alloc(8),
      Buffer.from([0, 0, 0, 7, 0, 0, 0, 2]),
      Buffer.from('hi'),
      Buffer.from([0, properties.length]),
      Buffer.from(properties),
    ]);
    assert.equal(bytes.toString('hex'), expected.toString('hex'));
  });

  test('records follow each other with no count or outer length', () => {
    const two = encodeBatchBody([
      one,
      { flag: 0, body: new Uint8Array(), properties: 'UNIQ_KEY\u0001B\u0002' },
    ]);
    const first = two.readInt32BE(0);
    assert.equal(two.readInt32BE(first), two.length - first);
    assert.deepEqual(plainEntries(decodeBatchBody(two)), [
      { flag: 7, body: '6869', properties: one.properties },
      { flag: 0, body: '', properties: 'UNIQ_KEY\u0001B\u0002' },
    ]);
  });

  test('no entries encode to an empty body, which decodes to no entries', () => {
    assert.equal(encodeBatchBody([]).length, 0);
    assert.deepEqual(decodeBatchBody(Buffer.alloc(0)), []);
  });

  test('round trip for any entries, Unicode properties included (fast-check)', () => {
    const entry = fc.record({
      flag: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      body: fc.uint8Array({ maxLength: 300 }),
      properties: fc.string({ unit: 'grapheme', maxLength: 60 }),
    });
    fc.assert(
      fc.property(fc.array(entry, { maxLength: 8 }), (entries) => {
        const decoded = decodeBatchBody(encodeBatchBody(entries));
        assert.deepEqual(plainEntries(decoded), plainEntries(entries));
      }),
      { numRuns: 300 },
    );
  });

  test('properties are limited to 32767 UTF-8 bytes per message', () => {
    const atLimit = { flag: 0, body: new Uint8Array(1), properties: 'x'.repeat(MAX_PROPERTIES_BYTES) };
    assert.equal(decodeBatchBody(encodeBatchBody([atLimit]))[0]!.properties.length, MAX_PROPERTIES_BYTES);
    // 10923 three-byte characters = 32769 bytes, though only 10923 UTF-16 units.
    const over = { flag: 0, body: new Uint8Array(1), properties: '中'.repeat(10923) };
    assert.throws(() => encodeBatchBody([one, over]), {
      code: 'RMQ_BAD_PAYLOAD',
      message: /batch message 1: properties are 32769 bytes \(max 32767\)/,
    });
  });
});

describe('SEND_BATCH_MESSAGE body: malformed input', () => {
  const good = encodeBatchBody([
    { flag: 1, body: Buffer.from('abc'), properties: 'k\u0001v\u0002' },
    { flag: 2, body: Buffer.from('de'), properties: 'k\u0001w\u0002' },
  ]);
  const firstSize = good.readInt32BE(0);

  test('a record shorter than its fixed fields', () => {
    badPayload(good.subarray(0, 10), /batch record 0 at offset 0: truncated header/);
    badPayload(good.subarray(0, firstSize + 21), /batch record 1 at offset 29: truncated header/);
  });

  test('totalSize below the fixed size or beyond the buffer', () => {
    const small = Buffer.from(good);
    small.writeInt32BE(21, 0);
    badPayload(small, /totalSize 21 out of range/);
    const large = Buffer.from(good);
    large.writeInt32BE(good.length + 1, 0);
    badPayload(large, /totalSize \d+ out of range/);
    const negative = Buffer.from(good);
    negative.writeInt32BE(-1, 0);
    badPayload(negative, /totalSize -1 out of range/);
  });

  test('bodyLength negative or past the record', () => {
    const negative = Buffer.from(good);
    negative.writeInt32BE(-3, 16);
    badPayload(negative, /bodyLength -3 out of range/);
    const tooLong = Buffer.from(good);
    tooLong.writeInt32BE(firstSize, 16);
    badPayload(tooLong, /bodyLength \d+ out of range/);
  });

  test('propertiesLength that disagrees with totalSize', () => {
    const bytes = Buffer.from(good);
    bytes.writeInt16BE(5, 20 + 3);
    badPayload(bytes, /propertiesLength 5 disagrees with totalSize 29/);
    const negative = Buffer.from(good);
    negative.writeInt16BE(-1, 20 + 3);
    badPayload(negative, /propertiesLength -1 disagrees/);
  });

  test('fuzz: random and mutated bodies only raise RMQ_BAD_PAYLOAD', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
          fc
            .tuple(
              fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
              fc.nat(),
            )
            .map(([flips, cut]) => {
              const bytes = Buffer.from(good);
              for (const [at, value] of flips) bytes[at % bytes.length] = value;
              return bytes.subarray(0, bytes.length - (cut % 8));
            }),
        ),
        (bytes) => {
          try {
            for (const entry of decodeBatchBody(bytes)) assert.ok(entry.body.length <= bytes.length);
          } catch (error) {
            assert.ok(error instanceof RemotingError && error.code === 'RMQ_BAD_PAYLOAD', String(error));
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
