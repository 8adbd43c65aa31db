/**
 * Message ids: the broker's offset message id (store host + commit-log offset) and the producer's
 * UNIQ_KEY, plus the socket-address byte forms both are built from.
 */

import { randomBytes } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { RemotingError } from '../errors.ts';

export interface SocketAddressBytes {
  /** 4 bytes (IPv4) or 16 bytes (IPv6). */
  ip: Uint8Array;
  port: number;
}

export interface OffsetMessageId {
  /** `ip:port`, IPv6 as `[addr]:port`. */
  storeHost: string;
  ip: Buffer;
  port: number;
  commitLogOffset: number;
}

const TWO_POW_32 = 2 ** 32;
const IPV4_ID_HEX_LENGTH = 32;
const IPV6_ID_HEX_LENGTH = 56;
const HEX_PATTERN = /^[0-9A-Fa-f]*$/;

function badPayload(message: string): RemotingError {
  return new RemotingError('RMQ_BAD_PAYLOAD', message);
}

/** Dotted IPv4, or RFC 5952 IPv6 (lowercase, longest zero run compressed). */
export function formatIp(ip: Uint8Array): string {
  if (ip.length === 4) return `${ip[0]}.${ip[1]}.${ip[2]}.${ip[3]}`;
  if (ip.length !== 16) throw badPayload(`an IP address has 4 or 16 bytes, not ${ip.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((ip[i]! << 8) | ip[i + 1]!);
  let bestStart = -1;
  let bestLength = 1; // a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let end = i;
    while (end < 8 && groups[end] === 0) end++;
    if (end - i > bestLength) {
      bestStart = i;
      bestLength = end - i;
    }
    i = end;
  }
  const hex = groups.map((group) => group.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** `ip:port`, with IPv6 in brackets so the port stays unambiguous. */
export function formatSocketAddress(ip: Uint8Array, port: number): string {
  return ip.length === 16 ? `[${formatIp(ip)}]:${port}` : `${formatIp(ip)}:${port}`;
}

/** Bytes of a textual IPv4 or IPv6 address (a zone suffix `%eth0` is ignored). */
export function parseIp(text: string): Buffer {
  if (isIPv4(text)) return Buffer.from(text.split('.').map(Number));
  if (!isIPv6(text)) throw badPayload(`not an IP address: ${JSON.stringify(text)}`);
  const zoneAt = text.indexOf('%');
  const address = zoneAt < 0 ? text : text.slice(0, zoneAt);
  const [head = '', tail] = address.split('::');
  const headGroups = ipv6Groups(head);
  const tailGroups = tail === undefined ? [] : ipv6Groups(tail);
  const zeros = new Array<number>(8 - headGroups.length - tailGroups.length).fill(0);
  const bytes = Buffer.alloc(16);
  for (const [i, group] of [...headGroups, ...zeros, ...tailGroups].entries())
    bytes.writeUInt16BE(group, i * 2);
  return bytes;
}

/** Hex groups of one side of `::`; a trailing dotted IPv4 part counts as two groups. */
function ipv6Groups(part: string): number[] {
  if (part === '') return [];
  const groups: number[] = [];
  for (const piece of part.split(':')) {
    if (piece.includes('.')) {
      const [a = 0, b = 0, c = 0, d = 0] = piece.split('.').map(Number);
      groups.push((a << 8) | b, (c << 8) | d);
    } else {
      groups.push(Number.parseInt(piece, 16));
    }
  }
  return groups;
}

/** Parses `ip:port` or `[ipv6]:port`. */
export function parseSocketAddress(address: string): SocketAddressBytes {
  const bracketed = address.startsWith('[');
  const colon = bracketed ? address.indexOf(']:') + 1 : address.lastIndexOf(':');
  if (colon <= 0) throw badPayload(`not an ip:port address: ${JSON.stringify(address)}`);
  const host = bracketed ? address.slice(1, colon - 1) : address.slice(0, colon);
  const portText = address.slice(colon + 1);
  const port = Number(portText);
  if (!/^\d{1,5}$/.test(portText) || port > 65535) {
    throw badPayload(`bad port in address ${JSON.stringify(address)}`);
  }
  return { ip: parseIp(host), port };
}

/** Uppercase hex of store IP + i32 port + i64 commit-log offset (32 chars for IPv4, 56 for IPv6). */
export function encodeOffsetMessageId(ip: Uint8Array, port: number, commitLogOffset: number): string {
  if (ip.length !== 4 && ip.length !== 16) throw badPayload(`store host IP has ${ip.length} bytes`);
  if (!Number.isSafeInteger(commitLogOffset))
    throw badPayload(`commit-log offset ${commitLogOffset} is not an integer`);
  const high = Math.floor(commitLogOffset / TWO_POW_32);
  const low = commitLogOffset - high * TWO_POW_32;
  const hex =
    Buffer.from(ip.buffer, ip.byteOffset, ip.byteLength).toString('hex') +
    hex32(port) +
    hex32(high) +
    hex32(low);
  return hex.toUpperCase();
}

function hex32(value: number): string {
  return (value >>> 0).toString(16).padStart(8, '0');
}

export function decodeOffsetMessageId(id: string): OffsetMessageId {
  if ((id.length !== IPV4_ID_HEX_LENGTH && id.length !== IPV6_ID_HEX_LENGTH) || !HEX_PATTERN.test(id)) {
    throw badPayload(`offset message id must be 32 or 56 hex chars: ${JSON.stringify(id)}`);
  }
  const bytes = Buffer.from(id, 'hex');
  const ipLength = bytes.length - 12;
  const ip = bytes.subarray(0, ipLength);
  const port = bytes.readInt32BE(ipLength);
  const commitLogOffset = bytes.readInt32BE(ipLength + 4) * TWO_POW_32 + bytes.readUInt32BE(ipLength + 8);
  if (!Number.isSafeInteger(commitLogOffset)) {
    throw badPayload(`commit-log offset in message id ${id} exceeds 2^53`);
  }
  return { storeHost: formatSocketAddress(ip, port), ip, port, commitLogOffset };
}

let hostIp: Buffer | undefined;

/** This host's address for UNIQ_KEYs: the first external IPv4, else external IPv6, else 127.0.0.1. */
export function hostIpBytes(): Buffer {
  if (hostIp === undefined) {
    const external = Object.values(networkInterfaces())
      .flatMap((addresses) => addresses ?? [])
      .filter((address) => !address.internal);
    const chosen =
      external.find((address) => address.family === 'IPv4') ??
      external.find((address) => address.family === 'IPv6');
    hostIp = parseIp(chosen?.address ?? '127.0.0.1');
  }
  return hostIp;
}

export interface UniqueIdGeneratorOptions {
  ip?: Uint8Array;
  pid?: number;
  /** Any per-process random int32 (Java uses its class loader's hash). */
  processTag?: number;
  now?: () => number;
}

/**
 * A UNIQ_KEY source: uppercase hex of ip, pid (low 16 bits), process tag (i32), ms since the start of the
 * current local month (i32, wrapping like Java's int cast) and a wrapping i16 counter.
 */
export function createUniqueIdGenerator(options: UniqueIdGeneratorOptions = {}): () => string {
  const ip = options.ip ?? hostIpBytes();
  const prefix = Buffer.alloc(ip.length + 6);
  prefix.set(ip, 0);
  prefix.writeUInt16BE((options.pid ?? process.pid) & 0xffff, ip.length);
  prefix.writeInt32BE(options.processTag ?? randomBytes(4).readInt32BE(0), ip.length + 2);
  const prefixHex = prefix.toString('hex').toUpperCase();
  const now = options.now ?? Date.now;
  const suffix = Buffer.alloc(6);
  let monthStart = 0;
  let nextMonthStart = 0;
  let counter = 0;
  return () => {
    const time = now();
    if (time >= nextMonthStart || time < monthStart) {
      const date = new Date(time);
      monthStart = new Date(date.getFullYear(), date.getMonth(), 1).getTime();
      nextMonthStart = new Date(date.getFullYear(), date.getMonth() + 1, 1).getTime();
    }
    suffix.writeUInt32BE((time - monthStart) >>> 0, 0);
    suffix.writeUInt16BE(counter, 4);
    counter = (counter + 1) & 0xffff;
    return prefixHex + suffix.toString('hex').toUpperCase();
  };
}

let defaultGenerator: (() => string) | undefined;

/** A fresh UNIQ_KEY from this process's shared generator. */
export function nextUniqueId(): string {
  defaultGenerator ??= createUniqueIdGenerator();
  return defaultGenerator();
}
