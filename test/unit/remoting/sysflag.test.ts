import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  CompressionType,
  compressionTypeOf,
  isCompressed,
  MessageSysFlag,
  TransactionType,
  transactionTypeOf,
  withCompression,
  withoutCompressedFlag,
  withTransactionType,
} from '../../../proxy/src/remoting/message/sysflag.ts';

const int32 = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const transactionTypes = Object.values(TransactionType);
const compressionTypes = Object.values(CompressionType);

describe('MessageSysFlag (§4.3)', () => {
  test('bit values match the spec table', () => {
    assert.deepEqual(
      [
        MessageSysFlag.COMPRESSED,
        MessageSysFlag.MULTI_TAGS,
        MessageSysFlag.BORNHOST_V6,
        MessageSysFlag.STOREHOST_V6,
        MessageSysFlag.NEED_UNWRAP,
        MessageSysFlag.INNER_BATCH,
      ],
      [0x1, 0x2, 0x10, 0x20, 0x40, 0x80],
    );
    assert.deepEqual(transactionTypes, [0x0, 0x4, 0x8, 0xc]);
  });

  test('transaction type lives in bits 2-3', () => {
    assert.equal(transactionTypeOf(0x4 | 0x1 | 0x100), TransactionType.PREPARED);
    assert.equal(transactionTypeOf(0xc), TransactionType.ROLLBACK);
    assert.equal(transactionTypeOf(0x33), TransactionType.NOT);
    assert.equal(withTransactionType(0x4 | 0x20, TransactionType.COMMIT), 0x8 | 0x20);
  });

  test('compression type: bits 8-10 when COMPRESSED is set; 0 means ZLIB for old clients', () => {
    assert.equal(compressionTypeOf(0x100), undefined);
    assert.equal(compressionTypeOf(0x0), undefined);
    assert.equal(compressionTypeOf(0x1), CompressionType.ZLIB);
    assert.equal(compressionTypeOf(0x101), CompressionType.LZ4);
    assert.equal(compressionTypeOf(0x201), CompressionType.ZSTD);
    assert.equal(compressionTypeOf(0x301), CompressionType.ZLIB);
    for (const code of [4, 5, 6, 7]) {
      assert.throws(() => compressionTypeOf((code << 8) | 1), {
        code: 'RMQ_BAD_PAYLOAD',
        message: new RegExp(`unknown compression type ${code}`),
      });
    }
  });

  test('a Java producer send flag: compressed LZ4 transactional half message', () => {
    const flag = withTransactionType(withCompression(0, CompressionType.LZ4), TransactionType.PREPARED);
    assert.equal(flag, 0x105);
    assert.ok(isCompressed(flag));
    assert.equal(withoutCompressedFlag(flag), 0x104);
  });

  test('setters change only their own bits (fast-check over any int32)', () => {
    fc.assert(
      fc.property(
        int32,
        fc.constantFrom(...transactionTypes),
        fc.constantFrom(...compressionTypes),
        (flag, tx, ct) => {
          const withTx = withTransactionType(flag, tx);
          assert.equal(transactionTypeOf(withTx), tx);
          assert.equal(withTx & ~MessageSysFlag.TRANSACTION_MASK, flag & ~MessageSysFlag.TRANSACTION_MASK);
          const compressed = withCompression(flag, ct);
          assert.equal(compressionTypeOf(compressed), ct);
          const others = ~(MessageSysFlag.COMPRESSION_TYPE_MASK | MessageSysFlag.COMPRESSED);
          assert.equal(compressed & others, flag & others);
          const inflated = withoutCompressedFlag(compressed);
          assert.ok(!isCompressed(inflated));
          assert.equal(compressionTypeOf(inflated), undefined);
          assert.equal(
            inflated & MessageSysFlag.COMPRESSION_TYPE_MASK,
            compressed & MessageSysFlag.COMPRESSION_TYPE_MASK,
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});
