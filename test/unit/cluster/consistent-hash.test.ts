import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { consistentHash, fifoQueueIndex } from '../../../proxy/src/cluster/consistent-hash.ts';
import { javaStringHashCode } from '../../../proxy/src/remoting/message/java-hash.ts';

describe('Guava consistentHash', () => {
  test("matches Guava's own golden values (HashingTest, cross-language compatibility)", () => {
    const golden100 = [0, 55, 62, 8, 45, 59, 86, 97, 82, 59, 73, 37, 17, 56, 86, 21, 90, 37, 38, 83];
    assert.deepEqual(
      golden100.map((_, input) => consistentHash(BigInt(input), 100)),
      golden100,
    );
    assert.equal(consistentHash(10863919174838991n, 11), 6);
    assert.equal(consistentHash(2016238256797177309n, 11), 3);
    assert.equal(consistentHash(1673758223894951030n, 11), 5);
    assert.equal(consistentHash(2n, 100001), 80343);
    assert.equal(consistentHash(2201n, 100001), 22152);
    assert.equal(consistentHash(2202n, 100001), 15018);
  });

  test('rejects bucket counts Guava rejects', () => {
    assert.throws(() => consistentHash(1n, 0), RangeError);
    assert.throws(() => consistentHash(1n, -3), RangeError);
  });

  test('property: always in range, and growing n by one moves a key only to the new bucket', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.integer({ min: 1, max: 500 }),
        (input, n) => {
          const before = consistentHash(input, n);
          const after = consistentHash(input, n + 1);
          assert.ok(before >= 0 && before < n);
          assert.ok(after === before || after === n);
        },
      ),
    );
  });
});

describe('FIFO queue index (the Java proxy: Hashing.consistentHash(group.hashCode(), writeQueues.size()))', () => {
  // Computed with guava-32.0.1-jre.jar from the RocketMQ 5.4.0 distribution:
  //   Hashing.consistentHash(group.hashCode(), n) for n = 1, 2, 3, 4, 8, 16, 31, 1000.
  const JAVA_VECTORS: readonly [string, number, number[]][] = [
    ['order-1', -1207111310, [0, 0, 0, 3, 3, 3, 3, 489]],
    ['order-2', -1207111309, [0, 0, 2, 2, 2, 11, 28, 184]],
    ['user-42', -147182656, [0, 1, 1, 1, 1, 1, 1, 592]],
    ['', 0, [0, 0, 0, 0, 0, 0, 0, 0]],
    ['a', 97, [0, 0, 0, 0, 0, 0, 29, 346]],
    ['Zz', 2912, [0, 1, 1, 1, 7, 12, 12, 135]],
    ['group-ü-€', -1484002355, [0, 1, 1, 1, 1, 1, 17, 226]],
    ['😀emoji', -1233692477, [0, 1, 2, 2, 6, 6, 6, 250]],
    ['mq_fifo_group_000017', -1073737058, [0, 0, 0, 0, 0, 0, 24, 34]],
    ['x'.repeat(63), -108785800, [0, 0, 2, 2, 2, 2, 27, 474]],
  ];
  const COUNTS = [1, 2, 3, 4, 8, 16, 31, 1000];

  for (const [group, hash, expected] of JAVA_VECTORS) {
    test(`group ${JSON.stringify(group)} lands where the Java proxy puts it`, () => {
      assert.equal(javaStringHashCode(group), hash);
      assert.deepEqual(
        COUNTS.map((n) => fifoQueueIndex(group, n)),
        expected,
      );
    });
  }

  test('negative string hashes are sign-extended, not read as unsigned', () => {
    // 'order-1' hashes to a negative int; as an unsigned 32-bit value it would pick another queue.
    const unsigned = consistentHash(BigInt(javaStringHashCode('order-1') >>> 0), 1000);
    assert.notEqual(unsigned, fifoQueueIndex('order-1', 1000));
  });
});
