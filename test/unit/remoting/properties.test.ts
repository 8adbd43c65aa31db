import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  decodeProperties,
  encodeProperties,
  findPropertyProblem,
  MAX_PROPERTIES_BYTES,
  NAME_VALUE_SEPARATOR,
  PROPERTY_SEPARATOR,
  propertiesByteLength,
} from '../../../proxy/src/remoting/message/properties.ts';

/** Strings that are valid keys/values: non-empty, no separators, any Unicode. */
const clean = fc
  .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
  .filter((s) => !s.includes(NAME_VALUE_SEPARATOR) && !s.includes(PROPERTY_SEPARATOR));

function sameMap(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
}

describe('properties string (§4.1)', () => {
  test('encodes key U+0001 value U+0002 per entry, trailing separator included', () => {
    assert.equal(
      encodeProperties({ UNIQ_KEY: 'ABC', WAIT: 'true', TAGS: 'TagA' }),
      'UNIQ_KEY\u0001ABC\u0002WAIT\u0001true\u0002TAGS\u0001TagA\u0002',
    );
    assert.equal(encodeProperties(new Map([['KEYS', 'k1 k2']])), 'KEYS\u0001k1 k2\u0002');
    assert.equal(encodeProperties({}), '');
  });

  test('decodes the §4.5 test-vector properties', () => {
    const decoded = decodeProperties(
      'UNIQ_KEY\u00017F00000100002A9F0000000000000001\u0002WAIT\u0001true\u0002TAGS\u0001TagA\u0002',
    );
    assert.deepEqual(
      [...decoded],
      [
        ['UNIQ_KEY', '7F00000100002A9F0000000000000001'],
        ['WAIT', 'true'],
        ['TAGS', 'TagA'],
      ],
    );
  });

  test('round trip for any clean map, Unicode included (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.tuple(clean, clean), { selector: ([k]) => k, maxLength: 15 }),
        (pairs) => {
          const map = new Map(pairs);
          assert.equal(findPropertyProblem(map), undefined);
          assert.deepEqual(decodeProperties(encodeProperties(map)), map);
        },
      ),
      { numRuns: 500 },
    );
  });

  test('decoding drops empty keys, empty values and entries without U+0001, like the broker', () => {
    const text = '\u0001v\u0002k\u0001\u0002novalue\u0002\u0002ok\u00011\u0002x';
    assert.deepEqual([...decodeProperties(text)], [['ok', '1']]);
  });

  test('a value may contain U+0001; the last property may lack its trailing separator', () => {
    assert.deepEqual(
      [...decodeProperties('k\u0001a\u0001b\u0002last\u0001v')],
      [
        ['k', 'a\u0001b'],
        ['last', 'v'],
      ],
    );
  });

  test('a later duplicate key wins', () => {
    assert.equal(decodeProperties('k\u00011\u0002k\u00012\u0002').get('k'), '2');
  });

  test('decoding never throws and stays fast on separator-heavy input', () => {
    fc.assert(
      fc.property(
        fc
          .array(fc.constantFrom('\u0001', '\u0002', 'a', '中', ''), { maxLength: 200 })
          .map((parts) => parts.join('')),
        (text) => {
          for (const [key, value] of decodeProperties(text)) {
            assert.ok(
              key.length > 0 && value.length > 0 && !key.includes('\u0001') && !key.includes('\u0002'),
            );
            assert.ok(!value.includes('\u0002'));
          }
        },
      ),
      { numRuns: 500 },
    );
    const started = performance.now();
    decodeProperties('\u0002'.repeat(500_000));
    decodeProperties(`k${'a'.repeat(500_000)}`);
    decodeProperties('k\u0001'.repeat(200_000));
    assert.ok(performance.now() - started < 500);
  });

  test('separators inside keys or values are reported, not silently encoded', () => {
    assert.deepEqual(findPropertyProblem({ ok: 'v', 'a\u0001b': 'v' }), {
      key: 'a\u0001b',
      part: 'key',
      reason: 'contains U+0001',
    });
    assert.deepEqual(findPropertyProblem({ k: 'x\u0002y' }), {
      key: 'k',
      part: 'value',
      reason: 'contains U+0002',
    });
    assert.deepEqual(findPropertyProblem(new Map([['k', '']])), { key: 'k', part: 'value', reason: 'empty' });
    assert.deepEqual(findPropertyProblem({ '': 'v' }), { key: '', part: 'key', reason: 'empty' });
  });

  test('findPropertyProblem catches every map that would not survive a round trip', () => {
    const any = fc.string({ unit: fc.constantFrom('a', 'b', '\u0001', '\u0002', 'é'), maxLength: 4 });
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(any, any), { selector: ([k]) => k, maxLength: 4 }), (pairs) => {
        const map = new Map(pairs);
        const survives = sameMap(decodeProperties(encodeProperties(map)), map);
        if (findPropertyProblem(map) === undefined) assert.ok(survives);
        if (!survives) assert.notEqual(findPropertyProblem(map), undefined);
      }),
      { numRuns: 1000 },
    );
  });

  test('the size limit counts UTF-8 bytes (Short.MAX_VALUE)', () => {
    assert.equal(MAX_PROPERTIES_BYTES, 32767);
    assert.equal(propertiesByteLength(encodeProperties({ k: '中文' })), 1 + 1 + 6 + 1);
    const limit = encodeProperties({ k: 'x'.repeat(MAX_PROPERTIES_BYTES - 3) });
    assert.equal(propertiesByteLength(limit), MAX_PROPERTIES_BYTES);
    // The same number of characters, but one of them takes 3 bytes: over the limit.
    const over = encodeProperties({ k: `中${'x'.repeat(MAX_PROPERTIES_BYTES - 4)}` });
    assert.equal(over.length, limit.length);
    assert.equal(propertiesByteLength(over), MAX_PROPERTIES_BYTES + 2);
    assert.equal(propertiesByteLength('😀'), 4);
  });
});
