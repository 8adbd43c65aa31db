import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AddressableQueue } from '../../../proxy/src/cluster/queue-views.ts';
import { v2 } from '../../../proxy/src/grpc/protocol.ts';
import { Publisher } from '../../../proxy/src/producer/publisher.ts';
import type { RemotingCommand, RequestSpec } from '../../../proxy/src/remoting/command.ts';
import { RemotingError, RemotingResponseError } from '../../../proxy/src/remoting/errors.ts';
import { encodeOffsetMessageId } from '../../../proxy/src/remoting/message/message-id.ts';
import { decodeTransactionId } from '../../../proxy/src/transaction/transaction-id.ts';

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

const request = (system: Record<string, unknown> = {}, topic = 't') => ({
  messages: [
    { topic: { name: topic }, body: Buffer.from('x'), systemProperties: { messageId: 'M1', ...system } },
  ],
});

describe('Publisher', () => {
  test('a retriable broker failure is retried on the other broker', async () => {
    const { p, sent } = publisher((address) => {
      if (address === 'a:1') throw new RemotingResponseError(2, '[PC_SYNCHRONIZED]broker busy', 310);
      return okResponse();
    });
    const response = await p.send(request(), '1.2.3.4:5');
    assert.equal(response.status?.code, v2.Code.OK);
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
    await assert.rejects(illegal.p.send(request(), 'p'), RemotingResponseError);
    assert.equal(illegal.sent.length, 1);
    const fifo = publisher(() => {
      throw new RemotingError('RMQ_CONNECT_FAILED', 'down');
    }, 'FIFO');
    await assert.rejects(fifo.p.send(request({ messageGroup: 'g' }), 'p'));
    assert.equal(fifo.sent.length, 1);
    assert.equal(fifo.sent[0]?.address, 'b:1', 'the group queue');
    const tx = publisher(() => {
      throw new RemotingError('RMQ_TIMEOUT', 'slow');
    }, 'TRANSACTION');
    await assert.rejects(tx.p.send(request({ messageType: v2.MessageType.TRANSACTION }), 'p'));
    assert.equal(tx.sent.length, 1);
  });

  test('attempts stop at maxAttempts', async () => {
    const { p, sent } = publisher(() => {
      throw new RemotingError('RMQ_CONNECTION_CLOSED', 'gone');
    });
    await assert.rejects(p.send(request(), 'p'));
    assert.equal(sent.length, 3);
  });

  test('a half message gets a transaction id any proxy can end', async () => {
    const { p } = publisher(() => okResponse(11, 'M1'), 'TRANSACTION');
    const response = await p.send(request({ messageType: v2.MessageType.TRANSACTION }), 'p');
    const handle = decodeTransactionId(response.entries?.[0]?.transactionId ?? '');
    assert.deepEqual(handle, {
      brokerName: 'broker-a',
      tranStateTableOffset: 11,
      commitLogOffset: 4242,
      brokerTransactionId: 'M1',
    });
  });

  test('degraded broker statuses become entry codes; the message type is checked before sending', async () => {
    const { p } = publisher(() => ({ ...okResponse(), code: 10 }));
    const response = await p.send(request(), 'p');
    assert.equal(response.status?.code, v2.Code.MASTER_PERSISTENCE_TIMEOUT);
    assert.match(response.entries?.[0]?.status?.message ?? '', /FLUSH_DISK_TIMEOUT/);
    const typed = publisher(() => okResponse(), 'FIFO');
    await assert.rejects(typed.p.send(request(), 'p'), /expected type is FIFO/);
    assert.equal(typed.sent.length, 0);
  });
});
