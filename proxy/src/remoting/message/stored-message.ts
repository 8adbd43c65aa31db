/**
 * The stored-message record ("MessageExt") that brokers return in PULL / POP / PEEK / QUERY / VIEW bodies
 * and send as the CHECK_TRANSACTION_STATE body (Java `MessageDecoder`'s record layout). A body holds zero or more records
 * back to back, each starting with its own total size.
 *
 * Decoding is strict: every length is checked against the record, the fields must end exactly at
 * TOTALSIZE (brokers always write exact records, and Java's sequential reader would misparse anything
 * else), and decompression is capped. Any violation throws RemotingError('RMQ_BAD_PAYLOAD') naming the field.
 */
import { crc32, deflateSync, inflateSync, zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { RemotingError } from '../errors.ts';
import { decompressLz4Frame, xxh32 } from './lz4.ts';
import { encodeOffsetMessageId, formatSocketAddress, parseSocketAddress } from './message-id.ts';
import {
  decodeProperties,
  encodeProperties,
  MAX_PROPERTIES_BYTES,
  type PropertiesInput,
} from './properties.ts';
import {
  CompressionType,
  compressionTypeOf,
  MessageSysFlag,
  withCompression,
  withoutCompressedFlag,
} from './sysflag.ts';

/** Magic of records whose topic length is one byte. */
export const MESSAGE_MAGIC_V1 = -626843481; // 0xDAA320A7
/** Magic of records whose topic length is two bytes (topics longer than 127 bytes). */
export const MESSAGE_MAGIC_V2 = -626843477; // 0xDAA320AB
/** End-of-commit-log-file filler; never valid inside a response body. */
const BLANK_MAGIC = -875286124; // 0xCBD43194

/** Default cap on a decompressed body: four times the broker's 4 MiB message limit. */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;

export interface StoredMessage {
  topic: string;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  /** As stored, except that COMPRESSED is cleared once the body has been decompressed (as Java does). */
  sysFlag: number;
  /** The producer's opaque int flag. */
  flag: number;
  /** CRC32 & 0x7FFFFFFF of the body bytes as stored (possibly compressed); not verified here. */
  bodyCrc: number;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
  bornTimestamp: number;
  /** `ip:port`, IPv6 as `[addr]:port`. */
  bornHost: string;
  storeTimestamp: number;
  /** `ip:port`, IPv6 as `[addr]:port`. */
  storeHost: string;
  /** TOTALSIZE of the record. */
  storeSize: number;
  /** Decompressed when the sysFlag says compressed (zlib, LZ4 frame or zstd). */
  body: Buffer;
  properties: Map<string, string>;
  /** Offset message id (store host + commit-log offset; see message-id.ts). */
  msgId: string;
}

export interface DecodeOptions {
  /** Cap on a decompressed body, in bytes; larger bodies are rejected as decompression bombs. */
  maxBodyBytes?: number;
}

export type StoredCompression = 'ZLIB' | 'LZ4' | 'ZSTD';

/** What a fake peer or test needs to build a record; omitted numbers default to 0. */
export interface StoredMessageInput {
  topic: string;
  body: Uint8Array;
  queueId?: number;
  queueOffset?: number;
  commitLogOffset?: number;
  /** BORNHOST_V6 / STOREHOST_V6 are derived from the host addresses; COMPRESSED/type from `compression`. */
  sysFlag?: number;
  flag?: number;
  /** Defaults to the CRC of the stored body bytes, as a broker computes it. */
  bodyCrc?: number;
  reconsumeTimes?: number;
  preparedTransactionOffset?: number;
  bornTimestamp?: number;
  /** `ip:port` or `[ipv6]:port`; defaults to `127.0.0.1:0`. */
  bornHost?: string;
  storeTimestamp?: number;
  /** `ip:port` or `[ipv6]:port`; defaults to `127.0.0.1:10911`. */
  storeHost?: string;
  properties?: PropertiesInput;
  /** Compress `body` with this codec and set the sysFlag bits. Without it the body is written as given. */
  compression?: StoredCompression;
  /** Record version; defaults to V2 only when the topic exceeds 127 UTF-8 bytes (as brokers do). */
  version?: 'V1' | 'V2';
}

const TWO_POW_32 = 2 ** 32;

/** Decodes every record of a PULL / POP / PEEK / QUERY body (an empty body yields no messages). */
export function decodeStoredMessages(body: Buffer, options: DecodeOptions = {}): StoredMessage[] {
  const maxBodyBytes = validCap(options);
  const messages: StoredMessage[] = [];
  let pos = 0;
  while (pos < body.length) {
    const where = `stored message ${messages.length} at byte ${pos}`;
    const size = recordSize(body, pos, where);
    messages.push(decodeRecord(body.subarray(pos, pos + size), where, maxBodyBytes));
    pos += size;
  }
  return messages;
}

/** Decodes a buffer that must hold exactly one record (VIEW_MESSAGE_BY_ID, CHECK_TRANSACTION_STATE). */
export function decodeStoredMessage(record: Buffer, options: DecodeOptions = {}): StoredMessage {
  const maxBodyBytes = validCap(options);
  const where = 'stored message';
  const size = recordSize(record, 0, where);
  if (size !== record.length) {
    throw bad(
      where,
      `TOTALSIZE ${size} disagrees with the ${record.length}-byte buffer (expected one record)`,
    );
  }
  return decodeRecord(record, where, maxBodyBytes);
}

function validCap(options: DecodeOptions): number {
  const cap = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(cap) || cap < 0) throw new RangeError(`maxBodyBytes must be ≥ 0, got ${cap}`);
  return cap;
}

