/**
 * TLS material for the gRPC port: PEM files from the configuration, or a self-signed certificate made
 * at start (the Java proxy's default "test mode"). Official Java and Go clients use TLS by default and
 * do not verify the server certificate, so a fresh self-signed one lets them connect out of the box.
 *
 * Node can make keys and signatures but not certificates, so this file encodes the few DER structures
 * an X.509 v3 certificate needs (ECDSA P-256 / SHA-256) rather than pull in a library.
 */
import { createPrivateKey, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { hostname } from 'node:os';

export interface TlsMaterial {
  readonly certPem: string;
  readonly keyPem: string;
  /** True when made at start rather than read from files. */
  readonly selfSigned: boolean;
}

export async function loadTlsMaterial(certFile: string, keyFile: string): Promise<TlsMaterial> {
  const [certPem, keyPem] = await Promise.all([readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
  // Fail at start with a message naming the file, not at the first handshake.
  try {
    new X509Certificate(certPem);
  } catch (error) {
    throw new Error(`tls.certFile ${certFile}: not a PEM certificate (${(error as Error).message})`);
  }
  try {
    createPrivateKey(keyPem);
  } catch (error) {
    throw new Error(`tls.keyFile ${keyFile}: not a PEM private key (${(error as Error).message})`);
  }
  return { certPem, keyPem, selfSigned: false };
}

export interface SelfSignedOptions {
  /** DNS names and IP addresses the certificate is valid for (localhost and loopback are always added). */
  readonly names?: readonly string[];
  readonly commonName?: string;
  readonly validDays?: number;
  readonly now?: Date;
}

export function generateSelfSigned(options: SelfSignedOptions = {}): TlsMaterial {
  const now = options.now ?? new Date();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const names = [...new Set(['localhost', '127.0.0.1', '::1', hostname(), ...(options.names ?? [])])].filter(
    (entry) => sanEligible(entry) && !['0.0.0.0', '::'].includes(entry),
  );
  const subject = name(options.commonName ?? 'rocketmq-proxy (self-signed)');
  const notBefore = new Date(now.getTime() - 60 * 60 * 1000); // tolerate clients with a slow clock
  const notAfter = new Date(now.getTime() + (options.validDays ?? 3650) * 24 * 60 * 60 * 1000);
  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f; // positive INTEGER
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    ECDSA_WITH_SHA256,
    subject, // issuer = subject: self-signed
    sequence(time(notBefore), time(notAfter)),
    subject,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(
      3,
      sequence(
        extension('2.5.29.19', true, sequence()), // basicConstraints: not a CA
        extension('2.5.29.15', true, bitString(Buffer.from([0x80]), 7)), // keyUsage: digitalSignature
        extension('2.5.29.37', false, sequence(oid('1.3.6.1.5.5.7.3.1'))), // extKeyUsage: serverAuth
        extension('2.5.29.17', false, sequence(...names.map(generalName))), // subjectAltName
      ),
    ),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = sequence(tbs, ECDSA_WITH_SHA256, bitString(signature, 0));
  return {
    certPem: pem('CERTIFICATE', der),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    selfSigned: true,
  };
}

/** IPs (IPv4-mapped IPv6 aside) and plain DNS names; anything else would make an invalid SAN. */
function sanEligible(entry: string): boolean {
  const family = isIP(entry);
  if (family === 4) return true;
  if (family === 6) return !entry.includes('.');
  return /^[A-Za-z0-9*.-]+$/.test(entry);
}

// ---- DER ---------------------------------------------------------------------------------

function tlv(tag: number, content: Buffer): Buffer {
  const length = content.length;
  let header: Buffer;
  if (length < 0x80) header = Buffer.from([tag, length]);
  else {
    const bytes: number[] = [];
    for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
    header = Buffer.from([tag, 0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([header, content]);
}

function sequence(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

function integer(bytes: Buffer): Buffer {
  return tlv(0x02, bytes);
}

function explicit(tagNumber: number, content: Buffer): Buffer {
  return tlv(0xa0 | tagNumber, content);
}

function bitString(bytes: Buffer, unusedBits: number): Buffer {
  return tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = Math.floor(arc / 128); value > 0; value = Math.floor(value / 128))
      chunk.unshift(0x80 | (value & 0x7f));
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

const ECDSA_WITH_SHA256 = sequence(oid('1.2.840.10045.4.3.2'));

function name(commonName: string): Buffer {
  return sequence(tlv(0x31, sequence(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
}

/** UTCTime until 2049, GeneralizedTime after, as RFC 5280 requires. */
function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14); // yyyyMMddHHmmss
  return date.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`, 'ascii'))
    : tlv(0x18, Buffer.from(`${iso}Z`, 'ascii'));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  const flag = critical ? [tlv(0x01, Buffer.from([0xff]))] : [];
  return sequence(oid(id), ...flag, tlv(0x04, value));
}

function generalName(entry: string): Buffer {
  const family = isIP(entry);
  if (family === 4) return tlv(0x87, Buffer.from(entry.split('.').map(Number)));
  if (family === 6) return tlv(0x87, ipv6Bytes(entry));
  return tlv(0x82, Buffer.from(entry, 'ascii')); // dNSName
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const left = groups(head);
  const right = address.includes('::') ? groups(tail) : [];
  const all = [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  const bytes = Buffer.alloc(16);
  for (const [index, group] of all.entries()) bytes.writeUInt16BE(Number.parseInt(group, 16), index * 2);
  return bytes;
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}
