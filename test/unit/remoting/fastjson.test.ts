import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { RemotingError } from '../../../proxy/src/remoting/errors.ts';
import {
  canonicalJson,
  expectArray,
  expectObject,
  expectString,
  JsonObject,
  type JsonValue,
  MAX_JSON_DEPTH,
  MAX_KEY_LENGTH,
  parseFastjson,
  readLong,
  readNumber,
} from '../../../proxy/src/remoting/fastjson.ts';

/** Plain JS view of a parsed value: objects by canonical key, bigints kept. */
function plain(value: JsonValue): unknown {
  if (value instanceof JsonObject)
    return Object.fromEntries([...value.entries()].map((e) => [e.key, plain(e.value)]));
  if (Array.isArray(value)) return value.map(plain);
  return value;
}

function object(value: JsonValue): JsonObject {
  return expectObject(value, 'test value');
}

function badPayload(text: string, message?: RegExp): void {
  assert.throws(
    () => parseFastjson(text),
    (error: unknown) => {
      assert.ok(error instanceof RemotingError, `not a RemotingError: ${String(error)}`);
      assert.equal(error.code, 'RMQ_BAD_PAYLOAD');
      if (message) assert.match(error.message, message);
      return true;
    },
    text.slice(0, 60),
  );
}

// remoting.md §2.1, legacy (request version < 401) and standard forms of the same TopicRouteData.
const ROUTE_LEGACY =
  '{"brokerDatas":[{"brokerAddrs":{0:"192.168.1.10:10911",1:"192.168.1.11:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":8,"topicSysFlag":0,"writeQueueNums":8}]}';
const ROUTE_STANDARD =
  '{"brokerDatas":[{"brokerAddrs":{"0":"192.168.1.10:10911","1":"192.168.1.11:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}],"filterServerTable":{},"queueDatas":[{"brokerName":"broker-a","perm":6,"readQueueNums":8,"topicSysFlag":0,"writeQueueNums":8}]}';
// §2.3: ClusterInfo always uses the legacy bare integer keys.
const CLUSTER_INFO =
  '{"brokerAddrTable":{"broker-a":{"brokerAddrs":{0:"192.168.1.10:10911"},"brokerName":"broker-a","cluster":"DefaultCluster","enableActingMaster":false}},"clusterAddrTable":{"DefaultCluster":["broker-a"]}}';
// §2.5 / J2: ResetOffsetBody, a map keyed by MessageQueue objects.
const RESET_OFFSET =
  '{"offsetTable":{{"brokerName":"b","queueId":0,"topic":"T"}:100,{"brokerName":"b","queueId":1,"topic":"T"}:-1}}';
// §2.2 HeartbeatData and §2.4 ConsumerConnection: standard JSON with non-ASCII-free content.
const HEARTBEAT =
  '{"clientID":"10.0.0.7@12345#98127318731","consumerDataSet":[{"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY","groupName":"CG_A","messageModel":"CLUSTERING","subscriptionDataSet":[{"classFilterMode":false,"codeSet":[2598919],"expressionType":"TAG","subString":"TagA","subVersion":1700000000000,"tagsSet":["TagA"],"topic":"TopicTest"},{"classFilterMode":false,"codeSet":[],"expressionType":"TAG","subString":"*","subVersion":1700000000000,"tagsSet":[],"topic":"%RETRY%CG_A"}],"unitMode":false}],"heartbeatFingerprint":0,"producerDataSet":[{"groupName":"PG_A"},{"groupName":"CLIENT_INNER_PRODUCER"}],"withoutSub":false}';
const CONSUMER_CONNECTION =
  '{"connectionSet":[{"clientAddr":"10.0.0.7:52344","clientId":"10.0.0.7@12345#98127318731","language":"JAVA","version":479}],"consumeFromWhere":"CONSUME_FROM_LAST_OFFSET","consumeType":"CONSUME_PASSIVELY","messageModel":"CLUSTERING","subscriptionTable":{"TopicTest":{"classFilterMode":false,"codeSet":[2598919],"expressionType":"TAG","subString":"TagA","subVersion":1700000000000,"tagsSet":["TagA"],"topic":"TopicTest"}}}';

