import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AddressableQueue } from '../../../proxy/src/cluster/queue-views.ts';
import { decodeTransactionId } from '../../../proxy/src/core/transaction-id.ts';
import { sendMessageResponseOf } from '../../../proxy/src/grpc/producer-service.ts';
import { v2 } from '../../../proxy/src/grpc/protocol.ts';
import type { MessageDraft } from '../../../proxy/src/producer/message-draft.ts';
import { overallOutcome, Publisher } from '../../../proxy/src/producer/publisher.ts';
import type { RemotingCommand, RequestSpec } from '../../../proxy/src/remoting/command.ts';
import { RemotingError, RemotingResponseError } from '../../../proxy/src/remoting/errors.ts';
import { encodeOffsetMessageId } from '../../../proxy/src/remoting/message/message-id.ts';
import { decodeProperties } from '../../../proxy/src/remoting/message/properties.ts';
import { draft } from './drafts.ts';

const queues: AddressableQueue[] = [
  { topic: 't', brokerName: 'broker-a', queueId: 0, brokerAddr: 'a:1' },
  { topic: 't', brokerName: 'broker-b', queueId: 0, brokerAddr: 'b:1' },
];

function okResponse(queueOffset = 7, transactionId?: string): RemotingCommand {
  return {
    code: 0,
    language: 'JAVA',
    version: 0,
    opaque: 1,
    flag: 1,
    extFields: {
      msgId: encodeOffsetMessageId(Buffer.from([127, 0, 0, 1]), 10911, 4242),
      queueId: '0',
      queueOffset: String(queueOffset),
      ...(transactionId ? { transactionId } : {}),
    },
  } as RemotingCommand;
}

function publisher(answer: (address: string, spec: RequestSpec) => RemotingCommand, type = 'NORMAL') {
  const sent: { address: string; spec: RequestSpec }[] = [];
  const slept: number[] = [];
  const p = new Publisher({
    pool: {
      request: async (address, spec) => {
        sent.push({ address, spec });
        return answer(address, spec);
      },
    },
    routes: {
      selectWriteQueue: async (_topic, group) => (group ? queues[1] : queues[0]),
      selectRetryQueue: async (_topic, failed) => queues.find((q) => q.brokerName !== failed.brokerName),
      invalidate: () => undefined,
      brokerAddress: async () => 'a:1',
    },
    metadata: { topicType: async () => type as 'NORMAL' },
    limits: {
      maxBodyBytes: 1024,
      maxUserProperties: 10,
      maxUserPropertyBytes: 1024,
      maxMessageGroupBytes: 64,
      maxDelayMs: 86_400_000,
      maxTransactionRecoveryMs: 3_600_000,
    },
    retry: { maxAttempts: 3, backoffInitialMs: 10, backoffMaxMs: 100, backoffMultiplier: 2 },
    timeoutMs: 1000,
    logger: { warn: () => undefined },
    sleep: async (ms) => {
      slept.push(ms);
    },
  });
  return { p, sent, slept };
}

const request = (fields: Partial<MessageDraft> = {}) => [draft(fields)];
const client = { remoteAddress: '1.2.3.4:5' };

