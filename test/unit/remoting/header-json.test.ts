import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { RemotingCommand } from '../../../proxy/src/remoting/command.ts';
import { RemotingError } from '../../../proxy/src/remoting/errors.ts';
import { decodeJsonHeader, encodeJsonHeader } from '../../../proxy/src/remoting/header-json.ts';

// remoting.md §1.3 / §9 vector 1: the header part of the GET_ROUTEINFO_BY_TOPIC frame (131 bytes).
const ROUTE_HEADER =
  '{"code":105,"extFields":{"topic":"TopicTest"},"flag":0,"language":"JAVA","opaque":1,"serializeTypeCurrentRPC":"JSON","version":479}';

// §9 vector 3: a Java-produced PULL_MESSAGE frame (rocketmq-rust golden fixture
// pull-fast-inherited-json): extFields in HashMap order, raw UTF-8, language RUST, version 501.
const PULL_FRAME_BASE64 =
  'AAAB/AAAAfh7ImNvZGUiOjExLCJleHRGaWVsZHMiOnsicXVldWVJZCI6IjEiLCJtYXhNc2dCeXRlcyI6IjQxOTQzMDQiLCJsbyI6InRydWUiLCJtYXhNc2dOdW1zIjoiMzIiLCJzeXNGbGFnIjoiMCIsIm5zIjoidGVuYW50LWEiLCJjb21taXRPZmZzZXQiOiItMSIsInByb3h5RnJvd2FyZENsaWVudElkIjoicHJveHktY2xpZW50Iiwic3Vic2NyaXB0aW9uIjoidGFnQSB8fCB0YWdCIiwicmVxdWVzdFNvdXJjZSI6IjAiLCJvd2F5IjoiZmFsc2UiLCJzdXNwZW5kVGltZW91dE1pbGxpcyI6IjE1MDAwIiwiYm5hbWUiOiJicm9rZXItYSIsInRvcGljIjoiVG9waWNBIiwicXVldWVPZmZzZXQiOiI0MiIsImV4cHJlc3Npb25UeXBlIjoiVEFHIiwic3ViVmVyc2lvbiI6IjciLCJjb25zdW1lckdyb3VwIjoi5raI6LS56ICF57uELc6xIiwibnNkIjoidHJ1ZSJ9LCJmbGFnIjowLCJsYW5ndWFnZSI6IlJVU1QiLCJvcGFxdWUiOjcsInNlcmlhbGl6ZVR5cGVDdXJyZW50UlBDIjoiSlNPTiIsInZlcnNpb24iOjUwMX0=';
const PULL_EXT_FIELDS = {
  bname: 'broker-a',
  commitOffset: '-1',
  consumerGroup: '消费者组-α',
  expressionType: 'TAG',
  lo: 'true',
  maxMsgBytes: '4194304',
  maxMsgNums: '32',
  ns: 'tenant-a',
  nsd: 'true',
  oway: 'false',
  proxyFrowardClientId: 'proxy-client',
  queueId: '1',
  queueOffset: '42',
  requestSource: '0',
  subVersion: '7',
  subscription: 'tagA || tagB',
  suspendTimeoutMillis: '15000',
  sysFlag: '0',
  topic: 'TopicA',
};

const route: RemotingCommand = {
  code: 105,
  language: 'JAVA',
  version: 479,
  opaque: 1,
  flag: 0,
  extFields: { topic: 'TopicTest' },
};

function decodeText(text: string): ReturnType<typeof decodeJsonHeader> {
  return decodeJsonHeader(Buffer.from(text, 'utf8'));
}

describe('JSON header encoding', () => {
  test('§9 vector 1: byte-identical to the Java header', () => {
    const header = encodeJsonHeader(route);
    assert.equal(header.toString('utf8'), ROUTE_HEADER);
    assert.equal(header.length, 131);
  });

  test('remark sits between opaque and serializeTypeCurrentRPC, as Java sorts it', () => {
    const text = encodeJsonHeader({ ...route, flag: 1, remark: 'topic not exist' }).toString();
    assert.match(text, /"opaque":1,"remark":"topic not exist","serializeTypeCurrentRPC":"JSON"/);
  });

  test('absent extFields and remark are omitted, not written as null', () => {
    const text = encodeJsonHeader({
      code: 34,
      language: 'JAVA',
      version: 479,
      opaque: -5,
      flag: 2,
    }).toString();
    assert.equal(
      text,
      '{"code":34,"flag":2,"language":"JAVA","opaque":-5,"serializeTypeCurrentRPC":"JSON","version":479}',
    );
  });

  test('non-ASCII stays raw UTF-8 and control characters are \\u-escaped', () => {
    const header = encodeJsonHeader({ ...route, extFields: { g: '组', i: 'K\u0001V\u0002' } });
    assert.ok(header.includes(Buffer.from('"g":"组"')));
    assert.ok(header.toString().includes('"i":"K\\u0001V\\u0002"'));
  });
});

