/**
 * Encodes stored-message records ("MessageExt") as a broker writes them, for tests and fake peers: the
 * inverse of proxy/src/remoting/message/stored-message.ts, which only decodes. Compressing the body (zlib,
 * zstd, or an LZ4 frame of stored blocks) also sets the sysFlag's compression bits.
 */
import { crc32, deflateSync, zstdCompressSync } from 'node:zlib';
import { RemotingError } from '../../../proxy/src/remoting/errors.ts';
import { xxh32 } from '../../../proxy/src/remoting/message/lz4.ts';
import { parseSocketAddress } from '../../../proxy/src/remoting/message/message-id.ts';
import {
  encodeProperties,
  MAX_PROPERTIES_BYTES,
  type PropertiesInput,
} from '../../../proxy/src/remoting/message/properties.ts';
import { MESSAGE_MAGIC_V1, MESSAGE_MAGIC_V2 } from '../../../proxy/src/remoting/message/stored-message.ts';
import {
  CompressionType,
  MessageSysFlag,
  withCompression,
} from '../../../proxy/src/remoting/message/sysflag.ts';

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

/** Encodes one record as a broker would. */
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
