/**
 * Publishing through our proxy against the real broker: the official Node Producer sends NORMAL,
 * FIFO, DELAY messages and recalls one; every message is read back straight from the broker over
 * Remoting and checked field by field. Raw grpc-js requests check the specific Code of each invalid
 * SendMessage / RecallMessage / EndTransaction of proxy-grpc.md §7.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { fifoQueueIndex } from '../../../proxy/src/cluster/consistent-hash.ts';
import { v2 } from '../../../proxy/src/grpc/protocol.ts';
import { MessageProperty } from '../../../proxy/src/remoting/message/properties.ts';
import { TOPIC_LAYOUT, TOPICS } from '../../harness/env.ts';
import { sleep, withTimeout } from '../../support/wait.ts';
import {
  arrivedSince,
  nodeClient,
  onCleanup,
  type ProxyUnderTest,
  rawHeaders,
  readBack,
  snapshot,
  startProxyUnderTest,
} from './publish-support.ts';

const { Producer } = nodeClient;

let under: ProxyUnderTest;
let producer: InstanceType<typeof Producer>;

before(async () => {
  under = await startProxyUnderTest();
  producer = new Producer({
    endpoints: under.endpoint,
    namespace: '',
    topics: [TOPICS.normal, TOPICS.fifo, TOPICS.delay],
    requestTimeout: 10_000,
  });
  onCleanup(() => producer.shutdown());
  await withTimeout(producer.startup(), 30_000, 'Producer.startup()');
});

describe('official Node Producer through the proxy', () => {
  test('NORMAL: body, tag, keys and user properties arrive as sent, under the client message id', async () => {
    const since = await snapshot(under, TOPICS.normal);
    const body = Buffer.from(`normal ${Date.now()} ✓`);
    const receipt = await producer.send({
      topic: TOPICS.normal,
      body,
      tag: 'TagA',
      keys: ['order-1', 'customer-7'],
      properties: new Map([
        ['color', 'blue'],
        ['size', 'XL'],
      ]),
    });
    assert.match(receipt.messageId, /^[0-9A-F]{34}$/);
    const stored = await readBack(under, TOPICS.normal, since, receipt.messageId);
    assert.deepEqual(stored.body, body);
    assert.equal(stored.topic, TOPICS.normal);
    assert.equal(stored.properties.get(MessageProperty.TAGS), 'TagA');
    assert.equal(stored.properties.get(MessageProperty.KEYS), 'order-1 customer-7');
    assert.equal(stored.properties.get('color'), 'blue');
    assert.equal(stored.properties.get('size'), 'XL');
    assert.equal(stored.properties.get(MessageProperty.PRODUCER_GROUP), TOPICS.normal);
    assert.ok(stored.properties.get(MessageProperty.BORN_HOST), 'born host recorded');
    const bornAt = Number(stored.properties.get(MessageProperty.BORN_TIMESTAMP));
    assert.ok(Math.abs(bornAt - Date.now()) < 60_000, 'born timestamp is the client clock');
    assert.equal(stored.bornTimestamp, bornAt, 'the header born timestamp is the message born timestamp');
    assert.equal(receipt.offset, stored.queueOffset, 'the receipt offset is the queue offset');
    for (const absent of [
      MessageProperty.SHARDING_KEY,
      MessageProperty.TIMER_DELIVER_MS,
      MessageProperty.TRANSACTION_PREPARED,
    ]) {
      assert.equal(stored.properties.has(absent), false, `${absent} not set`);
    }
  });

  test('NORMAL without a tag stores no TAGS; sends spread over the queues', async () => {
    const since = await snapshot(under, TOPICS.normal);
    const receipts: { messageId: string }[] = [];
    for (let i = 0; i < 8; i++)
      receipts.push(await producer.send({ topic: TOPICS.normal, body: Buffer.from(`rr ${i}`) }));
    const arrived = await arrivedSince(under, TOPICS.normal, since);
    const ours = arrived.filter((m) =>
      receipts.some((r) => r.messageId === m.properties.get(MessageProperty.UNIQ_KEY)),
    );
    assert.equal(ours.length, 8);
    assert.equal(
      ours.some((m) => m.properties.has(MessageProperty.TAGS)),
      false,
    );
    assert.ok(new Set(ours.map((m) => m.queueId)).size >= 4, 'round-robin reaches several queues');
  });

  test('FIFO: each group lands on the queue the Java consistent hash picks, in send order', async () => {
    const groups = ['order-42', 'order-43', 'user-α', 'g'];
    const queueCount = TOPIC_LAYOUT.fifo.writeQueueNums;
    for (const group of groups) {
      const since = await snapshot(under, TOPICS.fifo);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const receipt = await producer.send({
          topic: TOPICS.fifo,
          body: Buffer.from(`${group} #${i}`),
          messageGroup: group,
        });
        ids.push(receipt.messageId);
      }
      const expectedQueue = fifoQueueIndex(group, queueCount);
      const stored = [];
      for (const id of ids) stored.push(await readBack(under, TOPICS.fifo, since, id));
      for (const message of stored) {
        assert.equal(message.queueId, expectedQueue, `group ${group} goes to queue ${expectedQueue}`);
        assert.equal(message.properties.get(MessageProperty.SHARDING_KEY), group);
      }
      const offsets = stored.map((message) => message.queueOffset);
      assert.deepEqual(
        offsets,
        [...offsets].sort((a, b) => a - b),
        'stored in send order',
      );
    }
  });

  test('DELAY: not readable before its delivery time, readable after, with TIMER_DELIVER_MS', {
    timeout: 30_000,
  }, async () => {
    const since = await snapshot(under, TOPICS.delay);
    const deliverAt = Date.now() + 4000;
    const receipt = await producer.send({
      topic: TOPICS.delay,
      body: Buffer.from('later'),
      tag: 'delayed',
      deliveryTimestamp: new Date(deliverAt),
    });
    assert.ok(receipt.recallHandle, 'timer messages come with a recall handle');
    while (Date.now() < deliverAt - 1000) {
      const early = (await arrivedSince(under, TOPICS.delay, since)).find(
        (m) => m.properties.get(MessageProperty.UNIQ_KEY) === receipt.messageId,
      );
      assert.equal(early, undefined, 'visible before its delivery time');
      await sleep(250);
    }
    const stored = await readBack(under, TOPICS.delay, since, receipt.messageId, 15_000);
    assert.ok(Date.now() >= deliverAt - 1000, 'arrived around its delivery time (1 s timer precision)');
    assert.equal(stored.properties.get(MessageProperty.TIMER_DELIVER_MS), String(deliverAt));
    assert.equal(stored.properties.get(MessageProperty.TAGS), 'delayed');
    assert.equal(stored.body.toString(), 'later');
  });

  test('RecallMessage: a recalled delay message is never delivered', { timeout: 30_000 }, async () => {
    const since = await snapshot(under, TOPICS.delay);
    const deliverAt = Date.now() + 3000;
    const receipt = await producer.send({
      topic: TOPICS.delay,
      body: Buffer.from('recall me'),
      deliveryTimestamp: new Date(deliverAt),
    });
    const recalled = await producer.recallMessage(TOPICS.delay, receipt.recallHandle);
    assert.equal(recalled.messageId, receipt.messageId);
    await sleep(deliverAt - Date.now() + 3000);
    const arrived = (await arrivedSince(under, TOPICS.delay, since)).filter(
      (m) => m.properties.get(MessageProperty.UNIQ_KEY) === receipt.messageId,
    );
    assert.deepEqual(arrived, [], 'the recalled message was delivered');
  });

  test('a FIFO message to the NORMAL topic is refused by the client type check (accept types from the proxy)', async () => {
    await assert.rejects(
      producer.send({ topic: TOPICS.normal, body: Buffer.from('x'), messageGroup: 'g' }),
      /message type not match/,
    );
  });
});

interface WithStatus {
  status?: { code?: number; message?: string };
}
interface SendResponse extends WithStatus {
  entries?: { status?: { code?: number }; messageId?: string; transactionId?: string; offset?: number }[];
}

let sequence = 0;
function messageId(): string {
  sequence += 1;
  return `0100000000000000${process.pid.toString(16).padStart(8, '0')}${sequence.toString(16).padStart(10, '0')}`.toUpperCase();
}

function message(
  overrides: Record<string, unknown> = {},
  topic: string = TOPICS.normal,
  extra: Record<string, unknown> = {},
) {
  return {
    topic: { name: topic, resourceNamespace: '' },
    body: Buffer.from('raw'),
    systemProperties: { messageId: messageId(), messageType: v2.MessageType.NORMAL, ...overrides },
    ...extra,
  };
}

async function send(messages: object[]): Promise<SendResponse> {
  const { response, error } = await under.raw.unary<SendResponse>(
    'SendMessage',
    { messages },
    rawHeaders(),
    15_000,
  );
  assert.equal(error, undefined, error?.message);
  assert.ok(response);
  return response;
}

async function sendCode(...messages: object[]): Promise<[number | undefined, string | undefined]> {
  const response = await send(messages);
  return [response.status?.code, response.status?.message];
}

const ts = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 });

describe('raw SendMessage requests', () => {
  test('a valid message succeeds with one OK entry carrying the message id and offset', async () => {
    const m = message();
    const since = await snapshot(under, TOPICS.normal);
    const response = await send([m]);
    assert.equal(response.status?.code, v2.Code.OK);
    assert.equal(response.status?.message, 'OK');
    assert.equal(response.entries?.length, 1);
    assert.equal(response.entries?.[0]?.messageId, m.systemProperties.messageId);
    const stored = await readBack(under, TOPICS.normal, since, m.systemProperties.messageId);
    assert.equal(Number(response.entries?.[0]?.offset), stored.queueOffset);
  });

  test('a batch goes as one SEND_BATCH_MESSAGE: one entry with comma-joined ids, every message stored', async () => {
    const batch = [message({ tag: 'b' }), message({ keys: ['k2'] }), message()];
    const since = await snapshot(under, TOPICS.normal);
    const response = await send(batch);
    assert.equal(response.status?.code, v2.Code.OK);
    assert.equal(response.entries?.length, 1);
    const ids = batch.map((m) => m.systemProperties.messageId);
    assert.equal(response.entries?.[0]?.messageId, ids.join(','));
    const stored = await Promise.all(ids.map((id) => readBack(under, TOPICS.normal, since, id)));
    assert.equal(new Set(stored.map((m) => m.queueId)).size, 1, 'one batch, one queue');
    assert.equal(stored[0]?.properties.get(MessageProperty.TAGS), 'b');
    assert.equal(stored[1]?.properties.get(MessageProperty.KEYS), 'k2');
  });

  test('GZIP body encoding: stored readable for every client (gunzipped); a corrupt gzip body is refused', async () => {
    const { gzipSync } = await import('node:zlib');
    const m = message({ bodyEncoding: v2.Encoding.GZIP }, TOPICS.normal, {
      body: gzipSync(Buffer.from('zipped body')),
    });
    const since = await snapshot(under, TOPICS.normal);
    assert.equal((await send([m])).status?.code, v2.Code.OK);
    const stored = await readBack(under, TOPICS.normal, since, m.systemProperties.messageId);
    assert.equal(stored.body.toString(), 'zipped body');
    const [code] = await sendCode(
      message({ bodyEncoding: v2.Encoding.GZIP }, TOPICS.normal, { body: Buffer.from('not gzip') }),
    );
    assert.equal(code, v2.Code.MESSAGE_CORRUPTED);
  });

  test('every invalid message of §7 gets its specific Code', async () => {
    const cases: [string, object[], number, RegExp?][] = [
      ['no messages', [], v2.Code.MESSAGE_CORRUPTED, /no message to send/],
      ['blank topic', [message({}, '')], v2.Code.ILLEGAL_TOPIC],
      ['illegal topic', [message({}, 'bad topic!')], v2.Code.ILLEGAL_TOPIC],
      ['system topic', [message({}, 'RMQ_SYS_TRANS_HALF_TOPIC')], v2.Code.ILLEGAL_TOPIC],
      ['topics differ', [message(), message({}, TOPICS.fifo)], v2.Code.MESSAGE_CORRUPTED, /not same/],
      ['empty body', [message({}, TOPICS.normal, { body: Buffer.alloc(0) })], v2.Code.MESSAGE_BODY_EMPTY],
      [
        'too many properties',
        [
          message({}, TOPICS.normal, {
            userProperties: Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`p${i}`, 'v'])),
          }),
        ],
        v2.Code.MESSAGE_PROPERTIES_TOO_LARGE,
        /max is 128/,
      ],
      [
        'properties too large',
        [message({}, TOPICS.normal, { userProperties: { big: 'x'.repeat(17 * 1024) } })],
        v2.Code.MESSAGE_PROPERTIES_TOO_LARGE,
      ],
      [
        'reserved key',
        [message({}, TOPICS.normal, { userProperties: { UNIQ_KEY: 'x' } })],
        v2.Code.ILLEGAL_MESSAGE_PROPERTY_KEY,
        /UNIQ_KEY/,
      ],
      [
        'control char in key',
        [message({}, TOPICS.normal, { userProperties: { 'a\u0001b': 'x' } })],
        v2.Code.ILLEGAL_MESSAGE_PROPERTY_KEY,
      ],
      [
        'control char in value',
        [message({}, TOPICS.normal, { userProperties: { a: 'x\u0000' } })],
        v2.Code.ILLEGAL_MESSAGE_PROPERTY_KEY,
        /value/,
      ],
      ['tag with |', [message({ tag: 'a||b' })], v2.Code.ILLEGAL_MESSAGE_TAG, /'\|'/],
      ['blank tag', [message({ tag: '   ' })], v2.Code.ILLEGAL_MESSAGE_TAG, /whitespace/],
      ['control char in tag', [message({ tag: 'a\tb' })], v2.Code.ILLEGAL_MESSAGE_TAG],
      ['blank key', [message({ keys: ['  '] })], v2.Code.ILLEGAL_MESSAGE_KEY],
      ['control char in key', [message({ keys: ['k\u007f'] })], v2.Code.ILLEGAL_MESSAGE_KEY],
      ['missing message id', [message({ messageId: '' })], v2.Code.ILLEGAL_MESSAGE_ID],
      [
        'delivery too far',
        [message({ deliveryTimestamp: ts(Date.now() + 2 * 86_400_000) }, TOPICS.delay)],
        v2.Code.ILLEGAL_DELIVERY_TIME,
      ],
      [
        'group of 64 bytes',
        [message({ messageGroup: 'g'.repeat(64) }, TOPICS.fifo)],
        v2.Code.ILLEGAL_MESSAGE_GROUP,
      ],
      ['blank group', [message({ messageGroup: ' ' }, TOPICS.fifo)], v2.Code.ILLEGAL_MESSAGE_GROUP],
      [
        'recovery too long',
        [
          message(
            {
              messageType: v2.MessageType.TRANSACTION,
              orphanedTransactionRecoveryDuration: { seconds: 3601 },
            },
            TOPICS.transaction,
          ),
        ],
        v2.Code.BAD_REQUEST,
      ],
      ['unknown message type', [message({ messageType: 42 })], v2.Code.BAD_REQUEST, /message_type/],
      ['unknown body encoding', [message({ bodyEncoding: 9 })], v2.Code.BAD_REQUEST, /body_encoding/],
      [
        'NORMAL to FIFO topic',
        [message({}, TOPICS.fifo)],
        v2.Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
        /expected type is FIFO, but actual type is NORMAL/,
      ],
      ['FIFO to NORMAL topic', [message({ messageGroup: 'g' })], v2.Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE],
      [
        'DELAY to NORMAL topic',
        [message({ deliveryTimestamp: ts(Date.now() + 60_000) })],
        v2.Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
      ],
      [
        'TRANSACTION to NORMAL topic',
        [message({ messageType: v2.MessageType.TRANSACTION })],
        v2.Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
      ],
      [
        'missing topic (type UNSPECIFIED, as Java)',
        [message({}, 'rmqp-no-such-topic-x')],
        v2.Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
        /does not exist/,
      ],
      [
        'transactional batch',
        [
          message({ messageType: v2.MessageType.TRANSACTION }, TOPICS.transaction),
          message({ messageType: v2.MessageType.TRANSACTION }, TOPICS.transaction),
        ],
        v2.Code.BAD_REQUEST,
      ],
    ];
    for (const [name, messages, code, text] of cases) {
      const [actual, detail] = await sendCode(...messages);
      assert.equal(actual, code, `${name}: got ${actual} ${detail}`);
      if (text) assert.match(detail ?? '', text, name);
    }
  });

  test('a body over the limit is refused with MESSAGE_BODY_TOO_LARGE', async () => {
    const [code, detail] = await sendCode(
      message({}, TOPICS.normal, { body: Buffer.alloc(4 * 1024 * 1024 + 1, 0x61) }),
    );
    assert.equal(code, v2.Code.MESSAGE_BODY_TOO_LARGE);
    assert.match(detail ?? '', /4194304/);
  });

  test('keys with spaces and empty properties are accepted as the Java proxy accepts them', async () => {
    const m = message({ keys: ['a b', ''] }, TOPICS.normal, {
      userProperties: { '': 'v', empty: '', kept: 'yes' },
    });
    const since = await snapshot(under, TOPICS.normal);
    assert.equal((await send([m])).status?.code, v2.Code.OK);
    const stored = await readBack(under, TOPICS.normal, since, m.systemProperties.messageId);
    assert.equal(stored.properties.get(MessageProperty.KEYS), 'a b ');
    assert.equal(stored.properties.get('kept'), 'yes');
    assert.equal(stored.properties.has('empty'), false);
  });

  test('missing client id: CLIENT_ID_REQUIRED', async () => {
    const { response } = await under.raw.unary<WithStatus>(
      'SendMessage',
      { messages: [message()] },
      { 'x-mq-language': 'JAVA' },
    );
    assert.equal(response?.status?.code, v2.Code.CLIENT_ID_REQUIRED);
  });
});

describe('raw RecallMessage and EndTransaction requests', () => {
  test('RecallMessage: bad handle, non-delay topic, illegal topic', async () => {
    const recall = async (request: object) =>
      (await under.raw.unary<WithStatus>('RecallMessage', request, rawHeaders(), 10_000)).response?.status;
    assert.equal(
      (await recall({ topic: { name: TOPICS.delay }, recallHandle: 'garbage' }))?.code,
      v2.Code.INTERNAL_SERVER_ERROR,
    );
    assert.equal(
      (await recall({ topic: { name: TOPICS.normal }, recallHandle: 'x' }))?.code,
      v2.Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
    );
    assert.equal((await recall({ topic: { name: 'a b' }, recallHandle: 'x' }))?.code, v2.Code.ILLEGAL_TOPIC);
  });

  test('EndTransaction: blank, foreign and malformed transaction ids; unknown resolution', async () => {
    const end = async (request: object) =>
      (await under.raw.unary<WithStatus>('EndTransaction', request, rawHeaders(), 10_000)).response?.status;
    const topic = { name: TOPICS.transaction };
    assert.equal(
      (await end({ topic, transactionId: '', resolution: 1 }))?.code,
      v2.Code.INVALID_TRANSACTION_ID,
    );
    assert.equal(
      (await end({ topic, transactionId: '7F0000010000', resolution: 1 }))?.code,
      v2.Code.INVALID_TRANSACTION_ID,
    );
    assert.equal(
      (await end({ topic: { name: '' }, transactionId: 'x', resolution: 1 }))?.code,
      v2.Code.ILLEGAL_TOPIC,
    );
    const valid = 'RMQP1.YnJva2VyLWE.0.0.QUJD';
    assert.equal((await end({ topic, transactionId: valid, resolution: 9 }))?.code, v2.Code.BAD_REQUEST);
  });
});
