import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { RemotingCommand } from '../../../proxy/src/remoting/command.ts';
import { RemotingError, RemotingResponseError } from '../../../proxy/src/remoting/errors.ts';
import { parsePopReceipt } from '../../../proxy/src/remoting/message/pop-receipt.ts';
import {
  ackMessageRequest,
  batchAckMessageRequest,
  changeInvisibleTimeRequest,
  javaBitSetBase64,
  parseAckMessage,
  parseBatchAckMessage,
  parseChangeInvisibleTime,
  parsePopResponse,
  popMessageRequest,
} from '../../../proxy/src/remoting/requests/pop.ts';
import {
  decodeJavaBitSet,
  notificationRequest,
  parseNotification,
  parsePollingInfo,
  pollingInfoRequest,
} from '../../support/remoting/pop-requests.ts';
import {
  encodeStoredMessage,
  type StoredMessageInput,
} from '../../support/remoting/stored-message-encoder.ts';

const POP_TIME = 1700000000123;
const context = { consumerGroup: 'CG_A', topic: 'TopicTest', brokerName: 'broker-a' };

function response(code: number, extFields: Record<string, string>, body?: Buffer): RemotingCommand {
  return { code, language: 'JAVA', version: 479, opaque: 1, flag: 1, extFields, body };
}

function records(...messages: StoredMessageInput[]): Buffer {
  return Buffer.concat(messages.map(encodeStoredMessage));
}

function message(
  topic: string,
  queueId: number,
  queueOffset: number,
  extra: Partial<StoredMessageInput> = {},
) {
  return { topic, queueId, queueOffset, body: Buffer.from(`m${queueOffset}`), ...extra };
}

/** A FOUND response with the §5.2 header of one pop at POP_TIME. */
function found(info: Record<string, string>, body: Buffer): RemotingCommand {
  return response(
    0,
    { popTime: String(POP_TIME), invisibleTime: '60000', reviveQid: '3', restNum: '7', ...info },
    body,
  );
}

function badPayload(pattern: RegExp) {
  return (error: unknown): boolean => {
    assert.ok(error instanceof RemotingError, `expected RemotingError, got ${String(error)}`);
    assert.equal(error.code, 'RMQ_BAD_PAYLOAD');
    assert.match(error.message, pattern);
    return true;
  };
}

describe('POP_MESSAGE request', () => {
  test('carries every PopMessageRequestHeader field under its Java name', () => {
    const spec = popMessageRequest({
      consumerGroup: 'CG_A',
      topic: 'TopicTest',
      queueId: 2,
      maxMsgNums: 16,
      invisibleTime: 60000,
      pollTime: 15000,
      bornTime: 1700000000000,
      initMode: 'MIN',
      expressionType: 'TAG',
      expression: 'TagA || TagB',
      order: true,
      attemptId: 'attempt-1',
      brokerName: 'broker-a',
    });
    assert.equal(spec.code, 200050);
    assert.deepEqual(spec.extFields, {
      consumerGroup: 'CG_A',
      topic: 'TopicTest',
      queueId: '2',
      maxMsgNums: '16',
      invisibleTime: '60000',
      pollTime: '15000',
      bornTime: '1700000000000',
      initMode: '0',
      expType: 'TAG',
      exp: 'TagA || TagB',
      order: 'true',
      attemptId: 'attempt-1',
      bname: 'broker-a',
    });
    assert.equal(spec.body, undefined);
  });

  test('defaults: all queues (-1, never omitted), latest offset, not ordered, bornTime = now', () => {
    const spec = popMessageRequest(
      { consumerGroup: 'CG_A', topic: 'TopicTest', maxMsgNums: 32, invisibleTime: 30000, pollTime: 0 },
      1700000000999,
    );
    assert.deepEqual(spec.extFields, {
      consumerGroup: 'CG_A',
      topic: 'TopicTest',
      queueId: '-1',
      maxMsgNums: '32',
      invisibleTime: '30000',
      pollTime: '0',
      bornTime: '1700000000999',
      initMode: '1',
      order: 'false',
    });
  });
});

