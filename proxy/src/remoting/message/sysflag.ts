/**
 * MessageSysFlag: the int32 bit set stored with every message and sent with every send request.
 */
import { RemotingError } from '../errors.ts';

export const MessageSysFlag = {
  COMPRESSED: 0x1,
  MULTI_TAGS: 0x2,
  /** Bits 2–3 hold the transaction type (see `TransactionType`). */
  TRANSACTION_MASK: 0xc,
  /** Set by the broker when the born host is a 16-byte IPv6 address. */
  BORNHOST_V6: 0x10,
  /** Set by the broker when the store host is a 16-byte IPv6 address. */
  STOREHOST_V6: 0x20,
  NEED_UNWRAP: 0x40,
  INNER_BATCH: 0x80,
  /** Bits 8–10 hold the compression type when COMPRESSED is set (see `CompressionType`). */
  COMPRESSION_TYPE_MASK: 0x700,
} as const;

export const TransactionType = {
  NOT: 0x0,
  PREPARED: 0x4,
  COMMIT: 0x8,
  ROLLBACK: 0xc,
} as const;
export type TransactionType = (typeof TransactionType)[keyof typeof TransactionType];

/** Compression type codes as stored in bits 8–10. */
export const CompressionType = {
  LZ4: 1,
  ZSTD: 2,
  ZLIB: 3,
} as const;
export type CompressionType = (typeof CompressionType)[keyof typeof CompressionType];

const COMPRESSION_TYPE_SHIFT = 8;

/** The transaction bits of a stored or sent sysFlag; the Remoting ingress tells half messages by it. */
export function transactionTypeOf(sysFlag: number): TransactionType {
  return (sysFlag & MessageSysFlag.TRANSACTION_MASK) as TransactionType;
}

export function withTransactionType(sysFlag: number, type: TransactionType): number {
  return (sysFlag & ~MessageSysFlag.TRANSACTION_MASK) | type;
}

export function isCompressed(sysFlag: number): boolean {
  return (sysFlag & MessageSysFlag.COMPRESSED) !== 0;
}

/**
 * The body's compression, or undefined when COMPRESSED is clear. Type 0 with COMPRESSED set means ZLIB:
 * clients older than the type bits only ever used zlib.
 */
export function compressionTypeOf(sysFlag: number): CompressionType | undefined {
  if (!isCompressed(sysFlag)) return undefined;
  const code = (sysFlag & MessageSysFlag.COMPRESSION_TYPE_MASK) >> COMPRESSION_TYPE_SHIFT;
  switch (code) {
    case 0:
    case CompressionType.ZLIB:
      return CompressionType.ZLIB;
    case CompressionType.LZ4:
      return CompressionType.LZ4;
    case CompressionType.ZSTD:
      return CompressionType.ZSTD;
    default:
      throw new RemotingError(
        'RMQ_BAD_PAYLOAD',
        `sysFlag 0x${(sysFlag >>> 0).toString(16)} has unknown compression type ${code}`,
      );
  }
}

/** Marks a body as compressed with `type`, replacing any previous compression bits. */
export function withCompression(sysFlag: number, type: CompressionType): number {
  return (
    (sysFlag & ~MessageSysFlag.COMPRESSION_TYPE_MASK) |
    MessageSysFlag.COMPRESSED |
    (type << COMPRESSION_TYPE_SHIFT)
  );
}

/** Clears COMPRESSED once the body has been inflated (as the Java client does); the type bits are kept. */
export function withoutCompressedFlag(sysFlag: number): number {
  return sysFlag & ~MessageSysFlag.COMPRESSED;
}
