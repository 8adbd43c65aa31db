import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { RemotingError } from '../../../proxy/src/remoting/errors.ts';
import { decompressLz4Frame, xxh32 } from '../../../proxy/src/remoting/message/lz4.ts';

// Frames made by the reference `lz4` CLI v1.9.4 from the inputs below (see each comment for its flags).
const TEXT = Buffer.from('RocketMQ LZ4 body: hello hello hello hello hello, 中文 ok.\n'.repeat(20));
/** `lz4 -z` (defaults: 4 MiB blocks, independent, content checksum). */
const TEXT_FRAME =
  'BCJNGGRApzgAAAD/CVJvY2tldE1RIExaNCBib2R5OiBoZWxsbwYABd8sIOS4reaWhyBvay4KPQD/////c1Agb2suCgAAAAD0JOR9';
/** `lz4 -z` of empty input. */
const EMPTY_FRAME = 'BCJNGGRApwAAAAAFXcwC';
/** 300 pseudo-random bytes, `lz4 -z -BX --content-size`: one stored (uncompressed) block with a block checksum. */
const RANDOM_FRAME =
  'BCJNGHxALAEAAAAAAAD6LAEAgMwmKlh/jX18H6or43PlggE3XMqdgEgT80Y5e8fnu7YyaJFq3tGNp/TOtYPwkj20G5WNo2ieS03wUioBQiL8vlNMPMSzXg+hXGKAxkKhX3VsqByKT/54cqew6WIIqheE6X+xxdYQo3YiP1bVLpSKVCiP8hPd/5z19ZbgQ76nSLpXtbmG4jzSfQ/xP50mSniqYRM1XTxugZETbDNYIzJI4d1MWK0NoyZYSTX8FreRXp0CqkcVMIDsUJPAwl4SSklFlVLNaypxIPdT8AxEih/vINZ1xnAZ2Z6GZk8rIIPg/v52fZR9pkFBlQo2qzhmmlrvgUGLNPSIVNTXAsZ0isyR7lMxZC2NFwK3qUTPDSuRSJWFiaytWQnHKJDupzxV1KvH3H4yUIZj3DLEhirs16chSpkAAAAApyFKmQ==';
/** 86,769 bytes of `line N|` text, `lz4 -z -B4 -BD -BX --content-size --no-frame-crc`: two linked 64 KiB blocks. */
const LINKED_FRAME =
  'BCJNGFhA8VIBAAAAAABVTAEAAHFsaW5lIDB8BwASMQcAEjIHABIzBwASNAcAEjUHABI2BwASNwcAEjgHABI5BwAUMUcAA0gAEzFJAAQXAAImAAMVAA9eAP////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////////9wUHxsaW5ljIj43F0AAAAPkP///////////////////////////////////////////////////////////////////////////////////////////////////////////////yxQbmUgMHwxS3jOAAAAAA==';

function randomInput(): Buffer {
  let seed = 7;
  const bytes = Buffer.alloc(300);
  for (let i = 0; i < bytes.length; i++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    bytes[i] = seed >>> 24;
  }
  return bytes;
}

const LINES = Buffer.from(Array.from({ length: 12000 }, (_, i) => `line ${i % 13}|`).join(''));
const frame = (base64: string): Buffer => Buffer.from(base64, 'base64');
const MiB = 1024 * 1024;

function badPayload(input: Uint8Array, message: RegExp, cap = MiB): void {
  assert.throws(
    () => decompressLz4Frame(input, cap),
    (error: unknown) => {
      assert.ok(error instanceof RemotingError, String(error));
      assert.equal(error.code, 'RMQ_BAD_PAYLOAD');
      assert.match(error.message, message);
      return true;
    },
  );
}

const FLG_V1_INDEPENDENT = 0x60;
const FLG_V1_LINKED = 0x40;
const BD_64K = 0x40;

/** A frame around hand-made blocks; the descriptor checksum uses xxh32, checked against the CLI frames. */
function buildFrame(
  flg: number,
  bd: number,
  blocks: Buffer[],
  options: { contentSize?: number; trailer?: Buffer } = {},
) {
  const descriptor = [flg, bd];
  if (options.contentSize !== undefined) {
    const size = Buffer.alloc(8);
    size.writeBigUInt64LE(BigInt(options.contentSize));
    descriptor.push(...size);
  }
  const header = Buffer.from(descriptor);
  const parts: Buffer[] = [
    Buffer.from([0x04, 0x22, 0x4d, 0x18]),
    header,
    Buffer.from([(xxh32(header) >>> 8) & 0xff]),
  ];
  for (const block of blocks) parts.push(block);
  parts.push(Buffer.alloc(4), options.trailer ?? Buffer.alloc(0));
  return Buffer.concat(parts);
}

