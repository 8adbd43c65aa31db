import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { AutoRenewer, RENEW_STEPS_MS, retryDelayMs } from '../../../proxy/src/consumer/auto-renew.ts';
import { parseFilter, tagMatches } from '../../../proxy/src/consumer/filter-expression.ts';
import {
  changedInvisibleTime,
  longPollingTime,
  popBatchSize,
  receiveInvisibleTime,
} from '../../../proxy/src/consumer/parameters.ts';
import {
  decodeReceiptHandle,
  receiptHandleOf,
  requireUnexpired,
} from '../../../proxy/src/consumer/receipt-handle.ts';
import { ProxyError } from '../../../proxy/src/core/errors.ts';
import { v2 } from '../../../proxy/src/grpc/protocol.ts';
import { statusFromError } from '../../../proxy/src/grpc/status.ts';
import type { PopReceipt } from '../../../proxy/src/remoting/message/pop-receipt.ts';

/** The gRPC-visible code of what `run` throws (a ProxyError). */
const codeOf = (run: () => unknown): number | undefined => {
  try {
    run();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof ProxyError, String(error));
    return statusFromError(error).code;
  }
};

const receipt: PopReceipt = {
  ckQueueOffset: 12,
  popTime: 1_700_000_000_000,
  invisibleTime: 60_000,
  reviveQid: 3,
  retry: '0',
  brokerName: 'broker-a',
  queueId: 2,
  queueOffset: 15,
};

describe('receipt handles', () => {
  test('carry the commit-log offset as a ninth field and decode back to the same receipt', () => {
    const handle = receiptHandleOf({ receipt, commitLogOffset: 204800 });
    assert.equal(handle, '12 1700000000000 60000 3 0 broker-a 2 15 204800');
    assert.deepEqual(decodeReceiptHandle(handle), { ...receipt, commitLogOffset: 204800 });
  });

  test('malformed, blank and expired handles are INVALID_RECEIPT_HANDLE', () => {
    for (const bad of ['', '   ', 'x', '1 2 3', '12 1700000000000 60000 3 9 broker-a 2 15', undefined]) {
      assert.equal(
        codeOf(() => decodeReceiptHandle(bad)),
        v2.Code.INVALID_RECEIPT_HANDLE,
        String(bad),
      );
    }
    assert.equal(
      codeOf(() => requireUnexpired(receipt, receipt.popTime + 60_000)),
      v2.Code.INVALID_RECEIPT_HANDLE,
    );
    assert.equal(requireUnexpired(receipt, receipt.popTime + 59_999), receipt);
  });
});

describe('filters', () => {
  test('TAG: * and empty match all; tags split on || and trimmed; a tag-less expression is illegal', () => {
    assert.equal(parseFilter(undefined).tags, undefined);
    assert.equal(parseFilter({ type: 'TAG', expression: ' * ' }).expression, '*');
    const filter = parseFilter({ type: 'TAG', expression: 'A || B ||' });
    assert.deepEqual([...(filter.tags ?? [])], ['A', 'B']);
    assert.equal(tagMatches(filter, 'A'), true);
    assert.equal(tagMatches(filter, 'C'), false);
    assert.equal(tagMatches(filter, undefined), false);
    assert.equal(
      codeOf(() => parseFilter({ type: 'TAG', expression: '||' })),
      v2.Code.ILLEGAL_FILTER_EXPRESSION,
    );
  });

  test('TAG: no length limit of its own (the broker and the Java proxy take a 10,240-character tag)', () => {
    const long = 'x'.repeat(10_240);
    assert.deepEqual([...(parseFilter({ type: 'TAG', expression: long }).tags ?? [])], [long]);
  });

  test('SQL92: passed through to the broker; blank is illegal', () => {
    assert.deepEqual(parseFilter({ type: 'SQL92', expression: 'a > 1' }), {
      type: 'SQL92',
      expression: 'a > 1',
      tags: undefined,
    });
    assert.equal(
      codeOf(() => parseFilter({ type: 'SQL92', expression: ' ' })),
      v2.Code.ILLEGAL_FILTER_EXPRESSION,
    );
  });
});