describe('POP_MESSAGE response', () => {
  test('§5.3 example: receipts from startOffsetInfo/msgOffsetInfo, POP_CK and 1ST_POP_TIME set', () => {
    const result = parsePopResponse(
      found(
        { startOffsetInfo: '0 1 100', msgOffsetInfo: '0 1 100,101' },
        records(message('TopicTest', 1, 100), message('TopicTest', 1, 101)),
      ),
      context,
    );
    assert.equal(result.status, 'FOUND');
    assert.deepEqual(
      [result.popTime, result.invisibleTime, result.reviveQid, result.restNum],
      [POP_TIME, 60000, 3, 7],
    );
    assert.deepEqual(
      result.messages.map((m) => m.receiptHandle),
      ['100 1700000000123 60000 3 0 broker-a 1 100', '100 1700000000123 60000 3 0 broker-a 1 101'],
    );
    const second = result.messages[1];
    assert.ok(second);
    assert.equal(second.properties.get('POP_CK'), second.receiptHandle);
    assert.equal(second.properties.get('1ST_POP_TIME'), String(POP_TIME));
    assert.equal(second.realTopic, 'TopicTest');
    assert.equal(second.topic, 'TopicTest');
    assert.equal(second.body.toString(), 'm101');
    assert.deepEqual(second.receipt, parsePopReceipt(second.receiptHandle));
  });

  test('messages read from retry topics get retry flags and ack against the retry topic', () => {
    const result = parsePopResponse(
      found(
        { startOffsetInfo: '0 0 5;1 0 40;2 1 8', msgOffsetInfo: '0 0 5;1 0 41;2 1 8' },
        records(
          message('TopicTest', 0, 5),
          message('%RETRY%CG_A_TopicTest', 0, 41),
          message('%RETRY%CG_A+TopicTest', 1, 8),
        ),
      ),
      context,
    );
    assert.deepEqual(
      result.messages.map((m) => [m.topic, m.realTopic, m.receiptHandle]),
      [
        ['TopicTest', 'TopicTest', '5 1700000000123 60000 3 0 broker-a 0 5'],
        ['TopicTest', '%RETRY%CG_A_TopicTest', '40 1700000000123 60000 3 1 broker-a 0 41'],
        ['TopicTest', '%RETRY%CG_A+TopicTest', '8 1700000000123 60000 3 2 broker-a 1 8'],
      ],
    );
  });

  test('a broker-rewritten retry message keeps its POP_CK, whose flag decides the real topic', () => {
    const popCk = '12 1700000000123 60000 3 1 broker-a 0 13';
    const result = parsePopResponse(
      found(
        { startOffsetInfo: '1 0 12;0 0 3', msgOffsetInfo: '1 0 13;0 0 3' },
        records(
          message('TopicTest', 0, 13, { properties: { POP_CK: popCk, '1ST_POP_TIME': '1699999999000' } }),
          message('TopicTest', 0, 3),
        ),
      ),
      context,
    );
    const [retried, fresh] = result.messages;
    assert.ok(retried && fresh);
    assert.equal(retried.receiptHandle, popCk);
    assert.equal(retried.realTopic, '%RETRY%CG_A_TopicTest');
    assert.equal(retried.properties.get('1ST_POP_TIME'), '1699999999000');
    // The retried message does not take the normal topic's slot in msgOffsetInfo.
    assert.equal(fresh.receiptHandle, '3 1700000000123 60000 3 0 broker-a 0 3');
  });

  test('the broker offset list wins over the record field, matched by position within the queue', () => {
    const result = parsePopResponse(
      found(
        { startOffsetInfo: '0 0 10;0 1 20', msgOffsetInfo: '0 0 10,12;0 1 21' },
        records(message('TopicTest', 0, 10), message('TopicTest', 1, 25), message('TopicTest', 0, 11)),
      ),
      context,
    );
    assert.deepEqual(
      result.messages.map((m) => [
        m.receipt.queueId,
        m.receipt.ckQueueOffset,
        m.receipt.queueOffset,
        m.queueOffset,
      ]),
      [
        [0, 10, 10, 10],
        [1, 20, 21, 25],
        [0, 10, 12, 11],
      ],
    );
  });

  test('without msgOffsetInfo the record offset is used', () => {
    const result = parsePopResponse(
      found({ startOffsetInfo: '0 2 50' }, records(message('TopicTest', 2, 52))),
      context,
    );
    assert.equal(result.messages[0]?.receiptHandle, '50 1700000000123 60000 3 0 broker-a 2 52');
  });

  test('very old brokers (no startOffsetInfo): the first offset per queue is the checkpoint start', () => {
    const result = parsePopResponse(
      found({}, records(message('TopicTest', 0, 4), message('TopicTest', 1, 9), message('TopicTest', 0, 6))),
      context,
    );
    assert.deepEqual(
      result.messages.map((m) => m.receiptHandle),
      [
        '4 1700000000123 60000 3 0 broker-a 0 4',
        '9 1700000000123 60000 3 0 broker-a 1 9',
        '4 1700000000123 60000 3 0 broker-a 0 6',
      ],
    );
  });

  test('order pop: orderCountInfo sets reconsumeTimes, per offset first, then per queue', () => {
    const info = {
      reviveQid: '999',
      startOffsetInfo: '0 1 100',
      msgOffsetInfo: '0 1 100,101',
      orderCountInfo: '0 qo1%100 3;0 1 2',
    };
    const body = records(message('TopicTest', 1, 100), message('TopicTest', 1, 101));
    const ordered = parsePopResponse(found(info, body), { ...context, order: true });
    assert.deepEqual(
      ordered.messages.map((m) => [m.reconsumeTimes, m.receipt.reviveQid]),
      [
        [3, 999],
        [2, 999],
      ],
    );
    const unordered = parsePopResponse(found(info, body), context);
    assert.deepEqual(
      unordered.messages.map((m) => m.reconsumeTimes),
      [0, 0],
    );
  });

  test('"nothing to pop" codes are statuses, not errors', () => {
    const header = { popTime: '0', invisibleTime: '0', reviveQid: '0', restNum: '4' };
    assert.deepEqual(parsePopResponse(response(19, header), context), {
      status: 'NO_NEW_MSG',
      popTime: 0,
      invisibleTime: 0,
      reviveQid: 0,
      restNum: 4,
      messages: [],
    });
    assert.equal(parsePopResponse(response(209, header), context).status, 'POLLING_FULL');
    // Early POLLING_TIMEOUT answers may carry no header at all.
    const timeout = parsePopResponse(response(210, {}), context);
    assert.equal(timeout.status, 'POLLING_NOT_FOUND');
    assert.equal(timeout.restNum, 0);
  });

  test('other codes throw RemotingResponseError with the broker code and remark', () => {
    for (const code of [1, 16, 17, 26, 29]) {
      assert.throws(
        () => parsePopResponse({ ...response(code, {}), remark: 'nope' }, context),
        (error: unknown) =>
          error instanceof RemotingResponseError && error.responseCode === code && error.remark === 'nope',
      );
    }
  });

  test('a broker name that cannot live in a receipt is refused', () => {
    const good = found({ startOffsetInfo: '0 1 100' }, records(message('TopicTest', 1, 100)));
    assert.throws(
      () => parsePopResponse(good, { ...context, brokerName: 'b 1' }),
      /broker name "b 1" cannot be put in a pop receipt/,
    );
    assert.throws(() => parsePopResponse(good, { ...context, brokerName: '' }), RangeError);
  });

  describe('malformed responses', () => {
    const body = records(message('TopicTest', 1, 100));
    const cases: [string, RemotingCommand, RegExp][] = [
      [
        'missing popTime',
        response(0, { invisibleTime: '1', reviveQid: '0', restNum: '0' }, body),
        /"popTime"/,
      ],
      ['non-numeric restNum', found({ restNum: 'many' }, body), /"restNum" is "many"/],
      ['reviveQid beyond int32', found({ reviveQid: '4294967296' }, body), /"reviveQid"/],
      ['startOffsetInfo with two parts', found({ startOffsetInfo: '0 1' }, body), /startOffsetInfo.*"0 1"/],
      [
        'startOffsetInfo with an empty entry',
        found({ startOffsetInfo: '0 1 100;' }, body),
        /startOffsetInfo/,
      ],
      [
        'duplicate startOffsetInfo entry',
        found({ startOffsetInfo: '0 1 100;0 1 200' }, body),
        /0@1 appears twice/,
      ],
      ['non-numeric start offset', found({ startOffsetInfo: '0 1 x' }, body), /0@1 has a bad value "x"/],
      [
        'bad offset in msgOffsetInfo',
        found({ startOffsetInfo: '0 1 100', msgOffsetInfo: '0 1 100,,101' }, body),
        /msgOffsetInfo/,
      ],
      [
        'bad orderCountInfo',
        found({ startOffsetInfo: '0 1 100', orderCountInfo: '0 qo1%100 3.5' }, body),
        /orderCountInfo/,
      ],
      [
        'no startOffsetInfo entry for the queue',
        found({ startOffsetInfo: '0 2 100' }, body),
        /message 0 \(queue 0@1, offset 100\)/,
      ],
      [
        'message with a malformed POP_CK',
        found(
          { startOffsetInfo: '0 1 100' },
          records(message('TopicTest', 1, 100, { properties: { POP_CK: '1 2 3' } })),
        ),
        /message 0 has a bad POP_CK.*3 space-separated fields/,
      ],
      [
        'garbage body',
        found({ startOffsetInfo: '0 1 100' }, Buffer.from('not a message record at all')),
        /stored message/i,
      ],
      [
        'truncated body',
        found({ startOffsetInfo: '0 1 100' }, body.subarray(0, body.length - 3)),
        /stored message/i,
      ],
    ];
    for (const [name, bad, pattern] of cases) {
      test(name, () => assert.throws(() => parsePopResponse(bad, context), badPayload(pattern)));
    }

    test('fuzz: random header strings and bodies only yield results or RemotingError', () => {
      const infoText = fc.oneof(
        fc.string({ maxLength: 30 }),
        fc
          .array(fc.constantFrom('0', '1', '2', ' ', ';', ',', 'qo1%100', '100', '-1', 'x'), {
            maxLength: 12,
          })
          .map((parts) => parts.join('')),
      );
      fc.assert(
        fc.property(
          fc.record({ startOffsetInfo: infoText, msgOffsetInfo: infoText, orderCountInfo: infoText }),
          fc.oneof(
            fc.constant(body),
            fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
          ),
          (info, randomBody) => {
            try {
              parsePopResponse(found(info, randomBody), { ...context, order: true });
            } catch (error) {
              assert.ok(error instanceof RemotingError && error.code === 'RMQ_BAD_PAYLOAD', String(error));
            }
          },
        ),
        { numRuns: 2000 },
      );
    });
  });
});

