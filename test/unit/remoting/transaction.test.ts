import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RemotingCommand } from '../../../proxy/src/remoting/command.ts';
import { RemotingResponseError } from '../../../proxy/src/remoting/errors.ts';
import { parseSendResult } from '../../../proxy/src/remoting/requests/send.ts';
import {
  endTransactionRequest,
  parseCheckTransactionState,
  parseEndTransaction,
} from '../../../proxy/src/remoting/requests/transaction.ts';
import {
  encodeStoredMessage,
  type StoredMessageInput,
} from '../../support/remoting/stored-message-encoder.ts';
import {
  endTransactionAfterSend,
  endTransactionForCheck,
} from '../../support/remoting/transaction-requests.ts';

const UNIQ = '0A0000070FA018B4AAC2000000000001';
const HALF_OFFSET_ID = '0A00000500002A9F0000000000002000';

const halfMessage: StoredMessageInput = {
  topic: 'TopicTest',
  body: Buffer.from('order #1'),
  queueId: 2,
  queueOffset: 7,
  commitLogOffset: 8192,
  sysFlag: 0x4,
  storeHost: '10.0.0.5:10911',
  properties: new Map([
    ['TRAN_MSG', 'true'],
    ['PGROUP', 'PG_TX'],
    ['UNIQ_KEY', UNIQ],
    ['REAL_TOPIC', 'TopicTest'],
    ['REAL_QID', '2'],
    ['TRANSACTION_CHECK_TIMES', '1'],
  ]),
};

/** A CHECK_TRANSACTION_STATE as a broker sends it: oneway, with the re-appended record's offsets. */
function brokerCheck(overrides: Partial<RemotingCommand> = {}): RemotingCommand {
  return {
    code: 39,
    language: 'JAVA',
    version: 479,
    opaque: 17,
    flag: 2,
    extFields: {
      topic: 'RMQ_SYS_TRANS_HALF_TOPIC',
      tranStateTableOffset: '7',
      commitLogOffset: '8192',
      msgId: UNIQ,
      transactionId: UNIQ,
      offsetMsgId: HALF_OFFSET_ID,
      bname: 'broker-a',
    },
    body: encodeStoredMessage(halfMessage),
    ...overrides,
  };
}

describe('END_TRANSACTION', () => {
  test('commit carries every header field with commitOrRollback 8', () => {
    const spec = endTransactionRequest({
      producerGroup: 'PG_TX',
      tranStateTableOffset: 7,
      commitLogOffset: 8192,
      commitOrRollback: 'COMMIT',
      fromTransactionCheck: false,
      msgId: UNIQ,
      transactionId: UNIQ,
      topic: 'TopicTest',
      brokerName: 'broker-a',
    });
    assert.equal(spec.code, 37);
    assert.equal(spec.body, undefined);
    assert.equal(spec.expectsResponse, true);
    assert.deepEqual(spec.extFields, {
      producerGroup: 'PG_TX',
      tranStateTableOffset: '7',
      commitLogOffset: '8192',
      commitOrRollback: '8',
      fromTransactionCheck: 'false',
      msgId: UNIQ,
      transactionId: UNIQ,
      topic: 'TopicTest',
      bname: 'broker-a',
    });
  });

  test('rollback is 12; unknown is 0 and gets no broker response', () => {
    const base = {
      producerGroup: 'G',
      tranStateTableOffset: 0,
      commitLogOffset: 0,
      fromTransactionCheck: true,
      msgId: UNIQ,
    };
    const rollback = endTransactionRequest({ ...base, commitOrRollback: 'ROLLBACK' });
    assert.equal(rollback.extFields?.['commitOrRollback'], '12');
    assert.equal(rollback.extFields?.['fromTransactionCheck'], 'true');
    assert.equal(rollback.expectsResponse, true);
    const unknown = endTransactionRequest({ ...base, commitOrRollback: 'UNKNOWN' });
    assert.equal(unknown.extFields?.['commitOrRollback'], '0');
    assert.equal(unknown.expectsResponse, false);
    assert.equal('transactionId' in (unknown.extFields ?? {}), false);
  });

  test('refuses an empty group or msgId, negative offsets and unknown resolutions', () => {
    const base = {
      producerGroup: 'G',
      tranStateTableOffset: 1,
      commitLogOffset: 1,
      commitOrRollback: 'COMMIT' as const,
      fromTransactionCheck: false,
      msgId: UNIQ,
    };
    assert.throws(() => endTransactionRequest({ ...base, producerGroup: '' }), /producer group/);
    assert.throws(() => endTransactionRequest({ ...base, msgId: '' }), /message id/);
    assert.throws(() => endTransactionRequest({ ...base, commitLogOffset: -1 }), /commitLogOffset must be/);
    assert.throws(
      () => endTransactionRequest({ ...base, tranStateTableOffset: 0.5 }),
      /tranStateTableOffset/,
    );
    assert.throws(
      () => endTransactionRequest({ ...base, commitOrRollback: 'MAYBE' as 'COMMIT' }),
      /COMMIT, ROLLBACK or UNKNOWN/,
    );
  });

  test('after a half-message send: offsets come from the send result', () => {
    const sendResult = parseSendResult(
      {
        code: 0,
        language: 'JAVA',
        version: 479,
        opaque: 3,
        flag: 1,
        extFields: { msgId: HALF_OFFSET_ID, queueId: '0', queueOffset: '7', transactionId: UNIQ },
      },
      { uniqueId: UNIQ },
    );
    const spec = endTransactionAfterSend({
      producerGroup: 'PG_TX',
      sendResult,
      resolution: 'COMMIT',
      topic: 'TopicTest',
      brokerName: 'broker-a',
    });
    assert.deepEqual(spec.extFields, {
      producerGroup: 'PG_TX',
      tranStateTableOffset: '7',
      commitLogOffset: '8192',
      commitOrRollback: '8',
      fromTransactionCheck: 'false',
      msgId: UNIQ,
      transactionId: UNIQ,
      topic: 'TopicTest',
      bname: 'broker-a',
    });
    assert.throws(
      () =>
        endTransactionAfterSend({
          producerGroup: 'G',
          sendResult: { ...sendResult, offsetMsgId: 'zz' },
          resolution: 'COMMIT',
        }),
      { code: 'RMQ_BAD_PAYLOAD' },
    );
  });

  test('a two-way response is checked for SUCCESS', () => {
    const ok: RemotingCommand = { code: 0, language: 'JAVA', version: 479, opaque: 1, flag: 1 };
    parseEndTransaction(ok);
    assert.throws(
      () => parseEndTransaction({ ...ok, code: 604, remark: 'immunity time exceeded' }),
      (error: unknown) => error instanceof RemotingResponseError && error.responseCode === 604,
    );
  });
});

