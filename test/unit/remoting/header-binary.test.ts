import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { RemotingCommand } from '../../../proxy/src/remoting/command.ts';
import { RemotingError } from '../../../proxy/src/remoting/errors.ts';
import { decodeBinaryHeader, encodeBinaryHeader } from '../../../proxy/src/remoting/header-binary.ts';

// remoting.md §1.4 / §9 vector 2: the header part (41 bytes) of GET_ROUTEINFO_BY_TOPIC.
const ROUTE_HEADER_HEX = '00690001df000000010000000000000000000000140005746f70696300000009546f70696354657374';

// §9 vector 4: Java-produced ROCKETMQ-encoded PULL_MESSAGE response (rocketmq-rust golden fixture
// pull-response-fast-rocketmq): language RUST, version 501, opaque 7.
const PULL_RESPONSE_FRAME_BASE64 =
  'AAAAugEAALYACwwB9QAAAAcAAAAAAAAAAAAAAKEAFHN1Z2dlc3RXaGljaEJyb2tlcklkAAAAATEAD25leHRCZWdpbk9mZnNldAAAAAItMgAJbWluT2Zmc2V0AAAAAi0zAAltYXhPZmZzZXQAAAACOTkAC29mZnNldERlbHRhAAAAAi01AAx0b3BpY1N5c0ZsYWcAAAABNgAMZ3JvdXBTeXNGbGFnAAAAATcADWZvcmJpZGRlblR5cGUAAAABOA==';
// In the order Java wrote them, so that re-encoding reproduces the bytes.
const PULL_RESPONSE: RemotingCommand = {
  code: 11,
  language: 'RUST',
  version: 501,
  opaque: 7,
  flag: 0,
  extFields: {
    suggestWhichBrokerId: '1',
    nextBeginOffset: '-2',
    minOffset: '-3',
    maxOffset: '99',
    offsetDelta: '-5',
    topicSysFlag: '6',
    groupSysFlag: '7',
    forbiddenType: '8',
  },
};

const route: RemotingCommand = {
  code: 105,
  language: 'JAVA',
  version: 479,
  opaque: 1,
  flag: 0,
  extFields: { topic: 'TopicTest' },
};

function pullResponseHeader(): Buffer {
  const frame = Buffer.from(PULL_RESPONSE_FRAME_BASE64, 'base64');
  assert.equal(frame.length, 190);
  assert.equal(frame[4], 1); // serialize type ROCKETMQ
  return frame.subarray(8, 8 + (frame.readUInt32BE(4) & 0xffffff));
}

function badFrame(bytes: Buffer, message: RegExp): void {
  assert.throws(
    () => decodeBinaryHeader(bytes),
    (error: unknown) => {
      assert.ok(error instanceof RemotingError, String(error));
      assert.equal(error.code, 'RMQ_BAD_FRAME');
      assert.match(error.message, message);
      return true;
    },
  );
}

