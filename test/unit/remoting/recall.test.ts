import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { RemotingCommand } from '../../../proxy/src/remoting/command.ts';
import {
  parseRecallHandle,
  parseRecallMessage,
  recallMessageRequest,
} from '../../../proxy/src/remoting/requests/recall.ts';

function response(code: number, extFields?: Record<string, string>): RemotingCommand {
  return { code, language: 'JAVA', version: 479, opaque: 1, flag: 1, extFields };
}

/** A handle as the broker builds it: URL-safe base64 with padding (Java's Base64.getUrlEncoder()). */
function handle(text: string): string {
  const unpadded = Buffer.from(text, 'utf8').toString('base64url');
  return unpadded + '='.repeat((4 - (unpadded.length % 4)) % 4);
}

describe('RECALL_MESSAGE (§3.3)', () => {
  test('request header: producerGroup, topic, recallHandle (+ bname)', () => {
    assert.deepEqual(
      recallMessageRequest({ topic: 'T', recallHandle: 'h', producerGroup: 'PG', brokerName: 'broker-a' }),
      {
        code: 370,
        extFields: { producerGroup: 'PG', topic: 'T', recallHandle: 'h', bname: 'broker-a' },
      },
    );
    assert.deepEqual(recallMessageRequest({ topic: 'T', recallHandle: 'h' }).extFields, {
      topic: 'T',
      recallHandle: 'h',
    });
  });

  test('response: the msgId header; errors and a missing header', () => {
    assert.equal(parseRecallMessage(response(0, { msgId: '0A0000070001' })), '0A0000070001');
    assert.throws(() => parseRecallMessage(response(0)), {
      code: 'RMQ_BAD_PAYLOAD',
      message: /lacks header field "msgId"/,
    });
    assert.throws(() => parseRecallMessage(response(29)), {
      name: 'RemotingResponseError',
      message: /request 370 failed with INVALID_PARAMETER/,
    });
  });
});

describe('recall handles', () => {
  test('v1 handle: topic, broker name, timestamp and message id', () => {
    const text = 'v1 TopicTest broker-a 1700000000001 7F0000010001000000000000000000AB';
    const expected = {
      topic: 'TopicTest',
      brokerName: 'broker-a',
      timestamp: 1700000000001,
      messageId: '7F0000010001000000000000000000AB',
    };
    assert.deepEqual(parseRecallHandle(handle(text)), expected);
    // Without padding, as some clients pass it on.
    assert.deepEqual(parseRecallHandle(Buffer.from(text).toString('base64url')), expected);
  });

  test('URL-safe alphabet: - and _ decode (a topic with bytes that base64 to + and /)', () => {
    const text = 'v1 T~~~?? b 1 id';
    const encoded = handle(text);
    assert.match(encoded, /[-_]/);
    assert.equal(parseRecallHandle(encoded)?.topic, 'T~~~??');
  });

  test('anything else is not a handle', () => {
    const bad = [
      'v2 T b 1 id',
      'v1 T b 1',
      'v1 T b 1 id extra',
      'v1  b 1 id',
      'v1 T  1 id',
      'v1 T b 1 ',
      'v1 T b  id',
      'v1 T b 0x10 id',
      'v1 T b -1 id',
      'v1 T b 1.5 id',
      'v1 T b 99999999999999999 id',
      '',
    ];
    for (const text of bad) assert.equal(parseRecallHandle(handle(text)), undefined, text);
    assert.equal(parseRecallHandle('%%%not base64%%%'), undefined);
  });

  test('round trip for any space-free topic, broker and id; never throws on junk', () => {
    const word = fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
      .filter((s) => !/\s/.test(s) && !s.includes('\ufffd'));
    fc.assert(
      fc.property(
        word,
        word,
        fc.integer({ min: 0, max: 2 ** 50 }),
        word,
        (topic, brokerName, timestamp, messageId) => {
          assert.deepEqual(parseRecallHandle(handle(`v1 ${topic} ${brokerName} ${timestamp} ${messageId}`)), {
            topic,
            brokerName,
            timestamp,
            messageId,
          });
        },
      ),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.string(), (junk) => {
        const parsed = parseRecallHandle(junk);
        assert.ok(parsed === undefined || typeof parsed.topic === 'string');
      }),
      { numRuns: 500 },
    );
  });
});