/** A compressed block: its u32 size word followed by the sequences. */
function compressedBlock(sequences: number[]): Buffer {
  const size = Buffer.alloc(4);
  size.writeUInt32LE(sequences.length);
  return Buffer.concat([size, Buffer.from(sequences)]);
}

describe('xxh32', () => {
  test('reference values', () => {
    assert.equal(xxh32(new Uint8Array()), 0x02cc5d05);
    assert.equal(xxh32(Buffer.from('a')), 0x550d7456);
    assert.equal(xxh32(Buffer.from('abc')), 0x32d153ff);
    assert.equal(xxh32(Buffer.from('Nobody inspects the spammish repetition')), 0xe2293b2f);
  });

  test('reads a view at its own offset', () => {
    const backing = Buffer.from('xxNobody inspects the spammish repetitionyy');
    assert.equal(xxh32(backing.subarray(2, backing.length - 2)), 0xe2293b2f);
  });
});

describe('LZ4 frames from the reference CLI', () => {
  test('text with content checksum', () => {
    assert.ok(decompressLz4Frame(frame(TEXT_FRAME), MiB).equals(TEXT));
  });

  test('empty input', () => {
    assert.equal(decompressLz4Frame(frame(EMPTY_FRAME), MiB).length, 0);
  });

  test('stored block with block checksum and content size', () => {
    assert.ok(decompressLz4Frame(frame(RANDOM_FRAME), MiB).equals(randomInput()));
  });

  test('linked 64 KiB blocks whose matches reach into the previous block', () => {
    const output = decompressLz4Frame(frame(LINKED_FRAME), MiB);
    assert.equal(output.length, LINES.length);
    assert.ok(output.equals(LINES));
  });

  test('concatenated frames and skippable frames', () => {
    const skippable = Buffer.from([0x5f, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3]);
    const input = Buffer.concat([
      skippable,
      frame(TEXT_FRAME),
      frame(EMPTY_FRAME),
      skippable,
      frame(RANDOM_FRAME),
    ]);
    assert.ok(decompressLz4Frame(input, MiB).equals(Buffer.concat([TEXT, randomInput()])));
  });

  test('input given as a Uint8Array view inside a larger buffer', () => {
    const backing = Buffer.concat([Buffer.from('junk'), frame(TEXT_FRAME), Buffer.from('junk')]);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, backing.length - 8);
    assert.ok(decompressLz4Frame(view, MiB).equals(TEXT));
  });
});