describe('JSON header decoding', () => {
  test('§9 vector 3: Java-produced PULL request header', () => {
    const frame = Buffer.from(PULL_FRAME_BASE64, 'base64');
    assert.equal(frame.readUInt32BE(0), frame.length - 4);
    const headerLength = frame.readUInt32BE(4) & 0xffffff;
    assert.equal(frame[4], 0); // serialize type JSON
    const decoded = decodeJsonHeader(frame.subarray(8, 8 + headerLength));
    assert.deepEqual(decoded, {
      code: 11,
      language: 'RUST',
      version: 501,
      opaque: 7,
      flag: 0,
      extFields: PULL_EXT_FIELDS,
    });
  });

  test('a broker response header (flag 1, remark, extra keys ignored)', () => {
    const decoded = decodeText(
      '{"code":17,"extFields":{"MSG_REGION":"DefaultRegion"},"flag":1,"language":"JAVA","opaque":9,"remark":"No topic route info","serializeTypeCurrentRPC":"JSON","version":479,"unknownKey":{"x":1}}',
    );
    assert.deepEqual(decoded, {
      code: 17,
      language: 'JAVA',
      version: 479,
      opaque: 9,
      flag: 1,
      remark: 'No topic route info',
      extFields: { MSG_REGION: 'DefaultRegion' },
    });
  });

  test('any key order and whitespace; version and flag default to 0; language defaults to OTHER', () => {
    assert.deepEqual(decodeText(' { "opaque" : -2147483648 , "code" : 0 } '), {
      code: 0,
      language: 'OTHER',
      version: 0,
      opaque: -2147483648,
      flag: 0,
    });
  });

  test('an unknown language name is kept as sent', () => {
    assert.equal(decodeText('{"code":0,"opaque":1,"language":"COBOL"}').language, 'COBOL');
  });

  test('scalar extField values from lenient peers become strings; nulls are dropped', () => {
    const decoded = decodeText('{"code":0,"opaque":1,"extFields":{"a":5,"b":true,"c":null,"d":"x"}}');
    assert.deepEqual(decoded.extFields, { a: '5', b: 'true', d: 'x' });
  });

  test('malformed headers raise RMQ_BAD_FRAME naming the problem', () => {
    const cases: [string, RegExp][] = [
      ['{', /does not parse/],
      ['[]', /not an object/],
      ['null', /not an object/],
      ['"x"', /not an object/],
      ['{"opaque":1}', /"code" must be a 32-bit integer/],
      ['{"code":1}', /"opaque" must be a 32-bit integer/],
      ['{"code":"105","opaque":1}', /"code"/],
      ['{"code":1.5,"opaque":1}', /"code"/],
      ['{"code":2147483648,"opaque":1}', /"code"/],
      ['{"code":1,"opaque":1,"flag":"1"}', /"flag"/],
      ['{"code":1,"opaque":1,"version":1e10}', /"version"/],
      ['{"code":1,"opaque":1,"extFields":[]}', /"extFields" must be an object/],
      ['{"code":1,"opaque":1,"extFields":"a=b"}', /"extFields" must be an object/],
      ['{"code":1,"opaque":1,"extFields":{"k":{"n":1}}}', /extField "k" is not a scalar/],
      ['{"code":1,"opaque":1,"extFields":{"k":[1]}}', /extField "k" is not a scalar/],
    ];
    for (const [text, message] of cases) {
      assert.throws(
        () => decodeText(text),
        (error: unknown) => {
          assert.ok(error instanceof RemotingError, text);
          assert.equal(error.code, 'RMQ_BAD_FRAME');
          assert.match(error.message, message, text);
          return true;
        },
      );
    }
  });

  test('invalid UTF-8 does not crash the decoder', () => {
    const bytes = Buffer.from('{"code":0,"opaque":1,"remark":"\xff\xfe"}', 'latin1');
    assert.equal(decodeJsonHeader(bytes).remark, '\ufffd\ufffd');
  });

  test('round trip of any command, control and non-BMP characters included', () => {
    const text = fc.string({ unit: 'binary', maxLength: 30 });
    fc.assert(
      fc.property(
        fc.record(
          {
            code: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
            language: fc.constantFrom('JAVA', 'NODE_JS', 'GO'),
            version: fc.integer({ min: 0, max: 1000 }),
            opaque: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
            flag: fc.integer({ min: 0, max: 3 }),
            remark: text,
            extFields: fc.dictionary(
              text.filter((k) => k !== '__proto__'),
              text,
            ),
          },
          { requiredKeys: ['code', 'language', 'version', 'opaque', 'flag'] },
        ),
        (command) => {
          const decoded = decodeJsonHeader(encodeJsonHeader(command));
          const expected = { ...command, ...(command.extFields && { extFields: { ...command.extFields } }) };
          // Lone surrogates cannot survive UTF-8; compare with what UTF-8 makes of them.
          assert.deepEqual(decoded, JSON.parse(Buffer.from(JSON.stringify(expected)).toString()));
        },
      ),
      { numRuns: 300 },
    );
  });
});
