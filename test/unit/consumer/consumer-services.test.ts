import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, test } from 'node:test';
import pino from 'pino';
import type { ConsumerBroker } from '../../../proxy/src/consumer/broker-client.ts';
import {
  type ReceiveRequest,
  ReceiveService,
  type ReceiveSink,
} from '../../../proxy/src/consumer/receive.ts';
import { SettleService } from '../../../proxy/src/consumer/settle.ts';
import type { RequestContext } from '../../../proxy/src/core/context.ts';
import type { Outcome } from '../../../proxy/src/core/errors.ts';
import type { MessageView } from '../../../proxy/src/core/message-view.ts';
import {
  filterOf,
  int64,
  offsetPolicyOf,
  receiveRequestOf,
} from '../../../proxy/src/grpc/consumer-service.ts';
import { v2 } from '../../../proxy/src/grpc/protocol.ts';
import { receiveSink } from '../../../proxy/src/grpc/receive-stream.ts';
import { Code, codeOf } from '../../../proxy/src/grpc/status.ts';
import type { PopReceipt } from '../../../proxy/src/remoting/message/pop-receipt.ts';
import type { PoppedMessage, PopResult } from '../../../proxy/src/remoting/requests/pop.ts';
import type { ClientSession } from '../../../proxy/src/session/client-session.ts';

const logger = pino({ level: 'silent' });
const NOW = 1_700_000_000_000;

const context = (deadline = Number.POSITIVE_INFINITY): RequestContext => ({
  protocol: 'grpc',
  clientId: 'client-1',
  remoteAddress: '127.0.0.1:1',
  language: 'JAVA',
  namespace: '',
  deadline,
});

const receipt = (queueOffset: number): PopReceipt => ({
  ckQueueOffset: queueOffset,
  popTime: NOW,
  invisibleTime: 30_000,
  reviveQid: 0,
  retry: '0',
  brokerName: 'broker-a',
  queueId: 1,
  queueOffset,
});

const popped = (queueOffset: number, tag: string): PoppedMessage => ({
  topic: 'T',
  realTopic: 'T',
  queueId: 1,
  queueOffset,
  commitLogOffset: 1000 + queueOffset,
  sysFlag: 0,
  flag: 0,
  bodyCrc: 0,
  reconsumeTimes: 0,
  preparedTransactionOffset: 0,
  bornTimestamp: NOW,
  bornHost: '127.0.0.1:1',
  storeTimestamp: NOW,
  storeHost: '127.0.0.1:10911',
  storeSize: 0,
  body: Buffer.from(`body-${queueOffset}`),
  properties: new Map([
    ['UNIQ_KEY', `ID${queueOffset}`],
    ['TAGS', tag],
  ]),
  msgId: `OFFSET${queueOffset}`,
  receipt: receipt(queueOffset),
  receiptHandle: '',
});

type Written = { status?: Outcome; message?: MessageView; end?: number };

function recordingSink(): ReceiveSink & { written: Written[] } {
  const written: Written[] = [];
  return {
    written,
    writeStatus: (status) => void written.push({ status }),
    writeMessage: (message) => {
      written.push({ message });
      return true;
    },
    drained: async () => true,
    isClosed: () => false,
    end: (at) => void written.push({ end: at }),
  };
}

const session = { consumerGroup: 'G', settings: { fifo: false, retryPolicy: { maxAttempts: 3 } } };

function receiveService(options: { pop?: PopResult; session?: unknown; groupKnown?: boolean } = {}) {
  const acked: PopReceipt[] = [];
  const pops: unknown[] = [];
  const broker = {
    pop: async (_address: string, _name: string, params: unknown) => {
      pops.push(params);
      return options.pop ?? { status: 'POLLING_NOT_FOUND', messages: [] };
    },
    ack: async (_group: string, _topic: string, sent: PopReceipt) => void acked.push(sent),
    sendBack: async () => undefined,
    changeInvisible: async () => {
      throw new Error('not expected');
    },
  } as unknown as ConsumerBroker;
  const service = new ReceiveService({
    broker,
    routes: {
      view: async () =>
        ({
          readBrokers: [{ topic: 'T', brokerName: 'broker-a', queueId: -1, brokerAddr: '10.0.0.1:10911' }],
        }) as never,
    },
    metadata: { groupConfig: async () => (options.groupKnown === false ? undefined : {}) as never },
    registry: { get: () => options.session as ClientSession | undefined },
    renewer: { add: () => undefined },
    polling: { minMs: 5000, maxMs: 20_000 },
    logger,
    clock: () => NOW,
  });
  return { service, acked, pops };
}

const valid: ReceiveRequest = {
  group: 'G',
  topic: 'T',
  brokerName: undefined,
  filter: { type: 'TAG', expression: 'A' },
  batchSize: 16,
  invisibleMs: 30_000,
  autoRenew: false,
  longPollingMs: 10_000,
  attemptId: undefined,
};

