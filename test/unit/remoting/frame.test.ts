import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { RemotingCommand } from '../../../proxy/src/remoting/command.ts';
import { RemotingError } from '../../../proxy/src/remoting/errors.ts';
import { decodeFrame, encodeFrame, FrameReader, MAX_FRAME_BYTES } from '../../../proxy/src/remoting/frame.ts';

// remoting.md §9 vectors 1 and 2: GET_ROUTEINFO_BY_TOPIC, topic TopicTest, opaque 1, version 479.
const ROUTE_JSON_FRAME =
  '00000087000000837b22636f6465223a3130352c226578744669656c6473223a7b22746f706963223a22546f70696354657374227d2c22666c6167223a302c226c616e6775616765223a224a415641222c226f7061717565223a312c2273657269616c697a655479706543757272656e74525043223a224a534f4e222c2276657273696f6e223a3437397d';
const ROUTE_BINARY_FRAME =
  '0000002d0100002900690001df000000010000000000000000000000140005746f70696300000009546f70696354657374';

const routeRequest: RemotingCommand = {
  code: 105,
  language: 'JAVA',
  version: 479,
  opaque: 1,
  flag: 0,
  extFields: { topic: 'TopicTest' },
};

function content(hex: string): Buffer {
  return Buffer.from(hex, 'hex').subarray(4);
}

