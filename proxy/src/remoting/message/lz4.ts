/**
 * LZ4 frame decompressor (the format RocketMQ producers use for LZ4-compressed bodies). Written for
 * untrusted input: every read is bounds-checked, every match must point into data already produced,
 * checksums are verified, and the output never grows beyond the caller's cap.
 */
import { RemotingError } from '../errors.ts';

const FRAME_MAGIC = 0x184d2204;
/** Skippable frames use magics 0x184D2A50–0x184D2A5F. */
const SKIPPABLE_MAGIC = 0x184d2a50;
const SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const UNCOMPRESSED_BLOCK_BIT = 0x80000000;
const MIN_MATCH = 4;

const FLG_VERSION_MASK = 0xc0;
const FLG_VERSION_01 = 0x40;
const FLG_BLOCK_INDEPENDENCE = 0x20;
const FLG_BLOCK_CHECKSUM = 0x10;
const FLG_CONTENT_SIZE = 0x08;
const FLG_CONTENT_CHECKSUM = 0x04;
const FLG_RESERVED = 0x02;
const FLG_DICTIONARY_ID = 0x01;
const BD_RESERVED = 0x8f;

/** Block maximum sizes by the BD byte's 3-bit code; codes 0–3 are reserved. */
const BLOCK_MAX_SIZES: Readonly<Record<number, number>> = {
  4: 64 * 1024,
  5: 256 * 1024,
  6: 1024 * 1024,
  7: 4 * 1024 * 1024,
};

function corrupt(message: string, offset: number): RemotingError {
  return new RemotingError('RMQ_BAD_PAYLOAD', `LZ4: ${message} at offset ${offset}`);
}