describe('parameters', () => {
  const bounds = { minMs: 5000, maxMs: 20_000, clientRequestTimeoutMs: undefined };
  test('long polling is clamped to [min, max] and cut to the deadline', () => {
    assert.equal(longPollingTime({ ...bounds, requestedMs: 30_000, timeRemainingMs: 60_000 }), 20_000);
    assert.equal(longPollingTime({ ...bounds, requestedMs: 100, timeRemainingMs: 60_000 }), 5000);
    assert.equal(longPollingTime({ ...bounds, requestedMs: 20_000, timeRemainingMs: 12_000 }), 11_500);
    assert.equal(longPollingTime({ ...bounds, requestedMs: undefined, timeRemainingMs: Infinity }), 20_000);
    assert.equal(
      codeOf(() => longPollingTime({ ...bounds, requestedMs: 20_000, timeRemainingMs: 3000 })),
      v2.Code.ILLEGAL_POLLING_TIME,
    );
  });

  test('invisible durations and batch sizes', () => {
    assert.equal(receiveInvisibleTime(10_000), 10_000);
    for (const bad of [undefined, 9999, 12 * 3600_000 + 1]) {
      assert.equal(
        codeOf(() => receiveInvisibleTime(bad)),
        v2.Code.ILLEGAL_INVISIBLE_TIME,
      );
    }
    assert.equal(changedInvisibleTime(0), 0);
    assert.equal(
      codeOf(() => changedInvisibleTime(-1)),
      v2.Code.ILLEGAL_INVISIBLE_TIME,
    );
    // The Java proxy's words, which clients match on, then the value sent.
    assert.throws(() => receiveInvisibleTime(9999), {
      message: 'the invisibleTime is too small. min is 10000 (got 9999 ms)',
    });
    assert.throws(() => receiveInvisibleTime(12 * 3600_000 + 1), {
      message: `the invisibleTime is too large. max is 43200000 (got ${12 * 3600_000 + 1} ms)`,
    });
    assert.throws(() => changedInvisibleTime(-1), {
      message: 'the invisibleTime is too small. min is 0 (got -1 ms)',
    });
    assert.equal(popBatchSize(100), 32);
    // Asking for no message is answered like an empty queue, as the Java proxy does.
    assert.equal(
      codeOf(() => popBatchSize(0)),
      v2.Code.MESSAGE_NOT_FOUND,
    );
  });

  test('retry delay of the final renewal follows the group policy', () => {
    assert.equal(
      retryDelayMs({ maxAttempts: 17, exponential: { initialMs: 1000, maxMs: 5000, multiplier: 2 } }, 2),
      4000,
    );
    assert.equal(
      retryDelayMs({ maxAttempts: 17, exponential: { initialMs: 1000, maxMs: 5000, multiplier: 2 } }, 9),
      5000,
    );
    assert.equal(retryDelayMs({ maxAttempts: 17, customizedMs: [1, 2, 3, 4].map((s) => s * 1000) }, 0), 3000);
    assert.equal(retryDelayMs({ maxAttempts: 17, customizedMs: [1, 2, 3, 4].map((s) => s * 1000) }, 7), 4000);
  });
});

describe('AutoRenewer', () => {
  const logger = pino({ level: 'silent' });
  const setup = (alive: Set<string>) => {
    let now = receipt.popTime;
    const calls: { invisibleTime: number; receipt: PopReceipt }[] = [];
    const renewer = new AutoRenewer({
      broker: {
        changeInvisible: async (_group, _topic, sent, invisibleTime) => {
          calls.push({ invisibleTime, receipt: sent });
          const renewed = { ...sent, ckQueueOffset: sent.queueOffset, popTime: now, invisibleTime };
          return {
            popTime: now,
            invisibleTime,
            reviveQid: sent.reviveQid,
            receipt: renewed,
            receiptHandle: '',
          };
        },
      },
      isClientAlive: (clientId) => alive.has(clientId),
      retryPolicyOf: async () => ({ maxAttempts: 17, customizedMs: [1000] }),
      logger,
      clock: () => now,
      scanIntervalMs: 3_600_000,
    });
    const add = (clientId: string, handle: string) =>
      renewer.add({
        clientId,
        group: 'g',
        topic: 't',
        originalHandle: handle,
        receipt,
        firstPopTime: receipt.popTime,
        reconsumeTimes: 0,
      });
    return { renewer, calls, add, advance: (ms: number) => (now += ms) };
  };

  test('renews only receipts about to turn visible, with the step durations; an ack takes the renewed receipt', async () => {
    const { renewer, calls, add, advance } = setup(new Set(['c1']));
    add('c1', 'h1');
    await renewer.scan();
    assert.equal(calls.length, 0, 'not due yet');
    advance(51_000);
    await renewer.scan();
    assert.deepEqual(
      calls.map((call) => call.invisibleTime),
      [RENEW_STEPS_MS[0]],
    );
    const current = await renewer.take('c1', 'g', 'h1');
    assert.equal(current?.popTime, receipt.popTime + 51_000, 'the renewed receipt, not the original');
    assert.equal(await renewer.take('c1', 'g', 'h1'), undefined, 'taken once');
    await renewer.close();
  });

  test('a client that went away gets its messages released with a 1 s invisible time', async () => {
    const alive = new Set(['c1', 'c2']);
    const { renewer, calls, add } = setup(alive);
    add('c1', 'h1');
    add('c2', 'h2');
    alive.delete('c2');
    await renewer.scan();
    assert.deepEqual(
      calls.map((call) => call.invisibleTime),
      [1000],
    );
    assert.equal(renewer.size, 1);
    await renewer.close();
    assert.deepEqual(
      calls.map((call) => call.invisibleTime),
      [1000, 1000],
      'shutdown releases the rest',
    );
  });
});