function bad(where: string, message: string): RemotingError {
  return new RemotingError('RMQ_BAD_PAYLOAD', `${where}: ${message}`);
}

/** TOTALSIZE of the record at `pos`, checked to lie within `buffer`. */
function recordSize(buffer: Buffer, pos: number, where: string): number {
  const left = buffer.length - pos;
  if (left < 4) throw bad(where, `TOTALSIZE truncated (${left} bytes left)`);
  const size = buffer.readInt32BE(pos);
  if (size < 8) throw bad(where, `TOTALSIZE ${size} is too small`);
  if (size > left) throw bad(where, `TOTALSIZE ${size} runs past the end of the body (${left} bytes left)`);
  return size;
}

/** Bounds-checked sequential reads within one record; errors name the field being read. */
class RecordReader {
  readonly #record: Buffer;
  readonly #where: string;
  pos = 0;

  constructor(record: Buffer, where: string) {
    this.#record = record;
    this.#where = where;
  }

  fail(message: string): RemotingError {
    return bad(this.#where, message);
  }

  #take(field: string, length: number): number {
    const start = this.pos;
    if (length > this.#record.length - start) {
      throw this.fail(
        `${field} (${length} bytes at byte ${start}) runs past TOTALSIZE ${this.#record.length}`,
      );
    }
    this.pos += length;
    return start;
  }

  int8(field: string): number {
    return this.#record.readUInt8(this.#take(field, 1));
  }

  int16(field: string): number {
    return this.#record.readInt16BE(this.#take(field, 2));
  }

  int32(field: string): number {
    return this.#record.readInt32BE(this.#take(field, 4));
  }

  /** An i64 as a number; values beyond ±2^53 are rejected rather than rounded. */
  int64(field: string): number {
    const at = this.#take(field, 8);
    const value = this.#record.readInt32BE(at) * TWO_POW_32 + this.#record.readUInt32BE(at + 4);
    if (!Number.isSafeInteger(value)) throw this.fail(`${field} exceeds ±2^53`);
    return value;
  }

  bytes(field: string, length: number): Buffer {
    const at = this.#take(field, length);
    return this.#record.subarray(at, at + length);
  }

  /** IP (4 or 16 bytes) and i32 port, formatted as `ip:port`. */
  host(field: string, ipv6: boolean): { text: string; ip: Buffer; port: number } {
    const ip = this.bytes(`${field} address`, ipv6 ? 16 : 4);
    const port = this.int32(`${field} port`);
    if (port < 0 || port > 65535) throw this.fail(`${field} port ${port} is out of range`);
    return { text: formatSocketAddress(ip, port), ip, port };
  }
}