describe('CHECK_TRANSACTION_STATE', () => {
  test('parses the header and the half message body', () => {
    const check = parseCheckTransactionState(brokerCheck());
    assert.equal(check.topic, 'RMQ_SYS_TRANS_HALF_TOPIC');
    assert.equal(check.tranStateTableOffset, 7);
    assert.equal(check.commitLogOffset, 8192);
    assert.equal(check.msgId, UNIQ);
    assert.equal(check.transactionId, UNIQ);
    assert.equal(check.offsetMsgId, HALF_OFFSET_ID);
    assert.equal(check.brokerName, 'broker-a');
    assert.equal(check.producerGroup, 'PG_TX');
    assert.equal(check.message.topic, 'TopicTest');
    assert.equal(check.message.queueId, 2);
    assert.equal(check.message.body.toString(), 'order #1');
    assert.equal(check.message.msgId, HALF_OFFSET_ID);
    assert.equal(check.message.properties.get('TRANSACTION_CHECK_TIMES'), '1');
  });

  test('the reply echoes the check offsets with fromTransactionCheck=true', () => {
    const reply = endTransactionForCheck(parseCheckTransactionState(brokerCheck()), 'ROLLBACK');
    assert.equal(reply.code, 37);
    assert.equal(reply.expectsResponse, true);
    assert.deepEqual(reply.extFields, {
      producerGroup: 'PG_TX',
      tranStateTableOffset: '7',
      commitLogOffset: '8192',
      commitOrRollback: '12',
      fromTransactionCheck: 'true',
      msgId: UNIQ,
      transactionId: UNIQ,
      topic: 'RMQ_SYS_TRANS_HALF_TOPIC',
      bname: 'broker-a',
    });
  });

  test('a proxy-relayed check (no offsetMsgId, no bname) still yields a reply', () => {
    const { offsetMsgId: _, bname: __, ...proxyFields } = brokerCheck().extFields!;
    const check = parseCheckTransactionState(brokerCheck({ flag: 0, extFields: proxyFields }));
    assert.equal(check.offsetMsgId, undefined);
    assert.equal(check.brokerName, undefined);
    const reply = endTransactionForCheck(check, 'UNKNOWN', 'PG_OVERRIDE');
    assert.equal(reply.extFields?.['producerGroup'], 'PG_OVERRIDE');
    assert.equal(reply.extFields?.['commitOrRollback'], '0');
    assert.equal(reply.expectsResponse, false);
    assert.equal('bname' in (reply.extFields ?? {}), false);
  });

  test('a half message without UNIQ_KEY is answered with its offset id; without PGROUP a group is required', () => {
    const body = encodeStoredMessage({ ...halfMessage, properties: { TRAN_MSG: 'true' } });
    const check = parseCheckTransactionState(brokerCheck({ body }));
    assert.throws(() => endTransactionForCheck(check, 'COMMIT'), {
      code: 'RMQ_BAD_PAYLOAD',
      message: /no PGROUP property/,
    });
    const reply = endTransactionForCheck(check, 'COMMIT', 'PG_TX');
    assert.equal(reply.extFields?.['msgId'], HALF_OFFSET_ID);
  });

  const malformed: Array<[string, Partial<RemotingCommand>, RegExp]> = [
    ['a different request code', { code: 40 }, /expected request code 39, got 40/],
    ['no tranStateTableOffset', { extFields: { commitLogOffset: '1' } }, /lacks "tranStateTableOffset"/],
    [
      'a non-numeric commitLogOffset',
      { extFields: { tranStateTableOffset: '1', commitLogOffset: '0x10' } },
      /"commitLogOffset" is "0x10", expected an integer/,
    ],
    ['no body', { body: undefined }, /has no message body/],
    [
      'a truncated body',
      { body: encodeStoredMessage(halfMessage).subarray(0, 60) },
      /stored message: TOTALSIZE/,
    ],
    [
      'two records in the body',
      { body: Buffer.concat([encodeStoredMessage(halfMessage), encodeStoredMessage(halfMessage)]) },
      /expected one record/,
    ],
  ];
  for (const [name, overrides, pattern] of malformed) {
    test(`${name} is RMQ_BAD_PAYLOAD`, () => {
      assert.throws(() => parseCheckTransactionState(brokerCheck(overrides)), {
        code: 'RMQ_BAD_PAYLOAD',
        message: pattern,
      });
    });
  }
});