describe('frame encoding', () => {
  test('JSON header matches the Java-produced bytes', () => {
    assert.equal(encodeFrame(routeRequest, 'JSON').toString('hex'), ROUTE_JSON_FRAME);
  });

  test('ROCKETMQ binary header matches the Java-produced bytes', () => {
    assert.equal(encodeFrame(routeRequest, 'ROCKETMQ').toString('hex'), ROUTE_BINARY_FRAME);
  });

  test('both encodings decode to the same command', () => {
    assert.deepEqual(decodeFrame(content(ROUTE_JSON_FRAME)), routeRequest);
    assert.deepEqual(decodeFrame(content(ROUTE_BINARY_FRAME)), routeRequest);
  });

  test('pop-family codes above 32767 only fit the JSON header', () => {
    const pop = { ...routeRequest, code: 200050 };
    assert.equal(decodeFrame(encodeFrame(pop).subarray(4)).code, 200050);
    assert.throws(() => encodeFrame(pop, 'ROCKETMQ'), { code: 'RMQ_BAD_FRAME' });
  });

  test('control characters of the properties string survive the JSON header', () => {
    const command = { ...routeRequest, extFields: { i: 'UNIQ_KEY\u0001abc\u0002TAGS\u0001a\u0002' } };
    assert.deepEqual(decodeFrame(encodeFrame(command).subarray(4)), command);
  });

  test('a frame over 16 MiB is refused when encoding', () => {
    const body = Buffer.alloc(MAX_FRAME_BYTES);
    assert.throws(() => encodeFrame({ ...routeRequest, body }), { code: 'RMQ_FRAME_TOO_LARGE' });
  });

  const commandArbitrary = fc.record(
    {
      code: fc.integer({ min: -32768, max: 32767 }),
      language: fc.constantFrom('JAVA', 'GO', 'NODE_JS', 'CPP', 'RUST'),
      version: fc.integer({ min: 0, max: 32767 }),
      opaque: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
      flag: fc.integer({ min: 0, max: 3 }),
      remark: fc.string({ minLength: 1 }),
      extFields: fc.dictionary(
        fc.string({ minLength: 1, maxLength: 20 }).filter((k) => k !== '__proto__'),
        fc.string({ minLength: 1, maxLength: 50 }),
        { minKeys: 1 },
      ),
      body: fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b)),
    },
    { requiredKeys: ['code', 'language', 'version', 'opaque', 'flag'] },
  );

  test('JSON and binary encodings round-trip any command', () => {
    fc.assert(
      fc.property(
        commandArbitrary,
        fc.constantFrom('JSON' as const, 'ROCKETMQ' as const),
        (command, type) => {
          const decoded = decodeFrame(encodeFrame(command, type).subarray(4));
          // fast-check builds null-prototype objects; compare plain copies.
          const expected = { ...command, ...(command.extFields && { extFields: { ...command.extFields } }) };
          assert.deepEqual(decoded, expected);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('frame decoding of bad input', () => {
  test('header length beyond the frame', () => {
    const frame = Buffer.from('00000010', 'hex');
    assert.throws(() => decodeFrame(frame), { code: 'RMQ_BAD_FRAME', message: /header length 16 exceeds/ });
  });

  test('unknown serialize type', () => {
    const frame = Buffer.from('0200000000', 'hex');
    assert.throws(() => decodeFrame(frame), { code: 'RMQ_BAD_FRAME', message: /serialize type 2/ });
  });

  test('JSON header that does not parse, or lacks code/opaque', () => {
    for (const header of ['{', '[]', '{"opaque":1}', '{"code":"x","opaque":1}', '{"code":1}']) {
      const bytes = Buffer.from(header);
      const frame = Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
      assert.throws(() => decodeFrame(frame), RemotingError, header);
    }
  });

  test('binary header whose extFields length runs past the header', () => {
    const frame = content(ROUTE_BINARY_FRAME);
    frame.writeInt32BE(0x7fff, 4 + 17);
    assert.throws(() => decodeFrame(frame), { code: 'RMQ_BAD_FRAME', message: /extFields length/ });
  });
});

describe('FrameReader', () => {
  const frames = [
    encodeFrame(routeRequest),
    encodeFrame({ ...routeRequest, opaque: 2, body: Buffer.alloc(70_000, 7) }),
    encodeFrame({ ...routeRequest, opaque: 3 }, 'ROCKETMQ'),
  ];
  const stream = Buffer.concat(frames);

  test('reassembles frames split at every possible boundary', () => {
    for (let cut = 1; cut < stream.length; cut += 997) {
      const reader = new FrameReader();
      const out = [...reader.push(stream.subarray(0, cut)), ...reader.push(stream.subarray(cut))];
      assert.deepEqual(
        out.map((f) => decodeFrame(f).opaque),
        [1, 2, 3],
      );
      assert.equal(reader.bufferedBytes, 0);
    }
  });

  test('byte-by-byte delivery yields the same frames', () => {
    const reader = new FrameReader();
    const out: Buffer[] = [];
    for (const byte of stream) out.push(...reader.push(Buffer.from([byte])));
    assert.deepEqual(
      out.map((f) => decodeFrame(f).opaque),
      [1, 2, 3],
    );
  });

  test('an oversized declared length is refused before buffering it', () => {
    const reader = new FrameReader();
    const header = Buffer.alloc(4);
    header.writeUInt32BE(MAX_FRAME_BYTES, 0);
    assert.throws(() => reader.push(header), { code: 'RMQ_FRAME_TOO_LARGE' });
  });

  test('a length smaller than the header word is refused', () => {
    assert.throws(() => new FrameReader().push(Buffer.from('00000002abcd', 'hex')), {
      code: 'RMQ_BAD_FRAME',
    });
  });

  test('fuzz: 10,000 random and mutated streams only ever raise RemotingError', () => {
    let seed = 0x5eed;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const maxFrame = 1 << 20;
    for (let i = 0; i < 10_000; i++) {
      let input: Buffer;
      if (i % 2 === 0) {
        input = Buffer.from(stream.subarray(0, 200 + Math.floor(random() * 200)));
        for (let flips = 1 + Math.floor(random() * 8); flips > 0; flips--) {
          input[Math.floor(random() * input.length)] = Math.floor(random() * 256);
        }
      } else {
        input = Buffer.alloc(Math.floor(random() * 64));
        for (let j = 0; j < input.length; j++) input[j] = Math.floor(random() * 256);
      }
      const reader = new FrameReader(maxFrame);
      try {
        for (const frame of reader.push(input)) decodeFrame(frame);
      } catch (error) {
        assert.ok(error instanceof RemotingError, `iteration ${i}: ${String(error)}`);
      }
      assert.ok(reader.bufferedBytes <= input.length);
    }
  });
});