function decodeRecord(record: Buffer, where: string, maxBodyBytes: number): StoredMessage {
  const reader = new RecordReader(record, where);
  const storeSize = reader.int32('TOTALSIZE');
  const magic = reader.int32('MAGICCODE');
  if (magic !== MESSAGE_MAGIC_V1 && magic !== MESSAGE_MAGIC_V2) {
    const hex = (magic >>> 0).toString(16).padStart(8, '0');
    throw reader.fail(
      magic === BLANK_MAGIC ? 'MAGICCODE is the end-of-file blank marker' : `bad MAGICCODE 0x${hex}`,
    );
  }
  const bodyCrc = reader.int32('BODYCRC');
  const queueId = reader.int32('QUEUEID');
  const flag = reader.int32('FLAG');
  const queueOffset = reader.int64('QUEUEOFFSET');
  const commitLogOffset = reader.int64('PHYSICALOFFSET');
  const storedSysFlag = reader.int32('SYSFLAG');
  const bornTimestamp = reader.int64('BORNTIMESTAMP');
  const bornHost = reader.host('BORNHOST', (storedSysFlag & MessageSysFlag.BORNHOST_V6) !== 0);
  const storeTimestamp = reader.int64('STORETIMESTAMP');
  const storeHost = reader.host('STOREHOST', (storedSysFlag & MessageSysFlag.STOREHOST_V6) !== 0);
  const reconsumeTimes = reader.int32('RECONSUMETIMES');
  const preparedTransactionOffset = reader.int64('PREPAREDTRANSACTIONOFFSET');
  const bodyLength = reader.int32('BODYLENGTH');
  if (bodyLength < 0) throw reader.fail(`BODYLENGTH ${bodyLength} is negative`);
  const storedBody = reader.bytes('BODY', bodyLength);
  // V1 stores the topic length in one byte. Java reads it signed, but brokers re-encode retry topics of up
  // to 255 bytes with V1, so it is read unsigned here; TOTALSIZE still catches a truncated cast.
  const topicLength = magic === MESSAGE_MAGIC_V1 ? reader.int8('TOPICLENGTH') : reader.int16('TOPICLENGTH');
  if (topicLength < 0) throw reader.fail(`TOPICLENGTH ${topicLength} is negative`);
  const topic = reader.bytes('TOPIC', topicLength).toString('utf8');
  const propertiesLength = reader.int16('PROPERTIESLENGTH');
  if (propertiesLength < 0) throw reader.fail(`PROPERTIESLENGTH ${propertiesLength} is negative`);
  const properties = decodeProperties(reader.bytes('PROPERTIES', propertiesLength).toString('utf8'));
  if (reader.pos !== storeSize) {
    throw reader.fail(`TOTALSIZE ${storeSize} disagrees with the fields, which end at byte ${reader.pos}`);
  }

  let body: Buffer = Buffer.from(storedBody); // own copy: callers may keep messages longer than the frame
  let sysFlag = storedSysFlag;
  const compression = compressionOf(storedSysFlag, reader);
  if (compression !== undefined && bodyLength > 0) {
    body = decompress(storedBody, compression, maxBodyBytes, reader);
    if (body.length > maxBodyBytes) {
      throw reader.fail(`BODY decompresses to more than maxBodyBytes ${maxBodyBytes}`);
    }
    sysFlag = withoutCompressedFlag(storedSysFlag);
  }

  return {
    topic,
    queueId,
    queueOffset,
    commitLogOffset,
    sysFlag,
    flag,
    bodyCrc,
    reconsumeTimes,
    preparedTransactionOffset,
    bornTimestamp,
    bornHost: bornHost.text,
    storeTimestamp,
    storeHost: storeHost.text,
    storeSize,
    body,
    properties,
    msgId: encodeOffsetMessageId(storeHost.ip, storeHost.port, commitLogOffset),
  };
}

function compressionOf(sysFlag: number, reader: RecordReader): CompressionType | undefined {
  try {
    return compressionTypeOf(sysFlag);
  } catch (error) {
    throw reader.fail(`SYSFLAG: ${(error as Error).message}`);
  }
}

function decompress(
  stored: Buffer,
  type: CompressionType,
  maxBodyBytes: number,
  reader: RecordReader,
): Buffer {
  const name = type === CompressionType.LZ4 ? 'LZ4' : type === CompressionType.ZSTD ? 'ZSTD' : 'ZLIB';
  try {
    switch (type) {
      case CompressionType.LZ4:
        return decompressLz4Frame(stored, maxBodyBytes);
      case CompressionType.ZSTD:
        return zstdDecompressSync(stored, { maxOutputLength: Math.max(1, maxBodyBytes) });
      default:
        return inflateSync(stored, { maxOutputLength: Math.max(1, maxBodyBytes) });
    }
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw reader.fail(`BODY (${name}) decompresses to more than maxBodyBytes ${maxBodyBytes}`);
    }
    throw reader.fail(`BODY (${name}) does not decompress: ${(error as Error).message}`);
  }
}