async function receive(
  request: ReceiveRequest,
  options: Parameters<typeof receiveService>[0] = {},
  deadline?: number,
): Promise<Written[]> {
  const sink = recordingSink();
  await receiveService(options).service.receive(request, context(deadline), sink);
  return sink.written;
}

describe('ReceiveService', () => {
  test('checks polling time, topic, group, invisible time, filter, batch size, then the group, in that order', async () => {
    const bad: ReceiveRequest = {
      ...valid,
      group: ' ',
      topic: '',
      filter: { type: 'SQL92', expression: ' ' },
      batchSize: 0,
      invisibleMs: 1,
    };
    const steps: [Partial<ReceiveRequest>, Code][] = [
      [{}, Code.ILLEGAL_POLLING_TIME],
      [{}, Code.ILLEGAL_TOPIC],
      [{ topic: 'T' }, Code.ILLEGAL_CONSUMER_GROUP],
      [{ group: 'G' }, Code.ILLEGAL_INVISIBLE_TIME],
      [{ invisibleMs: 30_000 }, Code.ILLEGAL_FILTER_EXPRESSION],
      [{ filter: undefined }, Code.MESSAGE_NOT_FOUND],
      [{ batchSize: 1 }, Code.CONSUMER_GROUP_NOT_FOUND],
    ];
    let request = bad;
    for (const [index, [change, code]] of steps.entries()) {
      request = { ...request, ...change };
      // The first step leaves too little time before the deadline for any long poll.
      const deadline = index === 0 ? Date.now() + 1000 : undefined;
      const written = await receive(request, { groupKnown: false }, deadline);
      assert.equal(written.length, 2, `step ${index}: a status and the end`);
      assert.equal(codeOf(written[0]!.status!.reason), code, `step ${index}: ${written[0]!.status!.message}`);
      assert.equal(written[1]!.end, NOW);
    }
  });

  test('streams the outcome, the matching messages with their receipt handles, then the end', async () => {
    const pop: PopResult = {
      status: 'FOUND',
      popTime: NOW,
      invisibleTime: 30_000,
      reviveQid: 0,
      restNum: 0,
      messages: [popped(7, 'A'), popped(8, 'B'), popped(9, 'A')],
    };
    const { service, acked, pops } = receiveService({ pop, session });
    const sink = recordingSink();
    await service.receive(valid, context(), sink);
    assert.deepEqual(sink.written[0], { status: { reason: 'Ok', message: 'OK' } });
    const messages = sink.written.slice(1, -1).map((item) => item.message!);
    assert.deepEqual(
      messages.map((message) => [message.messageId, message.receiptHandle]),
      [
        ['ID7', '7 1700000000000 30000 0 0 broker-a 1 7 1007'],
        ['ID9', '9 1700000000000 30000 0 0 broker-a 1 9 1009'],
      ],
    );
    assert.deepEqual(sink.written.at(-1), { end: NOW });
    assert.deepEqual(
      acked.map((sent) => sent.queueOffset),
      [8],
      'the tag hash collision is acked, not delivered',
    );
    assert.equal((pops[0] as { maxMsgNums: number }).maxMsgNums, 16);
  });

  test('a full long-poll queue is TOO_MANY_REQUESTS; nothing popped is MESSAGE_NOT_FOUND', async () => {
    const full = await receive(valid, {
      session,
      pop: { status: 'POLLING_FULL', popTime: 0, invisibleTime: 0, reviveQid: 0, restNum: 0, messages: [] },
    });
    assert.deepEqual(full[0], { status: { reason: 'TooManyRequests', message: 'polling full' } });
    const none = await receive(valid, { session });
    assert.deepEqual(none[0], { status: { reason: 'MessageNotFound', message: 'no new message' } });
  });

  test('auto-renew without a session is MESSAGE_NOT_FOUND naming the client', async () => {
    const written = await receive({ ...valid, autoRenew: true }, { groupKnown: true });
    const { reason, message } = written[0]!.status!;
    assert.deepEqual(
      { reason, message },
      {
        reason: 'MessageNotFound',
        message: 'The client [client-1] is disconnected.',
      },
    );
  });
});

