import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { v2 } from '../../../proxy/src/grpc/protocol.ts';
import { ProxyStatusError } from '../../../proxy/src/grpc/status.ts';
import { RequestCode } from '../../../proxy/src/remoting/codes.ts';
import {
  decodeStoredMessage,
  encodeStoredMessage,
} from '../../../proxy/src/remoting/message/stored-message.ts';
import type { OutboundTelemetryCommand } from '../../../proxy/src/session/telemetry-channel.ts';
import { TransactionCheckRelay } from '../../../proxy/src/transaction/check-relay.ts';
import { endTransactionSpec } from '../../../proxy/src/transaction/end-transaction.ts';
import { grpcMessageOf } from '../../../proxy/src/transaction/message-view.ts';
import { decodeTransactionId, encodeTransactionId } from '../../../proxy/src/transaction/transaction-id.ts';

describe('transaction id', () => {
  test('property: round-trips any broker name, offsets and broker id', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.nat(),
        fc.maxSafeNat(),
        fc.string({ minLength: 1 }),
        (brokerName, tranStateTableOffset, commitLogOffset, brokerTransactionId) => {
          const handle = { brokerName, tranStateTableOffset, commitLogOffset, brokerTransactionId };
          // Lone surrogates do not survive UTF-8; such names cannot come from a broker anyway.
          if (
            Buffer.from(brokerName).toString() !== brokerName ||
            Buffer.from(brokerTransactionId).toString() !== brokerTransactionId
          )
            return;
          assert.deepEqual(decodeTransactionId(encodeTransactionId(handle)), handle);
        },
      ),
    );
  });

  test('anything else is not a transaction id of ours', () => {
    for (const text of [
      '',
      'abc',
      'RMQP1.a.1.2',
      'RMQP2.YQ.1.2.Yg',
      'RMQP1.YQ.01.2.Yg',
      'RMQP1.YQ.-1.2.Yg',
      'RMQP1.Y=.1.2.Yg',
      'RMQP1.YQ.1.99999999999999999.Yg',
    ]) {
      assert.equal(decodeTransactionId(text), undefined, text);
    }
  });
});

describe('EndTransaction request → END_TRANSACTION', () => {
  const id = encodeTransactionId({
    brokerName: 'broker-a',
    tranStateTableOffset: 5,
    commitLogOffset: 900,
    brokerTransactionId: 'U1',
  });

  test('a check answer goes with fromTransactionCheck=true; producer group = topic', () => {
    const { spec, brokerName } = endTransactionSpec({
      topic: { name: 'tx-topic' },
      messageId: 'U1',
      transactionId: id,
      resolution: v2.TransactionResolution.COMMIT,
      source: v2.TransactionSource.SOURCE_SERVER_CHECK,
    });
    assert.equal(brokerName, 'broker-a');
    assert.equal(spec.code, RequestCode.END_TRANSACTION);
    assert.equal(spec.expectsResponse, true);
    assert.deepEqual(
      { ...spec.extFields },
      {
        producerGroup: 'tx-topic',
        tranStateTableOffset: '5',
        commitLogOffset: '900',
        commitOrRollback: '8',
        fromTransactionCheck: 'true',
        msgId: 'U1',
        transactionId: 'U1',
        topic: 'tx-topic',
      },
    );
  });

  test('UNSPECIFIED resolution is UNKNOWN (oneway); bad input gets specific Codes', () => {
    const unknown = endTransactionSpec({ topic: { name: 't' }, transactionId: id });
    assert.equal(unknown.spec.expectsResponse, false);
    assert.equal(unknown.spec.extFields?.['fromTransactionCheck'], 'false');
    const code = (request: object) => {
      try {
        endTransactionSpec(request);
      } catch (error) {
        return error instanceof ProxyStatusError ? error.code : undefined;
      }
      return undefined;
    };
    assert.equal(code({ topic: { name: 't' }, transactionId: ' ' }), v2.Code.INVALID_TRANSACTION_ID);
    assert.equal(code({ topic: { name: 't' }, transactionId: 'foreign' }), v2.Code.INVALID_TRANSACTION_ID);
    assert.equal(code({ topic: { name: 't' }, transactionId: id, resolution: 3 }), v2.Code.BAD_REQUEST);
    assert.equal(code({ topic: { name: 't' }, transactionId: id, source: 7 }), v2.Code.BAD_REQUEST);
    assert.equal(
      code({ topic: { name: 'RMQ_SYS_TRANS_HALF_TOPIC' }, transactionId: id }),
      v2.Code.ILLEGAL_TOPIC,
    );
  });
});