/** Encodes one record as a broker would (for tests and fake peers). */
export function encodeStoredMessage(message: StoredMessageInput): Buffer {
  const fail = (what: string): never => {
    throw new RemotingError('RMQ_BAD_PAYLOAD', `cannot encode stored message: ${what}`);
  };
  const bornHost = parseSocketAddress(message.bornHost ?? '127.0.0.1:0');
  const storeHost = parseSocketAddress(message.storeHost ?? '127.0.0.1:10911');
  let sysFlag = message.sysFlag ?? 0;
  sysFlag =
    bornHost.ip.length === 16 ? sysFlag | MessageSysFlag.BORNHOST_V6 : sysFlag & ~MessageSysFlag.BORNHOST_V6;
  sysFlag =
    storeHost.ip.length === 16
      ? sysFlag | MessageSysFlag.STOREHOST_V6
      : sysFlag & ~MessageSysFlag.STOREHOST_V6;

  let storedBody = Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength);
  if (message.compression !== undefined) {
    storedBody = compress(storedBody, message.compression);
    sysFlag = withCompression(sysFlag, CompressionType[message.compression]);
  }
  const topic = Buffer.from(message.topic, 'utf8');
  const version = message.version ?? (topic.length > 127 ? 'V2' : 'V1');
  if (topic.length > (version === 'V1' ? 255 : 32767))
    fail(`topic of ${topic.length} bytes is too long for ${version}`);
  const properties = Buffer.from(encodeProperties(message.properties ?? {}), 'utf8');
  if (properties.length > MAX_PROPERTIES_BYTES) fail(`properties are ${properties.length} bytes (max 32767)`);

  const size =
    4 +
    4 +
    4 +
    4 +
    4 +
    8 +
    8 +
    4 +
    8 +
    bornHost.ip.length +
    4 +
    8 +
    storeHost.ip.length +
    4 +
    4 +
    8 +
    4 +
    storedBody.length +
    (version === 'V1' ? 1 : 2) +
    topic.length +
    2 +
    properties.length;
  const out = Buffer.alloc(size);
  let pos = 0;
  const int32 = (value: number, field: string): void => {
    if (!Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31)
      fail(`${field} ${value} is not an int32`);
    pos = out.writeInt32BE(value, pos);
  };
  const int64 = (value: number, field: string): void => {
    if (!Number.isSafeInteger(value)) fail(`${field} ${value} is not a safe integer`);
    pos = out.writeBigInt64BE(BigInt(value), pos);
  };
  int32(size, 'TOTALSIZE');
  int32(version === 'V1' ? MESSAGE_MAGIC_V1 : MESSAGE_MAGIC_V2, 'MAGICCODE');
  int32(message.bodyCrc ?? crc32(storedBody) & 0x7fffffff, 'BODYCRC');
  int32(message.queueId ?? 0, 'QUEUEID');
  int32(message.flag ?? 0, 'FLAG');
  int64(message.queueOffset ?? 0, 'QUEUEOFFSET');
  int64(message.commitLogOffset ?? 0, 'PHYSICALOFFSET');
  int32(sysFlag, 'SYSFLAG');
  int64(message.bornTimestamp ?? 0, 'BORNTIMESTAMP');
  out.set(bornHost.ip, pos);
  pos += bornHost.ip.length;
  int32(bornHost.port, 'BORNHOST port');
  int64(message.storeTimestamp ?? 0, 'STORETIMESTAMP');
  out.set(storeHost.ip, pos);
  pos += storeHost.ip.length;
  int32(storeHost.port, 'STOREHOST port');
  int32(message.reconsumeTimes ?? 0, 'RECONSUMETIMES');
  int64(message.preparedTransactionOffset ?? 0, 'PREPAREDTRANSACTIONOFFSET');
  int32(storedBody.length, 'BODYLENGTH');
  out.set(storedBody, pos);
  pos += storedBody.length;
  pos = version === 'V1' ? out.writeUInt8(topic.length, pos) : out.writeInt16BE(topic.length, pos);
  out.set(topic, pos);
  pos += topic.length;
  pos = out.writeInt16BE(properties.length, pos);
  out.set(properties, pos);
  return out;
}

function compress(body: Buffer, compression: StoredCompression): Buffer {
  switch (compression) {
    case 'ZLIB':
      return deflateSync(body, { level: 5 });
    case 'ZSTD':
      return zstdCompressSync(body);
    case 'LZ4':
      return lz4FrameOfStoredBlocks(body);
  }
}

/**
 * A valid LZ4 frame whose blocks are stored uncompressed (no LZ4 compressor is needed to produce one,
 * and every LZ4 frame reader accepts it). 64 KiB blocks, content checksum on.
 */
function lz4FrameOfStoredBlocks(body: Buffer): Buffer {
  const BLOCK = 64 * 1024;
  const descriptor = Buffer.from([0x64, 0x40]); // version 01, independent blocks, content checksum; 64 KiB
  const parts: Buffer[] = [
    Buffer.from([0x04, 0x22, 0x4d, 0x18]),
    descriptor,
    Buffer.from([(xxh32(descriptor) >>> 8) & 0xff]),
  ];
  for (let start = 0; start < body.length; start += BLOCK) {
    const block = body.subarray(start, start + BLOCK);
    const size = Buffer.alloc(4);
    size.writeUInt32LE((block.length | 0x80000000) >>> 0);
    parts.push(size, block);
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(xxh32(body), 4);
  parts.push(trailer);
  return Buffer.concat(parts);
}