describe('LZ4: corruption is detected', () => {
  test('content checksum mismatch', () => {
    const bytes = frame(TEXT_FRAME);
    bytes[bytes.length - 1]! ^= 0x01;
    badPayload(bytes, /content checksum mismatch/);
  });

  test('block checksum mismatch', () => {
    const bytes = frame(RANDOM_FRAME);
    bytes[30]! ^= 0x80; // inside the stored block
    badPayload(bytes, /block checksum mismatch/);
  });

  test('descriptor checksum mismatch', () => {
    const bytes = frame(TEXT_FRAME);
    bytes[6]! ^= 0xff;
    badPayload(bytes, /descriptor checksum mismatch at offset 6/);
  });

  test('content size disagreeing with the decoded length', () => {
    const block = Buffer.concat([Buffer.from([0x05, 0, 0, 0x80]), Buffer.from('hello')]);
    assert.equal(
      decompressLz4Frame(
        buildFrame(FLG_V1_INDEPENDENT | 0x08, BD_64K, [block], { contentSize: 5 }),
        100,
      ).toString(),
      'hello',
    );
    badPayload(
      buildFrame(FLG_V1_INDEPENDENT | 0x08, BD_64K, [block], { contentSize: 6 }),
      /decoded to 5 bytes, header says 6/,
    );
  });

  test('descriptor problems: magic, version, reserved bits, dictionary, block size code', () => {
    badPayload(Buffer.from([1, 2, 3, 4, 0x60, 0x40, 0]), /bad frame magic 0x4030201/);
    badPayload(buildFrame(0x20, BD_64K, []), /unsupported frame version/);
    badPayload(buildFrame(FLG_V1_INDEPENDENT | 0x02, BD_64K, []), /reserved descriptor bits/);
    badPayload(buildFrame(FLG_V1_INDEPENDENT, BD_64K | 0x01, []), /reserved descriptor bits/);
    badPayload(buildFrame(FLG_V1_INDEPENDENT, 0x80 | 0x40, []), /reserved descriptor bits/);
    badPayload(buildFrame(FLG_V1_INDEPENDENT | 0x01, BD_64K, []), /dictionaries are not supported/);
    badPayload(buildFrame(FLG_V1_INDEPENDENT, 0x30, []), /reserved block maximum size/);
  });

  test('truncation at every point of a real frame', () => {
    const bytes = frame(RANDOM_FRAME);
    for (let length = 0; length < bytes.length; length++) {
      assert.throws(
        () => decompressLz4Frame(bytes.subarray(0, length), MiB),
        { code: 'RMQ_BAD_PAYLOAD' },
        `length ${length}`,
      );
    }
  });

  test('a skippable frame longer than the input', () => {
    badPayload(Buffer.from([0x50, 0x2a, 0x4d, 0x18, 9, 0, 0, 0, 1]), /skippable frame past end of input/);
    badPayload(Buffer.from([0x50, 0x2a, 0x4d, 0x18, 9]), /truncated skippable frame/);
  });

  test('block size above the declared maximum', () => {
    const size = Buffer.alloc(4);
    size.writeUInt32LE(64 * 1024 + 1);
    badPayload(buildFrame(FLG_V1_INDEPENDENT, BD_64K, [size]), /block size 65537 exceeds maximum 65536/);
  });

  test('match offsets must point into data already produced', () => {
    // 'ab', then a match 3 back: before the start of the output.
    badPayload(
      buildFrame(FLG_V1_INDEPENDENT, BD_64K, [compressedBlock([0x20, 0x61, 0x62, 3, 0, 0x00])]),
      /match offset 3 outside the window/,
    );
    badPayload(
      buildFrame(FLG_V1_INDEPENDENT, BD_64K, [compressedBlock([0x20, 0x61, 0x62, 0, 0, 0x00])]),
      /match offset 0 outside/,
    );
    // The same match 2 back is fine: 'ab' + 'abab' (4 bytes) + no final literals.
    const ok = buildFrame(FLG_V1_INDEPENDENT, BD_64K, [compressedBlock([0x20, 0x61, 0x62, 2, 0, 0x00])]);
    assert.equal(decompressLz4Frame(ok, 100).toString(), 'ababab');
  });

  test('independent blocks cannot reach into the previous block; linked blocks can', () => {
    const first = compressedBlock([0x40, 0x61, 0x62, 0x63, 0x64]); // literals 'abcd'
    const second = compressedBlock([0x00, 4, 0, 0x00]); // match 4 back, length 4, then empty final literals
    badPayload(buildFrame(FLG_V1_INDEPENDENT, BD_64K, [first, second]), /match offset 4 outside the window/);
    assert.equal(
      decompressLz4Frame(buildFrame(FLG_V1_LINKED, BD_64K, [first, second]), 100).toString(),
      'abcdabcd',
    );
  });

  test('blocks that end in the middle of a sequence', () => {
    const cases: [number[], RegExp][] = [
      [[0xf0], /truncated literal length/],
      [[0xf0, 0xff], /truncated literal length/],
      [[0x30, 0x61], /literals past end of block/],
      [[0x10, 0x61, 0x01], /truncated match offset/],
      [[0x1f, 0x61, 0x01, 0x00], /truncated match length/],
      [[0x10, 0x61, 0x01, 0x00], /block ends without final literals/],
    ];
    for (const [sequences, message] of cases) {
      badPayload(buildFrame(FLG_V1_INDEPENDENT, BD_64K, [compressedBlock(sequences)]), message);
    }
  });

  test('a block may not decode to more than the maximum block size', () => {
    // 1 literal + a match of 65,540 bytes: 65,541 bytes from a 64 KiB block.
    const extra = Math.ceil((65540 - 4 - 15) / 255);
    const lengthBytes = [...Array(extra - 1).fill(255), 65540 - 4 - 15 - 255 * (extra - 1)];
    badPayload(
      buildFrame(FLG_V1_INDEPENDENT, BD_64K, [compressedBlock([0x1f, 0x61, 1, 0, ...lengthBytes, 0x00])]),
      /decodes past the maximum block size/,
      10 * MiB,
    );
  });
});

