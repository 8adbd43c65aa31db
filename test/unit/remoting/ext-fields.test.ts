import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { extFields } from '../../../proxy/src/remoting/requests/ext-fields.ts';

describe('extFields (§1.5 value rules)', () => {
  test('strings as is, integers in decimal, booleans as true/false, undefined dropped', () => {
    assert.deepEqual(
      extFields({
        topic: 'T',
        queueId: -1,
        offset: 9007199254740991,
        order: false,
        force: true,
        bname: undefined,
        empty: '',
      }),
      { topic: 'T', queueId: '-1', offset: '9007199254740991', order: 'false', force: 'true', empty: '' },
    );
  });

  test('key order follows the input', () => {
    assert.deepEqual(Object.keys(extFields({ b: 1, a: 2, c: undefined, d: 'x' })), ['b', 'a', 'd']);
  });

  test('numbers that Java could not parse as int/long are programming errors', () => {
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -(2 ** 53)]) {
      assert.throws(() => extFields({ queueId: bad }), {
        name: 'RangeError',
        message: new RegExp(`header field "queueId" must be a safe integer, got ${bad}`),
      });
    }
  });

  test('every value is a string Java parses back to the same value (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string({ minLength: 1, maxLength: 10 }).filter((k) => k !== '__proto__'),
          fc.oneof(fc.string(), fc.maxSafeInteger(), fc.boolean(), fc.constant(undefined)),
        ),
        (header) => {
          const fields = extFields(header);
          for (const [key, value] of Object.entries(header)) {
            if (value === undefined) {
              assert.ok(!Object.hasOwn(fields, key));
              continue;
            }
            const text = fields[key]!;
            assert.equal(typeof text, 'string');
            if (typeof value === 'number') assert.equal(BigInt(text), BigInt(value));
            else if (typeof value === 'boolean') assert.equal(text === 'true', value);
            else assert.equal(text, value);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