describe('ROCKETMQ binary header', () => {
  test('§9 vector 2: encodes the Java bytes and decodes them back', () => {
    assert.equal(encodeBinaryHeader(route).toString('hex'), ROUTE_HEADER_HEX);
    assert.deepEqual(decodeBinaryHeader(Buffer.from(ROUTE_HEADER_HEX, 'hex')), route);
  });

  test('§9 vector 4: decodes the Java PULL response header field by field', () => {
    const header = pullResponseHeader();
    // code 11, RUST (12), version 501, opaque 7, flag 0, no remark, 161 bytes of extFields.
    assert.equal(header.subarray(0, 21).toString('hex'), '000b0c01f5000000070000000000000000000000a1');
    assert.deepEqual(decodeBinaryHeader(header), PULL_RESPONSE);
  });

  test('§9 vector 4: re-encoding yields the same bytes', () => {
    assert.ok(encodeBinaryHeader(PULL_RESPONSE).equals(pullResponseHeader()));
  });

  test('remark is length-prefixed UTF-8; no remark and no extFields are zero lengths', () => {
    const bare = encodeBinaryHeader({ code: 0, language: 'JAVA', version: 479, opaque: 3, flag: 1 });
    assert.equal(bare.toString('hex'), '00000001df00000003000000010000000000000000');
    const withRemark = { code: 1, language: 'JAVA', version: 479, opaque: 3, flag: 1, remark: '错误' };
    const bytes = encodeBinaryHeader(withRemark);
    assert.equal(bytes.readInt32BE(13), 6);
    assert.deepEqual(decodeBinaryHeader(bytes), withRemark);
  });

  test('Q7: empty extField values (and an empty remark) come back absent, as in Java', () => {
    const bytes = encodeBinaryHeader({ ...route, remark: '', extFields: { topic: 'T', empty: '' } });
    assert.deepEqual(decodeBinaryHeader(bytes), { ...route, extFields: { topic: 'T' } });
  });

  test('language bytes map to names; unknown bytes decode as OTHER', () => {
    const bytes = encodeBinaryHeader({ ...route, language: 'NODE_JS' });
    assert.equal(bytes[2], 13);
    assert.equal(decodeBinaryHeader(bytes).language, 'NODE_JS');
    bytes[2] = 200;
    assert.equal(decodeBinaryHeader(bytes).language, 'OTHER');
    assert.equal(encodeBinaryHeader({ ...route, language: 'KLINGON' })[2], 7);
  });

  test('Q3: codes above 32767 do not fit and are refused rather than truncated', () => {
    assert.throws(() => encodeBinaryHeader({ ...route, code: 200050 }), {
      code: 'RMQ_BAD_FRAME',
      message: /200050 does not fit/,
    });
    assert.equal(decodeBinaryHeader(encodeBinaryHeader({ ...route, code: -32768 })).code, -32768);
  });

  test('round trip of any command with non-empty strings', () => {
    const nonEmpty = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(
        fc.record(
          {
            code: fc.integer({ min: -32768, max: 32767 }),
            language: fc.constantFrom('JAVA', 'CPP', 'GO', 'RUST', 'OTHER'),
            version: fc.integer({ min: -32768, max: 32767 }),
            opaque: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
            flag: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
            remark: nonEmpty,
            extFields: fc.dictionary(
              nonEmpty.filter((k) => k !== '__proto__'),
              nonEmpty,
            ),
          },
          { requiredKeys: ['code', 'language', 'version', 'opaque', 'flag'] },
        ),
        (command) => {
          const decoded = decodeBinaryHeader(encodeBinaryHeader(command));
          const expected: RemotingCommand = { ...command };
          if (command.extFields) {
            if (Object.keys(command.extFields).length === 0) delete expected.extFields;
            else expected.extFields = { ...command.extFields };
          }
          assert.deepEqual(decoded, expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('ROCKETMQ binary header: malformed input', () => {
  const good = Buffer.from(ROUTE_HEADER_HEX, 'hex');

  test('shorter than the 21-byte fixed part', () => {
    badFrame(good.subarray(0, 20), /20 bytes is shorter than 21/);
  });

  test('remark length negative or past the end', () => {
    const bytes = Buffer.from(good);
    bytes.writeInt32BE(-1, 13);
    badFrame(bytes, /remark length -1 exceeds/);
    bytes.writeInt32BE(1000, 13);
    badFrame(bytes, /remark length 1000 exceeds/);
  });

  test('extFields length past the end, or a missing extFields length word', () => {
    const bytes = Buffer.from(good);
    bytes.writeInt32BE(21, 17);
    badFrame(bytes, /extFields length 21 exceeds/);
    const remarkOnly = Buffer.from(good.subarray(0, 21));
    remarkOnly.writeInt32BE(4, 13);
    badFrame(remarkOnly, /extFields length/);
  });

  test('a key or value length that runs past the extFields area', () => {
    const keyTooLong = Buffer.from(good);
    keyTooLong.writeInt16BE(100, 21);
    badFrame(keyTooLong, /truncated in extFields key/);
    const negativeKey = Buffer.from(good);
    negativeKey.writeInt16BE(-1, 21);
    badFrame(negativeKey, /truncated in extFields key/);
    const valueTooLong = Buffer.from(good);
    valueTooLong.writeInt32BE(10, 28);
    badFrame(valueTooLong, /truncated in extFields value/);
    const negativeValue = Buffer.from(good);
    negativeValue.writeInt32BE(-9, 28);
    badFrame(negativeValue, /truncated in extFields value/);
  });

  test('an extFields area that ends inside an entry', () => {
    // Area of 1 byte: not even a key length.
    const oneByte = Buffer.concat([good.subarray(0, 17), Buffer.from('0000000100', 'hex')]);
    badFrame(oneByte, /truncated in extFields key length/);
    // Area that holds the key but not the value length.
    const noValueLength = Buffer.concat([good.subarray(0, 17), Buffer.from('000000070005746f706963', 'hex')]);
    badFrame(noValueLength, /truncated in extFields key/);
  });

  test('mutated and random headers only ever raise RMQ_BAD_FRAME', () => {
    const seeds = [good, pullResponseHeader()];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
          fc
            .tuple(
              fc.constantFrom(...seeds),
              fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
              fc.nat(),
            )
            .map(([seed, flips, cut]) => {
              const bytes = Buffer.from(seed);
              for (const [at, value] of flips) bytes[at % bytes.length] = value;
              return bytes.subarray(0, bytes.length - (cut % 4));
            }),
        ),
        (bytes) => {
          try {
            decodeBinaryHeader(bytes);
          } catch (error) {
            assert.ok(error instanceof RemotingError && error.code === 'RMQ_BAD_FRAME', String(error));
          }
        },
      ),
      { numRuns: 3000 },
    );
  });
});