describe('SettleService', () => {
  const handle = (queueOffset: number) => `${queueOffset} ${NOW} 60000 0 0 broker-a 1 ${queueOffset} 2048`;
  const settle = (failing: Set<number>, options: { cached?: boolean; brokersKnow?: boolean } = {}) =>
    new SettleService({
      broker: {
        ackMany: async (_group: string, _topic: string, receipts: readonly PopReceipt[]) =>
          receipts.map((sent) => (failing.has(sent.queueOffset) ? new Error('broken') : undefined)),
        ack: async () => undefined,
        changeInvisible: async () => {
          throw new Error('not expected');
        },
        sendBack: async () => undefined,
        isGroupKnown: async () => options.brokersKnow ?? false,
      },
      renewer: { take: async () => undefined },
      metadata: { groupConfig: async () => (options.cached === false ? undefined : ({} as never)) },
      logger,
      clock: () => NOW,
    });

  test('ack answers one outcome per entry and MULTIPLE_RESULTS when they differ', async () => {
    const entries = [
      { messageId: 'a', receiptHandle: handle(1) },
      { messageId: 'b', receiptHandle: 'bad' },
      { messageId: 'c', receiptHandle: handle(3) },
    ];
    const mixed = await settle(new Set([3])).ack({ group: 'G', topic: 'T', entries }, context());
    assert.deepEqual(
      mixed.entries.map((entry) => codeOf(entry.reason)),
      [Code.OK, Code.INVALID_RECEIPT_HANDLE, Code.INTERNAL_SERVER_ERROR],
    );
    assert.deepEqual(mixed.outcome, { reason: 'MultipleResults', message: 'ack results differ per entry' });
    const ok = await settle(new Set()).ack({ group: 'G', topic: 'T', entries: [entries[0]!] }, context());
    assert.deepEqual(ok.outcome, { reason: 'Ok', message: 'OK' });
  });

  test('an unknown group is CONSUMER_GROUP_NOT_FOUND once the brokers say so too', async () => {
    const request = { group: 'G', topic: 'T', entries: [{ messageId: 'a', receiptHandle: handle(1) }] };
    await assert.rejects(settle(new Set(), { cached: false }).ack(request, context()), {
      reason: 'ConsumerGroupNotFound',
      message: 'consumer group G does not exist',
    });
    const known = await settle(new Set(), { cached: false, brokersKnow: true }).ack(request, context());
    assert.equal(known.outcome.reason, 'Ok', 'a master that knows the group overrules the cache');
  });
});

describe('gRPC decoding of consumption requests', () => {
  test('SQL filters are SQL92, every other type a tag expression; durations arrive in ms', () => {
    assert.deepEqual(filterOf({ type: v2.FilterType.SQL, expression: 'a > 1' }), {
      type: 'SQL92',
      expression: 'a > 1',
    });
    assert.deepEqual(filterOf({ type: v2.FilterType.FILTER_TYPE_UNSPECIFIED, expression: 'A' }), {
      type: 'TAG',
      expression: 'A',
    });
    assert.equal(filterOf(null), undefined);
    const request = receiveRequestOf(
      v2.ReceiveMessageRequest.create({
        group: { name: 'G' },
        messageQueue: { topic: { name: 'T' }, broker: { name: 'broker-a' } },
        batchSize: 4,
        invisibleDuration: { seconds: 30, nanos: 5_000_000 },
        autoRenew: true,
      }),
    );
    assert.equal(request.invisibleMs, 30_005);
    assert.equal(request.longPollingMs, undefined, 'undefined when the client sent none');
    assert.equal(request.brokerName, 'broker-a');
    assert.equal(request.autoRenew, true);
  });

  test('query offset policies by name; an unknown one is kept for the core to refuse', () => {
    const policy = (fields: Record<string, unknown>) => offsetPolicyOf(v2.QueryOffsetRequest.create(fields));
    assert.deepEqual(policy({}), { type: 'BEGINNING' });
    assert.deepEqual(policy({ queryOffsetPolicy: v2.QueryOffsetPolicy.END }), { type: 'END' });
    assert.deepEqual(
      policy({ queryOffsetPolicy: v2.QueryOffsetPolicy.TIMESTAMP, timestamp: { seconds: 2 } }),
      {
        type: 'TIMESTAMP',
        timestampMs: 2000,
      },
    );
    assert.deepEqual(policy({ queryOffsetPolicy: 9 }), { type: 'UNKNOWN', value: 9 });
    assert.equal(int64({ toString: () => '9007199254740993' }), 9007199254740992);
  });

  test('the receive sink writes status, messages and the delivery timestamp, then ends', () => {
    const written: unknown[] = [];
    let ended = false;
    const call = Object.assign(new EventEmitter(), {
      cancelled: false,
      destroyed: false,
      writable: true,
      writableNeedDrain: false,
      write: (response: unknown) => written.push(response) > 0,
      end: () => {
        ended = true;
      },
    });
    const sink = receiveSink(call as never);
    sink.writeStatus({ reason: 'MessageNotFound', message: 'no new message' });
    sink.end(NOW + 1500);
    assert.deepEqual(written, [
      { status: { code: Code.MESSAGE_NOT_FOUND, message: 'no new message' } },
      { deliveryTimestamp: { seconds: 1_700_000_001, nanos: 500_000_000 } },
    ]);
    assert.equal(ended, true);
  });
});