function halfRecord() {
  return encodeStoredMessage({
    topic: 'tx-topic',
    body: Buffer.from('half'),
    queueId: 1,
    queueOffset: 3,
    commitLogOffset: 700,
    bornTimestamp: 1_700_000_000_000,
    storeTimestamp: 1_700_000_000_100,
    bornHost: '10.0.0.1:1234',
    storeHost: '127.0.0.1:10911',
    properties: {
      UNIQ_KEY: 'U9',
      PGROUP: 'tx-topic',
      TRAN_MSG: 'true',
      KEYS: 'a b',
      TAGS: 'T',
      color: 'red',
      REAL_TOPIC: 'tx-topic',
    },
  });
}

describe('broker check relay', () => {
  test('converts the half message (§12.2) and delivers it with a transaction id of the check offsets', async () => {
    const written: OutboundTelemetryCommand[] = [];
    let tries = 0;
    const relay = new TransactionCheckRelay({
      registry: {
        telemetryChannelFor: (group) => {
          assert.equal(group, 'tx-topic');
          tries++;
          // The first stream is dead, the second takes the command.
          return {
            clientId: `c${tries}`,
            channel: {
              isOpen: () => true,
              send: (command) => (tries === 1 ? false : (written.push(command), true)),
            },
          };
        },
      },
      brokerNameOf: async (address) => (address === '127.0.0.1:10911' ? 'broker-a' : undefined),
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined },
    });
    const command = {
      code: RequestCode.CHECK_TRANSACTION_STATE,
      language: 'JAVA',
      version: 0,
      opaque: 9,
      flag: 2,
      extFields: { tranStateTableOffset: '44', commitLogOffset: '8800', msgId: 'U9', transactionId: 'U9' },
      body: halfRecord(),
    };
    assert.equal(await relay.handle(command as never, { address: '127.0.0.1:10911' }), undefined);
    assert.equal(written.length, 1);
    const recovered = written[0]?.recoverOrphanedTransactionCommand;
    assert.deepEqual(decodeTransactionId(recovered?.transactionId ?? ''), {
      brokerName: 'broker-a',
      tranStateTableOffset: 44,
      commitLogOffset: 8800,
      brokerTransactionId: 'U9',
    });
    const message = recovered?.message;
    assert.equal(message?.topic?.name, 'tx-topic');
    assert.equal(message?.systemProperties?.messageId, 'U9');
    assert.equal(message?.systemProperties?.messageType, v2.MessageType.TRANSACTION);
    assert.deepEqual(message?.systemProperties?.keys, ['a', 'b']);
    assert.equal(message?.systemProperties?.tag, 'T');
    assert.deepEqual(
      { ...message?.userProperties },
      { color: 'red' },
      'reserved keys stay out; PGROUP and TRAN_MSG are reserved',
    );
  });

  test('no producer stream: nothing is sent and nothing thrown', async () => {
    const relay = new TransactionCheckRelay({
      registry: { telemetryChannelFor: () => undefined },
      brokerNameOf: async () => 'broker-a',
      logger: { debug: () => undefined, info: () => undefined, warn: () => undefined },
    });
    const check = {
      topic: 'RMQ_SYS_TRANS_HALF_TOPIC',
      tranStateTableOffset: 1,
      commitLogOffset: 2,
      msgId: 'U9',
      transactionId: 'U9',
      offsetMsgId: undefined,
      brokerName: undefined,
      message: decodeStoredMessage(halfRecord()),
      producerGroup: 'tx-topic',
    };
    assert.deepEqual(await relay.relay(check, 'x:1'), {
      delivered: false,
      reason: 'no producer of group tx-topic has an open Telemetry stream',
    });
  });

  test('grpcMessageOf: MD5 digest upper-case hex, delivery attempt, hosts', () => {
    const message = grpcMessageOf(decodeStoredMessage(halfRecord()));
    // md5("half"), computed independently.
    assert.deepEqual(message.systemProperties?.bodyDigest, {
      type: v2.DigestType.MD5,
      checksum: '7AFE399F1415B137D0962F82662FA9D4',
    });
    assert.equal(message.systemProperties?.deliveryAttempt, 1);
    assert.equal(message.systemProperties?.bornHost, '10.0.0.1:1234');
    assert.equal(message.systemProperties?.storeHost, '127.0.0.1:10911');
    assert.deepEqual(message.systemProperties?.bornTimestamp, { seconds: 1_700_000_000, nanos: 0 });
  });
});