describe('ACK_MESSAGE and CHANGE_MESSAGE_INVISIBLETIME', () => {
  test('ack names the real topic, queue, offset and broker of the receipt', () => {
    const spec = ackMessageRequest({
      consumerGroup: 'CG_A',
      topic: 'TopicTest',
      receipt: '100 1700000000123 60000 3 0 broker-a 1 101',
    });
    assert.equal(spec.code, 200051);
    assert.deepEqual(spec.extFields, {
      consumerGroup: 'CG_A',
      topic: 'TopicTest',
      queueId: '1',
      extraInfo: '100 1700000000123 60000 3 0 broker-a 1 101',
      offset: '101',
      bname: 'broker-a',
    });
  });

  test('retry receipts ack against %RETRY%<group>_<topic> (V1) and %RETRY%<group>+<topic> (V2)', () => {
    const topicOf = (receipt: string) =>
      ackMessageRequest({ consumerGroup: 'CG_A', topic: 'TopicTest', receipt }).extFields?.topic;
    assert.equal(topicOf('40 1700000000123 60000 3 1 broker-a 0 41'), '%RETRY%CG_A_TopicTest');
    assert.equal(topicOf('40 1700000000123 60000 3 2 broker-a 0 41'), '%RETRY%CG_A+TopicTest');
  });

  test('a proxy-style nine-field handle is sent to the broker in its eight-field form', () => {
    const spec = ackMessageRequest({
      consumerGroup: 'CG_A',
      topic: 'TopicTest',
      receipt: '100 1700000000123 60000 3 0 broker-a 1 101 123456',
    });
    assert.equal(spec.extFields?.extraInfo, '100 1700000000123 60000 3 0 broker-a 1 101');
  });

  test('a malformed receipt is refused before anything is sent', () => {
    assert.throws(
      () => ackMessageRequest({ consumerGroup: 'CG_A', topic: 'TopicTest', receipt: 'not-a-receipt' }),
      badPayload(/1 space-separated fields/),
    );
  });

  test('ack responses: success, or the broker code as RemotingResponseError', () => {
    parseAckMessage(response(0, {}));
    assert.throws(
      () => parseAckMessage(response(208, {})),
      (error: unknown) => error instanceof RemotingResponseError && error.errorCode === 'RMQ_NO_MESSAGE',
    );
  });

  test('change invisible time: ack fields plus invisibleTime', () => {
    const spec = changeInvisibleTimeRequest({
      consumerGroup: 'CG_A',
      topic: 'TopicTest',
      receipt: '40 1700000000123 60000 3 1 broker-a 0 41',
      invisibleTime: 30000,
    });
    assert.equal(spec.code, 200053);
    assert.deepEqual(spec.extFields, {
      consumerGroup: 'CG_A',
      topic: '%RETRY%CG_A_TopicTest',
      queueId: '0',
      extraInfo: '40 1700000000123 60000 3 1 broker-a 0 41',
      offset: '41',
      bname: 'broker-a',
      invisibleTime: '30000',
    });
  });

  test('the renewed receipt (§5.5) starts at the message offset and keeps the retry flag', () => {
    const result = parseChangeInvisibleTime(
      response(0, { popTime: '1700000009000', invisibleTime: '30000', reviveQid: '5' }),
      '40 1700000000123 60000 3 1 broker-a 0 41',
    );
    assert.equal(result.receiptHandle, '41 1700000009000 30000 5 1 broker-a 0 41');
    assert.deepEqual([result.popTime, result.invisibleTime, result.reviveQid], [1700000009000, 30000, 5]);
    // The renewed receipt acks against the same retry topic as the old one.
    assert.equal(
      ackMessageRequest({ consumerGroup: 'CG_A', topic: 'TopicTest', receipt: result.receipt }).extFields
        ?.topic,
      '%RETRY%CG_A_TopicTest',
    );
  });

  test('change invisible time: missing header fields and error codes', () => {
    const receipt = '100 1700000000123 60000 3 0 broker-a 1 101';
    assert.throws(
      () => parseChangeInvisibleTime(response(0, { popTime: '1', reviveQid: '0' }), receipt),
      badPayload(/"invisibleTime"/),
    );
    assert.throws(
      () =>
        parseChangeInvisibleTime(response(0, { popTime: '1', invisibleTime: '1', reviveQid: '-1' }), receipt),
      badPayload(/reviveQid -1/),
    );
    assert.throws(
      () => parseChangeInvisibleTime(response(208, {}), receipt),
      (error: unknown) => error instanceof RemotingResponseError && error.responseCode === 208,
    );
  });
});