describe('Publisher', () => {
  test('a retriable broker failure is retried on the other broker', async () => {
    const { p, sent } = publisher((address) => {
      if (address === 'a:1') throw new RemotingResponseError(2, '[PC_SYNCHRONIZED]broker busy', 310);
      return okResponse();
    });
    const response = await p.send(request(), client);
    assert.equal(response.outcome.reason, 'Ok');
    assert.deepEqual(
      sent.map((s) => s.address),
      ['a:1', 'b:1'],
    );
  });

  test('non-retriable failures, FIFO and transactional sends are tried once', async () => {
    const failing = (error: Error) =>
      publisher(() => {
        throw error;
      });
    const illegal = failing(new RemotingResponseError(13, 'bad', 310));
    await assert.rejects(illegal.p.send(request(), client), RemotingResponseError);
    assert.equal(illegal.sent.length, 1);
    const fifo = publisher(() => {
      throw new RemotingError('RMQ_CONNECT_FAILED', 'down');
    }, 'FIFO');
    await assert.rejects(fifo.p.send(request({ messageGroup: 'g' }), client));
    assert.equal(fifo.sent.length, 1);
    assert.equal(fifo.sent[0]?.address, 'b:1', 'the group queue');
    const tx = publisher(() => {
      throw new RemotingError('RMQ_TIMEOUT', 'slow');
    }, 'TRANSACTION');
    await assert.rejects(tx.p.send(request({ type: 'TRANSACTION' }), client));
    assert.equal(tx.sent.length, 1);
  });

  test('attempts stop at maxAttempts', async () => {
    const { p, sent } = publisher(() => {
      throw new RemotingError('RMQ_CONNECTION_CLOSED', 'gone');
    });
    await assert.rejects(p.send(request(), client));
    assert.equal(sent.length, 3);
  });

  test('a half message gets a transaction id any proxy can end', async () => {
    const { p } = publisher(() => okResponse(11, 'M1'), 'TRANSACTION');
    const response = await p.send(request({ type: 'TRANSACTION' }), client);
    const handle = decodeTransactionId(response.entries[0]?.transactionId ?? '');
    assert.deepEqual(handle, {
      brokerName: 'broker-a',
      tranStateTableOffset: 11,
      commitLogOffset: 4242,
      brokerTransactionId: 'M1',
    });
  });

  test('degraded broker statuses become entry codes; the message type is checked before sending', async () => {
    const { p } = publisher(() => ({ ...okResponse(), code: 10 }));
    const result = await p.send(request(), client);
    assert.equal(result.outcome.reason, 'MasterPersistenceTimeout');
    const response = sendMessageResponseOf(result);
    assert.deepEqual(response.status, {
      code: v2.Code.MASTER_PERSISTENCE_TIMEOUT,
      message: 'MASTER_PERSISTENCE_TIMEOUT',
    });
    assert.equal(response.entries?.[0]?.status?.code, v2.Code.MASTER_PERSISTENCE_TIMEOUT);
    assert.match(response.entries?.[0]?.status?.message ?? '', /FLUSH_DISK_TIMEOUT/);
    const typed = publisher(() => okResponse(), 'FIFO');
    await assert.rejects(typed.p.send(request(), client), /expected type is FIFO/);
    assert.equal(typed.sent.length, 0);
  });

  test('a sent message answers as SendMessage did: OK entry with id, offset and transaction id', async () => {
    const { p } = publisher(() => okResponse(9, 'B1'));
    const response = sendMessageResponseOf(await p.send(request(), client));
    assert.deepEqual(response.status, { code: v2.Code.OK, message: 'OK' });
    assert.deepEqual(response.entries, [
      {
        status: { code: v2.Code.OK, message: 'OK' },
        messageId: 'M1',
        transactionId: 'B1',
        offset: 9,
        recallHandle: undefined,
      },
    ]);
  });

  test('the overall outcome is the common reason, MultipleResults, or Internal without entries', () => {
    const ok = { outcome: { reason: 'Ok', message: 'OK' } } as const;
    const slow = { outcome: { reason: 'SlavePersistenceTimeout', message: 'x' } } as const;
    assert.deepEqual(sendMessageResponseOf({ outcome: overallOutcome([ok, slow]), entries: [] }).status, {
      code: v2.Code.MULTIPLE_RESULTS,
      message: 'MULTIPLE_RESULTS',
    });
    assert.deepEqual(overallOutcome([slow, slow]), { reason: 'SlavePersistenceTimeout', message: '' });
    assert.deepEqual(overallOutcome([]), { reason: 'Internal', message: 'send status is empty' });
  });

  test('messages are validated in order before any broker traffic; the topic must be one', async () => {
    const { p, sent } = publisher(() => okResponse());
    await assert.rejects(p.send([], client), { reason: 'MessageCorrupted', message: 'no message to send' });
    await assert.rejects(p.send([draft(), draft({ namespace: 'ns' })], client), {
      reason: 'MessageCorrupted',
      message: 'topic in message is not same',
    });
    await assert.rejects(p.send(request({ topic: 'RMQ_SYS_TRACE_TOPIC' }), client), {
      reason: 'IllegalTopic',
    });
    await assert.rejects(p.send([draft(), draft({ body: new Uint8Array(0) })], client), {
      reason: 'MessageBodyEmpty',
    });
    assert.equal(sent.length, 0);
  });

  test('the remote address is the born host when the message names none', async () => {
    const { p, sent } = publisher(() => okResponse());
    await p.send(request(), client);
    await p.send(request({ bornHost: '9.9.9.9:1' }), client);
    const bornHosts = sent.map((s) => decodeProperties(String(s.spec.extFields?.['i'])).get('__BORNHOST'));
    assert.deepEqual(bornHosts, ['1.2.3.4:5', '9.9.9.9:1']);
  });

  test('recall: DELAY topics only, at the broker the handle names', async () => {
    const { p } = publisher(() => okResponse());
    await assert.rejects(p.recall({ topic: 't', handle: 'h' }), {
      reason: 'MessageTypeConflict',
      message: 'RecallMessage needs a DELAY topic, but topic t has type NORMAL',
    });
    const delay = publisher(() => okResponse(), 'DELAY');
    await assert.rejects(delay.p.recall({ topic: 't', handle: 'not a handle' }), {
      reason: 'Internal',
      message: 'recall handle is invalid',
    });
  });
});