/** Decompresses one or more concatenated LZ4 frames; throws RMQ_BAD_PAYLOAD on any inconsistency. */
export function decompressLz4Frame(input: Uint8Array, maxOutputBytes: number): Buffer {
  const data = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const out = new OutputBuffer(maxOutputBytes);
  let pos = 0;
  do {
    if (data.length - pos < 4) throw corrupt('truncated frame magic', pos);
    const magic = data.readUInt32LE(pos);
    if ((magic & SKIPPABLE_MAGIC_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (data.length - pos < 8) throw corrupt('truncated skippable frame', pos);
      const size = data.readUInt32LE(pos + 4);
      if (size > data.length - pos - 8) throw corrupt('skippable frame past end of input', pos);
      pos += 8 + size;
    } else if (magic === FRAME_MAGIC) {
      pos = decodeFrame(data, pos + 4, out);
    } else {
      throw corrupt(`bad frame magic 0x${magic.toString(16)}`, pos);
    }
  } while (pos < data.length);
  return out.result();
}

/** Decodes the frame whose descriptor starts at `start`; returns the offset just past the frame. */
function decodeFrame(data: Buffer, start: number, out: OutputBuffer): number {
  if (data.length - start < 3) throw corrupt('truncated frame descriptor', start);
  const flg = data[start]!;
  const bd = data[start + 1]!;
  if ((flg & FLG_VERSION_MASK) !== FLG_VERSION_01) throw corrupt('unsupported frame version', start);
  if ((flg & FLG_RESERVED) !== 0 || (bd & BD_RESERVED) !== 0)
    throw corrupt('reserved descriptor bits set', start);
  if ((flg & FLG_DICTIONARY_ID) !== 0) throw corrupt('dictionaries are not supported', start);
  const blockMaxSize = BLOCK_MAX_SIZES[(bd >> 4) & 0x7];
  if (blockMaxSize === undefined) throw corrupt('reserved block maximum size', start + 1);

  let pos = start + 2;
  let contentSize: number | undefined;
  if ((flg & FLG_CONTENT_SIZE) !== 0) {
    if (data.length - pos < 9) throw corrupt('truncated content size', pos);
    contentSize = data.readUInt32LE(pos + 4) * 2 ** 32 + data.readUInt32LE(pos);
    if (contentSize > out.remainingCapacity)
      throw corrupt(`content size ${contentSize} exceeds the output cap`, pos);
    pos += 8;
  }
  const headerChecksum = (xxh32(data.subarray(start, pos)) >>> 8) & 0xff;
  if (data[pos] !== headerChecksum) throw corrupt('frame descriptor checksum mismatch', pos);
  pos += 1;

  const frameStart = out.length;
  const independent = (flg & FLG_BLOCK_INDEPENDENCE) !== 0;
  const checksumSize = (flg & FLG_BLOCK_CHECKSUM) !== 0 ? 4 : 0;
  for (;;) {
    if (data.length - pos < 4) throw corrupt('truncated block size', pos);
    const word = data.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break; // end mark
    const size = (word & ~UNCOMPRESSED_BLOCK_BIT) >>> 0;
    if (size > blockMaxSize) throw corrupt(`block size ${size} exceeds maximum ${blockMaxSize}`, pos - 4);
    if (data.length - pos < size + checksumSize) throw corrupt('block past end of input', pos);
    const block = data.subarray(pos, pos + size);
    if (checksumSize !== 0 && xxh32(block) !== data.readUInt32LE(pos + size)) {
      throw corrupt('block checksum mismatch', pos + size);
    }
    const blockStart = out.length;
    if ((word & UNCOMPRESSED_BLOCK_BIT) !== 0) {
      out.append(block, 0, size);
    } else {
      decodeBlock(block, pos, out, independent ? blockStart : frameStart);
    }
    if (out.length - blockStart > blockMaxSize)
      throw corrupt('block decodes past the maximum block size', pos);
    pos += size + checksumSize;
  }

  if ((flg & FLG_CONTENT_CHECKSUM) !== 0) {
    if (data.length - pos < 4) throw corrupt('truncated content checksum', pos);
    if (xxh32(out.view(frameStart)) !== data.readUInt32LE(pos))
      throw corrupt('content checksum mismatch', pos);
    pos += 4;
  }
  if (contentSize !== undefined && out.length - frameStart !== contentSize) {
    throw corrupt(`frame decoded to ${out.length - frameStart} bytes, header says ${contentSize}`, pos);
  }
  return pos;
}

/**
 * One compressed block: sequences of (token, literals, 2-byte offset, match); the last sequence has
 * literals only. Matches may reach back to `windowStart` (this block, or the frame for linked blocks).
 */
function decodeBlock(block: Buffer, blockOffset: number, out: OutputBuffer, windowStart: number): void {
  const end = block.length;
  let pos = 0;
  for (;;) {
    if (pos >= end) throw corrupt('block ends without final literals', blockOffset + pos);
    const token = block[pos++]!;
    let literalLength = token >> 4;
    if (literalLength === 15) {
      let extra: number;
      do {
        if (pos >= end) throw corrupt('truncated literal length', blockOffset + pos);
        extra = block[pos++]!;
        literalLength += extra;
      } while (extra === 255);
    }
    if (literalLength > end - pos) throw corrupt('literals past end of block', blockOffset + pos);
    out.append(block, pos, pos + literalLength);
    pos += literalLength;
    if (pos === end) return;

    if (end - pos < 2) throw corrupt('truncated match offset', blockOffset + pos);
    const offset = block[pos]! | (block[pos + 1]! << 8);
    if (offset === 0 || offset > out.length - windowStart) {
      throw corrupt(`match offset ${offset} outside the window`, blockOffset + pos);
    }
    pos += 2;
    let matchLength = token & 0xf;
    if (matchLength === 15) {
      let extra: number;
      do {
        if (pos >= end) throw corrupt('truncated match length', blockOffset + pos);
        extra = block[pos++]!;
        matchLength += extra;
      } while (extra === 255);
    }
    out.copyMatch(offset, matchLength + MIN_MATCH);
  }
}

/** Growable output with a hard cap, so a tiny malicious input cannot allocate unbounded memory. */
class OutputBuffer {
  readonly #cap: number;
  #bytes: Buffer;
  length = 0;

  constructor(cap: number) {
    this.#cap = cap;
    this.#bytes = Buffer.alloc(Math.min(cap, 64 * 1024));
  }

  get remainingCapacity(): number {
    return this.#cap - this.length;
  }

  append(source: Buffer, start: number, end: number): void {
    this.#reserve(end - start);
    source.copy(this.#bytes, this.length, start, end);
    this.length += end - start;
  }

  /** Copies `length` bytes starting `offset` back; overlapping copies repeat the pattern like LZ77. */
  copyMatch(offset: number, length: number): void {
    this.#reserve(length);
    const bytes = this.#bytes;
    const source = this.length - offset;
    let copied = 0;
    while (copied < length) {
      // The pattern is periodic from `source`, so each pass can copy everything written since `source`.
      const chunk = Math.min(length - copied, this.length - source);
      bytes.copyWithin(this.length, source, source + chunk);
      this.length += chunk;
      copied += chunk;
    }
  }

  view(from: number): Buffer {
    return this.#bytes.subarray(from, this.length);
  }

  result(): Buffer {
    return this.#bytes.subarray(0, this.length);
  }

  #reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed > this.#cap)
      throw new RemotingError('RMQ_BAD_PAYLOAD', `LZ4: output exceeds ${this.#cap} bytes`);
    if (needed <= this.#bytes.length) return;
    const grown = Buffer.alloc(Math.min(this.#cap, Math.max(needed, this.#bytes.length * 2)));
    this.#bytes.copy(grown, 0, 0, this.length);
    this.#bytes = grown;
  }
}

const PRIME32_1 = 0x9e3779b1;
const PRIME32_2 = 0x85ebca77;
const PRIME32_3 = 0xc2b2ae3d;
const PRIME32_4 = 0x27d4eb2f;
const PRIME32_5 = 0x165667b1;

function rotl32(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits));
}

function xxh32Round(accumulator: number, lane: number): number {
  return Math.imul(rotl32((accumulator + Math.imul(lane, PRIME32_2)) | 0, 13), PRIME32_1);
}

/** XXH32 (the checksum of the LZ4 frame format), as an unsigned 32-bit number. */
export function xxh32(data: Uint8Array, seed = 0): number {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const length = bytes.length;
  let pos = 0;
  let hash: number;
  if (length >= 16) {
    let v1 = (seed + PRIME32_1 + PRIME32_2) | 0;
    let v2 = (seed + PRIME32_2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - PRIME32_1) | 0;
    for (; pos <= length - 16; pos += 16) {
      v1 = xxh32Round(v1, bytes.readUInt32LE(pos));
      v2 = xxh32Round(v2, bytes.readUInt32LE(pos + 4));
      v3 = xxh32Round(v3, bytes.readUInt32LE(pos + 8));
      v4 = xxh32Round(v4, bytes.readUInt32LE(pos + 12));
    }
    hash = (rotl32(v1, 1) + rotl32(v2, 7) + rotl32(v3, 12) + rotl32(v4, 18)) | 0;
  } else {
    hash = (seed + PRIME32_5) | 0;
  }
  hash = (hash + length) | 0;
  for (; pos + 4 <= length; pos += 4) {
    hash = Math.imul(rotl32((hash + Math.imul(bytes.readUInt32LE(pos), PRIME32_3)) | 0, 17), PRIME32_4);
  }
  for (; pos < length; pos++) {
    hash = Math.imul(rotl32((hash + Math.imul(bytes[pos]!, PRIME32_5)) | 0, 11), PRIME32_1);
  }
  hash = Math.imul(hash ^ (hash >>> 15), PRIME32_2);
  hash = Math.imul(hash ^ (hash >>> 13), PRIME32_3);
  return (hash ^ (hash >>> 16)) >>> 0;
}