describe('LZ4: output cap (decompression bombs)', () => {
  test('the cap is enforced on real frames', () => {
    assert.equal(decompressLz4Frame(frame(TEXT_FRAME), TEXT.length).length, TEXT.length);
    badPayload(frame(TEXT_FRAME), new RegExp(`output exceeds ${TEXT.length - 1} bytes`), TEXT.length - 1);
    badPayload(frame(LINKED_FRAME), /content size 86769 exceeds the output cap/, 86768);
  });

  test('a 20 KiB frame claiming gigabytes stops at the cap, quickly and without the memory', () => {
    // Each 4 MiB block: one literal 'a' then one long match copying it (offset 1).
    const matchLength = 4 * MiB - 1;
    const lengthBytes: number[] = [];
    for (let left = matchLength - 4 - 15; ; left -= 255) {
      if (left < 255) {
        lengthBytes.push(left);
        break;
      }
      lengthBytes.push(255);
    }
    const block = compressedBlock([0x1f, 0x61, 1, 0, ...lengthBytes, 0x00]);
    const bomb = buildFrame(FLG_V1_LINKED, 0x70, Array(256).fill(block));
    assert.ok(bomb.length < 5 * MiB);
    // One block decodes to exactly 4 MiB of 'a'.
    const single = decompressLz4Frame(buildFrame(FLG_V1_LINKED, 0x70, [block]), 4 * MiB);
    assert.equal(single.length, 4 * MiB);
    assert.equal(single.indexOf(0x62), -1);
    const started = performance.now();
    badPayload(bomb, /output exceeds 16777216 bytes/, 16 * MiB);
    assert.ok(performance.now() - started < 2000);
  });

  test('a declared content size beyond the cap is refused before decoding', () => {
    badPayload(
      buildFrame(FLG_V1_INDEPENDENT | 0x08, BD_64K, [], { contentSize: 2 ** 40 }),
      /content size 1099511627776 exceeds the output cap/,
    );
  });
});

describe('LZ4: fuzz', () => {
  test('mutated real frames and random bytes only raise RMQ_BAD_PAYLOAD and respect the cap', () => {
    const seeds = [TEXT_FRAME, RANDOM_FRAME, LINKED_FRAME, EMPTY_FRAME].map(frame);
    const cap = 200_000;
    let seed = 0x1234;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return Math.floor((seed / 2 ** 32) * n);
    };
    let slowest = 0;
    for (let i = 0; i < 6000; i++) {
      let input: Buffer;
      if (i % 4 === 0) {
        input = Buffer.alloc(random(40));
        for (let j = 0; j < input.length; j++) input[j] = random(256);
        if (i % 8 === 0 && input.length >= 7) Buffer.from([0x04, 0x22, 0x4d, 0x18]).copy(input);
      } else {
        input = Buffer.from(seeds[random(seeds.length)]!);
        for (let flips = 1 + random(4); flips > 0; flips--) input[random(input.length)] = random(256);
        if (random(4) === 0) input = input.subarray(0, random(input.length + 1));
      }
      const started = performance.now();
      try {
        assert.ok(decompressLz4Frame(input, cap).length <= cap);
      } catch (error) {
        assert.ok(
          error instanceof RemotingError && error.code === 'RMQ_BAD_PAYLOAD',
          `iteration ${i}: ${String(error)}`,
        );
      }
      let elapsed = performance.now() - started;
      // A pause of the machine is not a slow input: a slow input is slow on every try.
      for (let retry = 0; retry < 3 && elapsed >= 200; retry++) {
        const again = performance.now();
        try {
          decompressLz4Frame(input, cap);
        } catch {
          // only the time matters here
        }
        elapsed = Math.min(elapsed, performance.now() - again);
      }
      slowest = Math.max(slowest, elapsed);
    }
    assert.ok(slowest < 200, `slowest input took ${slowest} ms`);
  });

  test('fast-check: arbitrary bytes after a valid magic', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (tail) => {
        try {
          decompressLz4Frame(Buffer.concat([Buffer.from([0x04, 0x22, 0x4d, 0x18]), tail]), 4096);
        } catch (error) {
          assert.ok(error instanceof RemotingError && error.code === 'RMQ_BAD_PAYLOAD', String(error));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