describe('BATCH_ACK_MESSAGE', () => {
  test('§9 vector 7: offsets so+0 and so+1 give bitset "Aw==" in the §5.6 body', () => {
    const spec = batchAckMessageRequest({
      consumerGroup: 'CG_A',
      topic: 'TopicTest',
      receipts: ['100 1700000000123 60000 3 0 broker-a 1 100', '100 1700000000123 60000 3 0 broker-a 1 101'],
    });
    assert.equal(spec.code, 200151);
    assert.equal(spec.extFields, undefined);
    assert.equal(
      spec.body?.toString(),
      '{"acks":[{"b":"Aw==","c":"CG_A","it":60000,"pt":1700000000123,"q":1,"r":"0","rq":3,"so":100,"t":"TopicTest"}],"brokerName":"broker-a"}',
    );
  });

  test('one entry per (retry, queue, checkpoint start, pop time), original topic in each', () => {
    const spec = batchAckMessageRequest({
      consumerGroup: 'CG_A',
      topic: 'TopicTest',
      receipts: [
        '100 1700000000123 60000 3 0 broker-a 1 108',
        '40 1700000000123 60000 3 1 broker-a 1 41',
        '100 1700000000999 60000 3 0 broker-a 1 100',
        '100 1700000000123 60000 3 0 broker-a 1 100',
      ],
    });
    const body = JSON.parse(spec.body?.toString() ?? '') as {
      acks: { b: string; r: string; so: number; pt: number; t: string }[];
    };
    assert.deepEqual(
      body.acks.map((a) => [a.r, a.so, a.pt, decodeJavaBitSet(a.b), a.t]),
      [
        ['0', 100, 1700000000123, [0, 8], 'TopicTest'],
        ['1', 40, 1700000000123, [1], 'TopicTest'],
        ['0', 100, 1700000000999, [0], 'TopicTest'],
      ],
    );
  });

  test('Java BitSet.toByteArray layout: little-endian bytes, trailing zeros trimmed', () => {
    assert.equal(javaBitSetBase64([0, 1]), 'Aw==');
    assert.equal(javaBitSetBase64([8]), Buffer.from([0x00, 0x01]).toString('base64'));
    assert.equal(javaBitSetBase64([7, 15]), Buffer.from([0x80, 0x80]).toString('base64'));
    assert.equal(javaBitSetBase64([]), '');
  });

  test('property: bitset encoding round trips to the sorted distinct bit set', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 2000 }), { maxLength: 64 }), (bits) => {
        const expected = [...new Set(bits)].sort((a, b) => a - b);
        assert.deepEqual(decodeJavaBitSet(javaBitSetBase64(bits)), expected);
        const bytes = Buffer.from(javaBitSetBase64(bits), 'base64');
        assert.ok(bytes.length === 0 || bytes[bytes.length - 1] !== 0, 'no trailing zero byte');
      }),
    );
  });

  test('refuses empty lists, mixed brokers and offsets outside the checkpoint', () => {
    const params = { consumerGroup: 'CG_A', topic: 'TopicTest' };
    assert.throws(() => batchAckMessageRequest({ ...params, receipts: [] }), RangeError);
    assert.throws(
      () =>
        batchAckMessageRequest({
          ...params,
          receipts: ['1 2 3 4 0 broker-a 0 1', '1 2 3 4 0 broker-b 0 1'],
        }),
      /span brokers broker-a and broker-b/,
    );
    assert.throws(
      () => batchAckMessageRequest({ ...params, receipts: ['10 2 3 4 0 broker-a 0 9'] }),
      badPayload(/offset 9 outside \[checkpoint start 10/),
    );
    assert.throws(
      () => batchAckMessageRequest({ ...params, receipts: ['0 2 3 4 0 broker-a 0 1000000000'] }),
      badPayload(/outside/),
    );
    assert.throws(
      () => batchAckMessageRequest({ ...params, receipts: ['garbage'] }),
      badPayload(/space-separated/),
    );
  });

  test('batch ack responses', () => {
    parseBatchAckMessage(response(0, {}));
    assert.throws(() => parseBatchAckMessage(response(208, {})), RemotingResponseError);
  });
});