describe('fastjson: remoting.md §2 example bodies', () => {
  test('TopicRouteData with bare integer broker ids reads like the standard form', () => {
    const legacy = parseFastjson(ROUTE_LEGACY);
    assert.equal(canonicalJson(legacy), canonicalJson(parseFastjson(ROUTE_STANDARD)));
    const broker = object(expectArray(object(legacy).get('brokerDatas'), 'brokerDatas')[0]!);
    const addrs = object(broker.get('brokerAddrs')!);
    assert.equal(addrs.get('0'), '192.168.1.10:10911');
    assert.equal(addrs.get('1'), '192.168.1.11:10911');
    assert.deepEqual(
      [...addrs.entries()].map((e) => e.keyValue),
      [0, 1],
    );
    assert.deepEqual(plain(legacy), JSON.parse(ROUTE_STANDARD));
  });

  test('ClusterInfo legacy keys', () => {
    const info = object(parseFastjson(CLUSTER_INFO));
    const brokerA = object(object(info.get('brokerAddrTable')!).get('broker-a')!);
    assert.equal(object(brokerA.get('brokerAddrs')!).get('0'), '192.168.1.10:10911');
    assert.deepEqual(object(info.get('clusterAddrTable')!).get('DefaultCluster'), ['broker-a']);
  });

  test('object-keyed offset table: keys keep their object and a canonical string', () => {
    const table = object(object(parseFastjson(RESET_OFFSET)).get('offsetTable')!);
    assert.equal(table.size, 2);
    const [first, second] = [...table.entries()];
    assert.equal(first!.key, '{"brokerName":"b","queueId":0,"topic":"T"}');
    assert.equal(first!.value, 100);
    assert.equal(second!.value, -1);
    const queue = object(first!.keyValue);
    assert.equal(queue.get('topic'), 'T');
    assert.equal(queue.get('queueId'), 0);
    // The canonical key does not depend on the member order the peer chose.
    const reordered = object(parseFastjson('{{"topic":"T","queueId":1, "brokerName" : "b"}:7}'));
    assert.equal(reordered.get('{"brokerName":"b","queueId":1,"topic":"T"}'), 7);
  });

  test('HeartbeatData and ConsumerConnection are plain JSON and parse to the same values', () => {
    for (const text of [HEARTBEAT, CONSUMER_CONNECTION])
      assert.deepEqual(plain(parseFastjson(text)), JSON.parse(text));
  });
});

