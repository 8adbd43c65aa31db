/**
 * The stored-message record ("MessageExt") that brokers return in PULL / POP / PEEK / QUERY / VIEW bodies
 * and send as the CHECK_TRANSACTION_STATE body (Java `MessageDecoder`'s record layout). A body holds zero or more records
 * back to back, each starting with its own total size.
 *
 * Decoding is strict: every length is checked against the record, the fields must end exactly at
 * TOTALSIZE (brokers always write exact records, and Java's sequential reader would misparse anything
 * else), and decompression is capped. Any violation throws RemotingError('RMQ_BAD_PAYLOAD') naming the field.
 * The proxy only decodes records; the encoder for tests is test/support/remoting/stored-message-encoder.ts.
 */
import { inflateSync, zstdDecompressSync } from 'node:zlib';
import { RemotingError } from '../errors.ts';
import { decompressLz4Frame } from './lz4.ts';
import { encodeOffsetMessageId, formatSocketAddress } from './message-id.ts';
import { decodeProperties } from './properties.ts';
import { CompressionType, compressionTypeOf, MessageSysFlag, withoutCompressedFlag } from './sysflag.ts';

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
