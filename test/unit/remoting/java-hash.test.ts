import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { javaStringHashCode } from '../../../proxy/src/remoting/message/java-hash.ts';

/** The definition, in exact integer arithmetic: s[0]*31^(n-1) + … + s[n-1], reduced to a signed int32. */
function reference(text: string): number {
  let hash = 0n;
  for (let i = 0; i < text.length; i++) hash = hash * 31n + BigInt(text.charCodeAt(i));
  return Number(BigInt.asIntN(32, hash));
}

describe('Java String.hashCode (tag codeSet, Q15)', () => {
  test('§9 vector 6: "TagA" and "中文"', () => {
    assert.equal(javaStringHashCode('TagA'), 2598919);
    assert.equal(javaStringHashCode('中文'), 646394);
  });

  test('well-known values, including overflow to negative', () => {
    assert.equal(javaStringHashCode(''), 0);
    assert.equal(javaStringHashCode('a'), 97);
    assert.equal(javaStringHashCode('hello'), 99162322);
    assert.equal(javaStringHashCode('Hello, World!'), 1498789909);
    assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
    assert.equal(javaStringHashCode('TopicTest'), reference('TopicTest'));
  });

  test('hashes UTF-16 code units: a non-BMP character counts as its surrogate pair', () => {
    assert.equal(javaStringHashCode('😀'), 0xd83d * 31 + 0xde00);
    assert.notEqual(javaStringHashCode('😀'), 0x1f600);
  });

  test('matches the exact-arithmetic definition for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        const hash = javaStringHashCode(text);
        assert.equal(hash, reference(text));
        assert.ok(Number.isInteger(hash) && hash >= -(2 ** 31) && hash < 2 ** 31);
      }),
      { numRuns: 1000 },
    );
  });
});