describe('fastjson: dialect features', () => {
  test('bare identifier keys', () => {
    assert.deepEqual(plain(parseFastjson('{a:1, $b_2 :"x", _c:null}')), { a: 1, $b_2: 'x', _c: null });
  });

  test('number keys use their decimal text, negative and fractional included', () => {
    const parsed = object(parseFastjson('{-1:"m", 1.5:"h", 10:"t"}'));
    assert.deepEqual(
      [...parsed.entries()].map((e) => [e.key, e.keyValue]),
      [
        ['-1', -1],
        ['1.5', 1.5],
        ['10', 10],
      ],
    );
  });

  test('a bare big integer key stays exact', () => {
    const parsed = object(parseFastjson('{9223372036854775807:"max"}'));
    assert.equal(parsed.get('9223372036854775807'), 'max');
    assert.equal([...parsed.entries()][0]!.keyValue, 9223372036854775807n);
  });

  test('array keys', () => {
    const parsed = object(parseFastjson('{[1,"a"]:true}'));
    assert.equal(parsed.get('[1,"a"]'), true);
    assert.deepEqual([...parsed.entries()][0]!.keyValue, [1, 'a']);
  });

  test("single-quoted strings and \\' escapes", () => {
    assert.deepEqual(plain(parseFastjson("{'k':'it\\'s \"ok\"'}")), { k: 'it\'s "ok"' });
    assert.equal(parseFastjson('"it\\\'s"'), "it's");
  });

  test('standard escapes, \\u escapes and surrogate pairs', () => {
    assert.equal(
      parseFastjson('"\\"\\\\\\/\\b\\f\\n\\r\\t\\u0041\\u4e2d\\ud83d\\ude00"'),
      '"\\/\b\f\n\r\tA中😀',
    );
  });

  test('raw UTF-8 bytes and a leading BOM', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"g":"消费者组-α"}')]);
    assert.deepEqual(plain(parseFastjson(bytes)), { g: '消费者组-α' });
  });

  test('a Uint8Array view is read at its own offset', () => {
    const backing = Buffer.from('xx[1,2]yy');
    assert.deepEqual(parseFastjson(new Uint8Array(backing.buffer, backing.byteOffset + 2, 5)), [1, 2]);
  });

  test('whitespace everywhere', () => {
    assert.deepEqual(plain(parseFastjson(' \t\r\n{ "a" : [ 1 , 2 ] , b : { } }\n')), { a: [1, 2], b: {} });
  });

  test('a later duplicate key replaces the value, keeping one entry', () => {
    const parsed = object(parseFastjson('{"0":"a",0:"b","x":1}'));
    assert.equal(parsed.size, 2);
    assert.equal(parsed.get('0'), 'b');
  });

  test('__proto__ is an ordinary key', () => {
    const parsed = object(parseFastjson('{"__proto__":{"polluted":true}}'));
    assert.ok(parsed.has('__proto__'));
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('fastjson: numbers', () => {
  test('integers beyond ±(2^53−1) become exact bigints, others stay numbers', () => {
    const parsed = object(
      parseFastjson(
        '{"safe":9007199254740991,"unsafe":9007199254740993,"min":-9223372036854775808,"huge":123456789012345678901234567890,"neg":-9007199254740991}',
      ),
    );
    assert.equal(parsed.get('safe'), 9007199254740991);
    assert.equal(parsed.get('unsafe'), 9007199254740993n);
    assert.equal(parsed.get('min'), -9223372036854775808n);
    assert.equal(parsed.get('huge'), 123456789012345678901234567890n);
    assert.equal(parsed.get('neg'), -9007199254740991);
  });

  test('fractions and exponents are doubles', () => {
    assert.deepEqual(parseFastjson('[1.5,-0.25,1e3,2E-2,1.0e+2,12345678901234567890.5]'), [
      1.5,
      -0.25,
      1000,
      0.02,
      100,
      Number('12345678901234567890.5'),
    ]);
  });

  test('out-of-range and malformed numbers are rejected', () => {
    badPayload('1e400', /out of range/);
    badPayload('-1e400', /out of range/);
    badPayload(`1${'0'.repeat(400)}`, /too long/);
    for (const text of ['-', '01', '1.', '.5', '+1', '1e', '0x10', '-a', 'NaN', 'Infinity']) badPayload(text);
  });

  test('readNumber accepts numbers and numeric strings (BrowserCompatible), refuses inexact longs', () => {
    assert.equal(readNumber(42, 'n'), 42);
    assert.equal(readNumber('42', 'n'), 42);
    assert.equal(readNumber('-1.5e2', 'n'), -150);
    assert.equal(readNumber(12n, 'n'), 12);
    assert.throws(() => readNumber(9007199254740993n, 'offset'), {
      code: 'RMQ_BAD_PAYLOAD',
      message: /offset/,
    });
    assert.throws(() => readNumber('9007199254740993', 'offset'), { code: 'RMQ_BAD_PAYLOAD' });
    for (const bad of ['', '1x', ' 1', 'NaN', null, true, undefined, [1]] as const) {
      assert.throws(() => readNumber(bad as JsonValue | undefined, 'field'), { code: 'RMQ_BAD_PAYLOAD' });
    }
  });

  test('readLong is exact for numbers, bigints and integer strings', () => {
    assert.equal(readLong(5, 'l'), 5n);
    assert.equal(readLong(-9223372036854775808n, 'l'), -9223372036854775808n);
    assert.equal(readLong('9223372036854775807', 'l'), 9223372036854775807n);
    for (const bad of [1.5, '1.5', '', 'x', null, false] as const) {
      assert.throws(() => readLong(bad, 'l'), { code: 'RMQ_BAD_PAYLOAD' });
    }
  });

  test('expect helpers name the field and the kind found', () => {
    assert.throws(() => expectObject([1], 'Route body'), {
      message: /Route body: expected an object, got object/,
    });
    assert.throws(() => expectArray(parseFastjson('{}'), 'list'), {
      message: /list: expected an array, got an object/,
    });
    assert.throws(() => expectString(undefined, 'name'), { message: /name: expected a string, got nothing/ });
    assert.equal(expectString('x', 'name'), 'x');
  });
});

describe('fastjson: canonical form', () => {
  test('sorts keys, drops whitespace, writes bigints as digits', () => {
    assert.equal(
      canonicalJson(parseFastjson('{ "b" : [1, {"y":2,"x":1}], "a": 18446744073709551616 }')),
      '{"a":18446744073709551616,"b":[1,{"x":1,"y":2}]}',
    );
  });

  test('an object key nested in an object key is written unquoted, not re-escaped', () => {
    const parsed = object(parseFastjson('{{"q":{{"t":"T"}:1}}:2}'));
    assert.equal([...parsed.entries()][0]!.key, '{"q":{{"t":"T"}:1}}');
  });

  test('deeply nested object keys parse in bounded time (no exponential re-escaping)', () => {
    let text = '{}';
    for (let i = 0; i < MAX_JSON_DEPTH / 2 - 1; i++) text = `{{"x":${text}}:1}`;
    const started = performance.now();
    const parsed = object(parseFastjson(text));
    assert.ok(performance.now() - started < 1000);
    assert.ok([...parsed.entries()][0]!.key.length < 10 * text.length);
  });

  test('an object key longer than MAX_KEY_LENGTH in canonical form is refused', () => {
    badPayload(`{{"k":"${'a'.repeat(MAX_KEY_LENGTH)}"}:1}`, /object key longer/);
    // A long plain string key is fine.
    assert.equal(object(parseFastjson(`{"${'a'.repeat(MAX_KEY_LENGTH + 1)}":1}`)).size, 1);
  });
});

describe('fastjson: depth cap and malformed input', () => {
  test(`nesting up to ${MAX_JSON_DEPTH} levels parses, one more is refused`, () => {
    const ok = `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`;
    assert.ok(Array.isArray(parseFastjson(ok)));
    badPayload(`${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`, /nesting deeper/);
    badPayload(`${'{"a":'.repeat(MAX_JSON_DEPTH + 1)}1${'}'.repeat(MAX_JSON_DEPTH + 1)}`, /nesting deeper/);
    badPayload(`${'{'.repeat(MAX_JSON_DEPTH + 1)}`, /nesting deeper/);
  });

  test('a million opening brackets fail fast instead of overflowing the stack', () => {
    badPayload('['.repeat(1_000_000), /nesting deeper/);
    badPayload('{'.repeat(1_000_000), /nesting deeper/);
  });

  test('each malformed document names what is wrong and where', () => {
    const cases: [string, RegExp][] = [
      ['', /unexpected end of input at offset 0/],
      ['   ', /unexpected end of input/],
      ['{"a":1} x', /unexpected data after the JSON value at offset 8/],
      ['{"a" 1}', /expected ':'/],
      ['{"a":1,}', /expected an object key/],
      ['{"a":1 "b":2}', /expected ',' or '}'/],
      ['[1 2]', /expected ',' or '\]'/],
      ['[1,]', /unexpected character "\]"/],
      ['[1', /unexpected end of input/],
      ['"abc', /unterminated string at offset 0/],
      ['\'abc"', /unterminated string/],
      ['"\\x"', /bad escape at offset 1/],
      ['"\\u12G4"', /bad \\u escape/],
      ['"\\u12"', /bad \\u escape/],
      ['"\\', /bad escape/],
      ['tru', /expected true/],
      ['nul', /expected null/],
      ['falsy', /expected false/],
      ['@', /unexpected character "@"/],
      ['{:1}', /expected an object key/],
      ['{@:1}', /expected an object key/],
    ];
    for (const [text, message] of cases) badPayload(text, message);
  });
});

/** Milliseconds one parse of `input` takes, whatever its outcome. */
function timeParse(input: string): number {
  const started = performance.now();
  try {
    parseFastjson(input);
  } catch {
    // only the time matters here
  }
  return performance.now() - started;
}

describe('fastjson: properties and fuzz', () => {
  const asJsonParse = (value: JsonValue): unknown => {
    if (typeof value === 'bigint') return Number(value);
    if (value instanceof JsonObject)
      return Object.fromEntries([...value.entries()].map((e) => [e.key, asJsonParse(e.value)]));
    if (Array.isArray(value)) return value.map(asJsonParse);
    return value;
  };

  test('JSON.stringify then parseFastjson gives the value JSON.parse gives', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.jsonValue(),
          fc.jsonValue({ stringUnit: 'binary' }),
          fc.jsonValue({ stringUnit: 'grapheme' }),
        ),
        (value) => {
          const text = JSON.stringify(value);
          const parsed = parseFastjson(text);
          assert.deepEqual(asJsonParse(parsed), JSON.parse(text));
          // Exactly the integers that a double cannot hold exactly come back as bigints, digit for digit.
          const check = (v: JsonValue): void => {
            if (typeof v === 'bigint')
              assert.ok(!Number.isSafeInteger(Number(v)) && text.includes(String(v)));
            else if (typeof v === 'number' && Number.isInteger(v))
              assert.ok(Number.isSafeInteger(v) || /e/i.test(text));
            else if (Array.isArray(v)) v.forEach(check);
            else if (v instanceof JsonObject) for (const e of v.entries()) check(e.value);
          };
          check(parsed);
        },
      ),
      { numRuns: 400 },
    );
  });

  test('JSON text of any value also parses from its UTF-8 bytes', () => {
    fc.assert(
      fc.property(fc.json({ stringUnit: 'grapheme' }), (text) => {
        assert.deepEqual(asJsonParse(parseFastjson(Buffer.from(text, 'utf8'))), JSON.parse(text));
      }),
      { numRuns: 200 },
    );
  });

  test('fuzz: 12,000 random and mutated inputs only raise RMQ_BAD_PAYLOAD, each in bounded time', () => {
    let seed = 0xfa57;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return Math.floor((seed / 2 ** 32) * n);
    };
    const corpus = [
      ROUTE_LEGACY,
      CLUSTER_INFO,
      RESET_OFFSET,
      HEARTBEAT,
      "{a:'x\\'y',0:[1.5e3,-2,9223372036854775808],{\"k\":[{}]}:{[1]:null}}",
      '{"s":"\\u4e2d\\n","t":true,"f":false}',
    ];
    const tokens = [
      '{',
      '}',
      '[',
      ']',
      ':',
      ',',
      '"',
      "'",
      '\\',
      '\\u',
      '-',
      '0',
      '9',
      '.',
      'e',
      'true',
      'null',
      ' ',
      'x',
      '\u0000',
      '中',
    ];
    let slowest = 0;
    let accepted = 0;
    for (let i = 0; i < 12_000; i++) {
      let input: string;
      if (i % 3 === 0) {
        let text = '';
        for (let n = random(60); n > 0; n--) text += tokens[random(tokens.length)];
        input = text;
      } else {
        const chars = [...corpus[random(corpus.length)]!];
        for (let edits = 1 + random(6); edits > 0; edits--) {
          const at = random(chars.length + 1);
          switch (random(4)) {
            case 0:
              chars.splice(at, 1);
              break;
            case 1:
              chars.splice(at, 0, tokens[random(tokens.length)]!);
              break;
            case 2:
              chars[at] = String.fromCharCode(random(128));
              break;
            default:
              chars.splice(at); // truncate
          }
        }
        input = chars.join('');
      }
      const started = performance.now();
      try {
        parseFastjson(i % 2 === 0 ? input : Buffer.from(input, 'utf8'));
        accepted++;
      } catch (error) {
        assert.ok(error instanceof RemotingError, `input ${JSON.stringify(input)}: ${String(error)}`);
        assert.equal(error.code, 'RMQ_BAD_PAYLOAD');
      }
      let elapsed = performance.now() - started;
      // A pause of the machine is not a slow input: a slow input is slow on every try.
      for (let retry = 0; retry < 3 && elapsed >= 100; retry++) elapsed = Math.min(elapsed, timeParse(input));
      slowest = Math.max(slowest, elapsed);
    }
    assert.ok(slowest < 100, `slowest input took ${slowest} ms`);
    // The mutations are mild enough that some inputs stay valid: the fuzz exercises both paths.
    assert.ok(accepted > 100 && accepted < 11_000, `accepted ${accepted}`);
  });

  test('fuzz: random byte strings (invalid UTF-8 included) never escape as another error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          parseFastjson(bytes);
        } catch (error) {
          assert.ok(error instanceof RemotingError && error.code === 'RMQ_BAD_PAYLOAD', String(error));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
