import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ProxyError } from '../../../proxy/src/core/errors.ts';
import { messageView } from '../../../proxy/src/core/message-view.ts';
import { decodeTransactionId, encodeTransactionId } from '../../../proxy/src/core/transaction-id.ts';
import { grpcMessageOf } from '../../../proxy/src/grpc/message-codec.ts';
import { type apache, v2 } from '../../../proxy/src/grpc/protocol.ts';
import { endTransactionInputOf } from '../../../proxy/src/grpc/publish-codec.ts';
import { statusFromError } from '../../../proxy/src/grpc/status.ts';
import { RequestCode } from '../../../proxy/src/remoting/codes.ts';
import { decodeStoredMessage } from '../../../proxy/src/remoting/message/stored-message.ts';
import type { TransactionCheck } from '../../../proxy/src/session/client-channel.ts';
import { brokerNameOf, TransactionCheckRelay } from '../../../proxy/src/transaction/check-relay.ts';
import { endTransactionSpec, TransactionService } from '../../../proxy/src/transaction/end-transaction.ts';
import { encodeStoredMessage } from '../../support/remoting/stored-message-encoder.ts';

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

type EndTransactionRequest = apache.rocketmq.v2.IEndTransactionRequest;
/** A request as it may come off the wire: enum fields hold any number. */
type WireRequest = Omit<EndTransactionRequest, 'resolution' | 'source'> & {
  resolution?: number;
  source?: number;
};

describe('EndTransaction request → END_TRANSACTION', () => {
  const id = encodeTransactionId({
    brokerName: 'broker-a',
    tranStateTableOffset: 5,
    commitLogOffset: 900,
    brokerTransactionId: 'U1',
  });

  test('a check answer goes with fromTransactionCheck=true; producer group = topic', () => {
    const { spec, brokerName } = endTransactionSpec(
      endTransactionInputOf({
        topic: { name: 'tx-topic' },
        messageId: 'U1',
        transactionId: id,
        resolution: v2.TransactionResolution.COMMIT,
        source: v2.TransactionSource.SOURCE_SERVER_CHECK,
      }),
    );
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
    const unknown = endTransactionSpec(endTransactionInputOf({ topic: { name: 't' }, transactionId: id }));
    assert.equal(unknown.spec.expectsResponse, false);
    assert.equal(unknown.spec.extFields?.['fromTransactionCheck'], 'false');
    assert.equal(unknown.spec.extFields?.['msgId'], 'U1', 'no message id: the broker transaction id');
    const code = (request: WireRequest) => {
      try {
        endTransactionSpec(endTransactionInputOf(request as EndTransactionRequest));
      } catch (error) {
        return error instanceof ProxyError ? statusFromError(error).code : undefined;
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

  test('refusals in order: topic, transaction id, resolution, source; unknown values keep their text', () => {
    const refusal = (request: WireRequest) => {
      try {
        endTransactionSpec(endTransactionInputOf(request as EndTransactionRequest));
      } catch (error) {
        assert.ok(error instanceof ProxyError);
        return { reason: error.reason, message: error.message };
      }
      return undefined;
    };
    assert.deepEqual(refusal({ topic: { name: ' ' }, transactionId: 'foreign', resolution: 3 }), {
      reason: 'IllegalTopic',
      message: 'The specified topic is blank',
    });
    assert.deepEqual(refusal({ topic: { name: 't' }, transactionId: '', resolution: 3 }), {
      reason: 'InvalidTransactionId',
      message: 'transaction id cannot be empty',
    });
    assert.deepEqual(refusal({ topic: { name: 't' }, transactionId: 'x', resolution: 3 }), {
      reason: 'InvalidTransactionId',
      message: 'transaction id "x" was not issued by a proxy of this kind',
    });
    assert.deepEqual(refusal({ topic: { name: 't' }, transactionId: id, resolution: 3, source: 7 }), {
      reason: 'BadRequest',
      message: 'unknown resolution value 3',
    });
    assert.deepEqual(refusal({ topic: { name: 't' }, transactionId: id, source: 7 }), {
      reason: 'BadRequest',
      message: 'unknown source value 7',
    });
  });

  test('the service sends COMMIT two-way and UNKNOWN oneway, to the broker the id names', async () => {
    const calls: string[] = [];
    const service = new TransactionService({
      pool: {
        request: async (address, spec) => {
          calls.push(`request ${address} ${spec.extFields?.['commitOrRollback']}`);
          return { code: 0, language: 'JAVA', version: 0, opaque: 1, flag: 1 } as never;
        },
        oneway: async (address, spec) => {
          calls.push(`oneway ${address} ${spec.extFields?.['commitOrRollback']}`);
        },
      },
      routes: { brokerAddress: async (name) => `${name}:10911` },
      timeoutMs: 1000,
    });
    const input = { topic: 't', transactionId: id, fromCheck: false, messageId: '' } as const;
    await service.end({ ...input, resolution: 'COMMIT' });
    await service.end({ ...input, resolution: 'UNKNOWN' });
    assert.deepEqual(calls, ['request broker-a:10911 8', 'oneway broker-a:10911 0']);
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
  test('converts the half message and delivers it with a transaction id of the check offsets', async () => {
    const written: TransactionCheck[] = [];
    let tries = 0;
    const relay = new TransactionCheckRelay({
      registry: {
        channelFor: (group) => {
          assert.equal(group, 'tx-topic');
          tries++;
          // The first channel is dead, the second takes the check.
          return {
            clientId: `c${tries}`,
            channel: {
              isOpen: () => true,
              checkTransaction: (check) => {
                if (tries === 1) return false;
                written.push(check);
                return true;
              },
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
    const recovered = written[0];
    assert.deepEqual(decodeTransactionId(recovered?.transactionId ?? ''), {
      brokerName: 'broker-a',
      tranStateTableOffset: 44,
      commitLogOffset: 8800,
      brokerTransactionId: 'U9',
    });
    assert.equal(recovered?.message.kind, 'TRANSACTION');
    const message = recovered === undefined ? undefined : grpcMessageOf(recovered.message);
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

  test('no producer channel: nothing is sent and nothing thrown', async () => {
    const relay = new TransactionCheckRelay({
      registry: { channelFor: () => undefined },
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
      reason: 'no producer of group tx-topic has an open channel',
    });
  });

  test('a check without a broker name takes it from the cluster map', async () => {
    const routes = {
      clusterInfo: async () =>
        ({
          brokers: new Map([
            [
              'broker-b',
              {
                brokerName: 'broker-b',
                brokerAddrs: new Map([
                  [0, '10.0.0.2:10911'],
                  [1, '10.0.0.3:10911'],
                ]),
              },
            ],
          ]),
        }) as never,
    };
    assert.equal(await brokerNameOf(routes, '10.0.0.3:10911'), 'broker-b', 'slaves too');
    assert.equal(await brokerNameOf(routes, '10.0.0.9:10911'), undefined);
  });

  test('grpcMessageOf(messageView): MD5 digest upper-case hex, delivery attempt, hosts', () => {
    const message = grpcMessageOf(messageView(decodeStoredMessage(halfRecord()), Date.now()));
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