describe('NOTIFICATION and POLLING_INFO', () => {
  test('notification request and response', () => {
    const spec = notificationRequest(
      { consumerGroup: 'CG_A', topic: 'TopicTest', pollTime: 20000, brokerName: 'broker-a' },
      1700000000000,
    );
    assert.equal(spec.code, 200054);
    assert.deepEqual(spec.extFields, {
      consumerGroup: 'CG_A',
      topic: 'TopicTest',
      queueId: '-1',
      pollTime: '20000',
      bornTime: '1700000000000',
      order: 'false',
      bname: 'broker-a',
    });
    assert.deepEqual(parseNotification(response(0, { hasMsg: 'true', pollingFull: 'false' })), {
      hasMsg: true,
      pollingFull: false,
    });
    assert.deepEqual(parseNotification(response(0, { hasMsg: 'TRUE' })), {
      hasMsg: true,
      pollingFull: false,
    });
    assert.throws(() => parseNotification(response(26, {})), RemotingResponseError);
  });

  test('polling info request and response', () => {
    const spec = pollingInfoRequest({ consumerGroup: 'CG_A', topic: 'TopicTest', queueId: 1 });
    assert.equal(spec.code, 200055);
    assert.deepEqual(spec.extFields, { consumerGroup: 'CG_A', topic: 'TopicTest', queueId: '1' });
    assert.equal(parsePollingInfo(response(0, { pollingNum: '3' })), 3);
    assert.throws(() => parsePollingInfo(response(0, {})), badPayload(/"pollingNum"/));
  });
});
