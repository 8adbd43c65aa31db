/**
 * Differential probes: the same invalid SendMessage (and a few other) requests, sent with a raw grpc-js
 * client and our generated protobufjs codec, to any MessagingService endpoint. Each probe records what
 * came back (the apache.rocketmq.v2 Code in the response status, and the gRPC status), so the answers of
 * the Apache Java proxy can be stored as a table and asserted against another proxy.
 */
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { type apache, v2 } from '../../../proxy/src/grpc/protocol.ts';
import { MESSAGING_SERVICE } from '../../../proxy/src/grpc/service-definition.ts';
import { formatPopReceipt } from '../../../proxy/src/remoting/message/pop-receipt.ts';
import { DEFAULT_BROKER_NAME } from '../../harness/rocketmq.ts';
import { TOPICS } from '../../harness/topology.ts';

type MessageProps = apache.rocketmq.v2.Message.$Properties;
type SystemProps = apache.rocketmq.v2.SystemProperties.$Properties;

/** What an endpoint answered to one probe. */
export interface Observation {
  /** gRPC status name (OK when the RPC itself succeeded and the error, if any, is in the response). */
  grpcStatus: string;
  /** apache.rocketmq.v2.Code name from the response status (or from the trailers' status when the RPC failed). */
  code: string;
  /** The status message: ours must be the Java proxy's, or contain its key phrase (see `javaKeyPhrase`). */
  message: string;
}

export interface Probe {
  name: string;
  /** What the probe violates, in words. */
  why: string;
  /** The words of the Java proxy's message that must appear in ours, when its message varies per run. */
  keyPhrase?: string;
  run(client: RawClient): Promise<Observation>;
}

const Client = grpc.makeGenericClientConstructor(MESSAGING_SERVICE, 'MessagingService');

const codeName = (code: number | null | undefined): string =>
  code === null || code === undefined ? 'NONE' : (v2.Code[code] ?? `UNKNOWN_${code}`);
const grpcStatusName = (code: number): string => grpc.status[code] ?? `UNKNOWN_${code}`;

/** A plaintext grpc-js client of MessagingService that sends the official clients' headers. */
export class RawClient {
  readonly clientId = `127.0.0.1@${process.pid}@rmqp-e2e@${randomBytes(4).toString('hex')}`;
  readonly #client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;

  constructor(endpoint: string) {
    this.#client = new Client(endpoint, grpc.credentials.createInsecure(), {
      // Room for the oversized-body probe (4 MiB + 1 plus framing).
      'grpc.max_send_message_length': 16 * 1024 * 1024,
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
    }) as grpc.Client & Record<string, (...args: unknown[]) => unknown>;
  }

  /** Headers as the Java client sends them; `omit` drops some (e.g. the client id). */
  metadata(omit: readonly string[] = []): grpc.Metadata {
    const headers: Record<string, string> = {
      'x-mq-language': 'JAVA',
      'x-mq-protocol': 'v2',
      'x-mq-client-version': '5.2.0',
      'x-mq-client-id': this.clientId,
      'x-mq-request-id': randomBytes(16).toString('hex'),
      'x-mq-date-time': new Date()
        .toISOString()
        .replace(/[-:]/g, '')
        .replace(/\.\d+Z$/, 'Z'),
      'x-mq-namespace': '',
    };
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(headers)) {
      if (!omit.includes(key)) metadata.set(key, value);
    }
    return metadata;
  }

  /** One unary call; resolves with the observation whether the RPC failed or answered with a status. */
  unary(method: string, request: object, metadata: grpc.Metadata, deadlineMs = 15_000): Promise<Observation> {
    return new Promise((resolvePromise) => {
      this.#client[method]?.(
        request,
        metadata,
        { deadline: Date.now() + deadlineMs },
        (error: grpc.ServiceError | null, response: { status?: apache.rocketmq.v2.Status } | undefined) => {
          if (error) {
            resolvePromise({ grpcStatus: grpcStatusName(error.code), code: 'NONE', message: error.details });
            return;
          }
          resolvePromise({
            grpcStatus: 'OK',
            code: codeName(response?.status?.code),
            message: response?.status?.message ?? '',
          });
        },
      );
    });
  }

  /**
   * One ReceiveMessage (server streaming): the observation is the first status the stream carries, or
   * the gRPC error when the call itself failed. Deliveries before the status are read and dropped.
   */
  receive(request: object, metadata: grpc.Metadata, deadlineMs = 20_000): Promise<Observation> {
    return new Promise((resolvePromise) => {
      let observed: Observation | undefined;
      const call = this.#client['ReceiveMessage']?.(request, metadata, {
        deadline: Date.now() + deadlineMs,
      }) as grpc.ClientReadableStream<{ status?: apache.rocketmq.v2.Status }>;
      call.on('data', (response: { status?: apache.rocketmq.v2.Status }) => {
        if (observed === undefined && response.status) {
          observed = {
            grpcStatus: 'OK',
            code: codeName(response.status.code),
            message: response.status.message ?? '',
          };
        }
      });
      call.on('error', (error: grpc.ServiceError) => {
        resolvePromise(
          observed ?? { grpcStatus: grpcStatusName(error.code), code: 'NONE', message: error.details },
        );
      });
      call.on('end', () => resolvePromise(observed ?? { grpcStatus: 'OK', code: 'NONE', message: '' }));
    });
  }

  /**
   * A simple consumer's Telemetry session for `group` on `topic`, open until `close()`: both proxies
   * serve ReceiveMessage only to a client that sent its settings first. Resolves once the proxy has
   * answered the settings.
   */
  async consumer(group: string, topic: string): Promise<void> {
    if (this.#telemetry) return;
    const stream = this.#client['Telemetry']?.(this.metadata()) as grpc.ClientDuplexStream<object, object>;
    this.#telemetry = stream;
    const answered = new Promise<void>((resolvePromise, reject) => {
      stream.once('data', () => resolvePromise());
      stream.once('error', reject);
    });
    stream.on('error', () => {}); // the stream ends with the client
    stream.write({
      settings: {
        clientType: v2.ClientType.SIMPLE_CONSUMER,
        accessPoint: { scheme: v2.AddressScheme.IPv4, addresses: [{ host: '127.0.0.1', port: 8081 }] },
        requestTimeout: { seconds: 3 },
        subscription: {
          group: { resourceNamespace: '', name: group },
          subscriptions: [
            {
              topic: { resourceNamespace: '', name: topic },
              expression: { type: v2.FilterType.TAG, expression: '*' },
            },
          ],
          longPollingTimeout: { seconds: 5 },
        },
        userAgent: { language: v2.Language.JAVA, version: '5.2.0', platform: 'linux', hostname: '127.0.0.1' },
      },
    });
    await answered;
  }

  #telemetry: grpc.ClientDuplexStream<object, object> | undefined;

  close(): void {
    this.#telemetry?.end();
    this.#client.close();
  }
}

let sequence = 0;

/** A 34-hex-digit v1 message id, unique per call (the shape the official clients send). */
function messageId(): string {
  sequence += 1;
  return `01${randomBytes(12).toString('hex')}${sequence.toString(16).padStart(8, '0')}`.toUpperCase();
}

function timestamp(ms: number): { seconds: number; nanos: number } {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

/** A valid NORMAL message for the shared normal topic; probes change one thing. */
export function validMessage(
  overrides: Partial<SystemProps> = {},
  topic: string = TOPICS.normal,
): MessageProps {
  return {
    topic: { resourceNamespace: '', name: topic },
    userProperties: {},
    systemProperties: {
      tag: 'TagA',
      keys: ['key-1'],
      messageId: messageId(),
      bodyEncoding: v2.Encoding.IDENTITY,
      messageType: v2.MessageType.NORMAL,
      bornTimestamp: timestamp(Date.now()),
      bornHost: '127.0.0.1',
      ...overrides,
    },
    body: Buffer.from('probe'),
  };
}

function sendProbe(name: string, why: string, build: () => MessageProps, omitHeaders: string[] = []): Probe {
  return {
    name,
    why,
    run: (client) => client.unary('SendMessage', { messages: [build()] }, client.metadata(omitHeaders)),
  };
}

const withTopic = (message: MessageProps, name: string): MessageProps => ({
  ...message,
  topic: { resourceNamespace: '', name },
});

const manyProperties = (count: number): Record<string, string> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`p${i}`, 'v']));

/** Every probe, in a stable order (the expectation table is keyed by name). */
export const PROBES: readonly Probe[] = [
  sendProbe('valid normal message', 'baseline: must succeed, or the other probes prove nothing', () =>
    validMessage(),
  ),
  sendProbe('empty topic', 'topic name ""', () => withTopic(validMessage(), '')),
  sendProbe('illegal topic characters', 'topic name with a space and "!"', () =>
    withTopic(validMessage(), 'bad topic!'),
  ),
  sendProbe('topic name too long', 'topic name of 128 characters (limit 127)', () =>
    withTopic(validMessage(), 't'.repeat(128)),
  ),
  sendProbe('reserved system topic', 'sending to RMQ_SYS_TRANS_HALF_TOPIC', () =>
    withTopic(validMessage(), 'RMQ_SYS_TRANS_HALF_TOPIC'),
  ),
  sendProbe('unknown topic', 'a well-formed topic that does not exist', () =>
    withTopic(validMessage(), `rmqp-e2e-missing-${randomBytes(4).toString('hex')}`),
  ),
  {
    name: 'no messages',
    why: 'SendMessageRequest with an empty messages list',
    run: (client) => client.unary('SendMessage', { messages: [] }, client.metadata()),
  },
  sendProbe('empty body', 'body of zero bytes', () => ({ ...validMessage(), body: Buffer.alloc(0) })),
  sendProbe('body too large', 'body of 4 MiB + 1 byte (maxMessageSize 4 MiB)', () => ({
    ...validMessage(),
    body: Buffer.alloc(4 * 1024 * 1024 + 1, 0x61),
  })),
  sendProbe('too many properties', '129 user properties (limit 128)', () => ({
    ...validMessage(),
    userProperties: manyProperties(129),
  })),
  sendProbe('properties too large', 'user properties of more than 16 KiB in total', () => ({
    ...validMessage(),
    userProperties: { big: 'x'.repeat(17 * 1024) },
  })),
  sendProbe('reserved property key', 'user property named like a system property (UNIQ_KEY)', () => ({
    ...validMessage(),
    userProperties: { UNIQ_KEY: 'mine' },
  })),
  sendProbe('property key with control character', 'user property key containing \\u0001', () => ({
    ...validMessage(),
    userProperties: { 'bad\u0001key': 'v' },
  })),
  sendProbe('empty property key', 'user property with an empty key', () => ({
    ...validMessage(),
    userProperties: { '': 'v' },
  })),
  sendProbe('tag with ||', 'tag "a||b"', () => validMessage({ tag: 'a||b' })),
  sendProbe('blank tag', 'tag of spaces', () => validMessage({ tag: '   ' })),
  sendProbe('key with space', 'key "a b"', () => validMessage({ keys: ['a b'] })),
  sendProbe('blank key', 'key ""', () => validMessage({ keys: [''] })),
  sendProbe('missing message id', 'system properties without message_id', () =>
    validMessage({ messageId: '' }),
  ),
  sendProbe(
    'FIFO message group too long',
    'message group of 65 characters (limit 64) to the FIFO topic',
    () => validMessage({ messageType: v2.MessageType.FIFO, messageGroup: 'g'.repeat(65) }, TOPICS.fifo),
  ),
  sendProbe('FIFO message group with control character', 'message group "g\\u0001" to the FIFO topic', () =>
    validMessage({ messageType: v2.MessageType.FIFO, messageGroup: 'g\u0001' }, TOPICS.fifo),
  ),
  sendProbe(
    'delivery timestamp too far',
    'delivery 2 days ahead (maxDelayTimeMills 1 day) to the DELAY topic',
    () =>
      validMessage(
        { messageType: v2.MessageType.DELAY, deliveryTimestamp: timestamp(Date.now() + 2 * 86_400_000) },
        TOPICS.delay,
      ),
  ),
  sendProbe('missing client id', 'no x-mq-client-id header', () => validMessage(), ['x-mq-client-id']),
  sendProbe('normal message to FIFO topic', 'message type NORMAL, topic type FIFO', () =>
    validMessage({}, TOPICS.fifo),
  ),
  sendProbe('FIFO message to normal topic', 'message type FIFO with a group, topic type NORMAL', () =>
    validMessage({ messageType: v2.MessageType.FIFO, messageGroup: 'g1' }),
  ),
  sendProbe(
    'delay message to normal topic',
    'message type DELAY with a delivery time, topic type NORMAL',
    () =>
      validMessage({ messageType: v2.MessageType.DELAY, deliveryTimestamp: timestamp(Date.now() + 60_000) }),
  ),
  sendProbe('transaction message to normal topic', 'message type TRANSACTION, topic type NORMAL', () =>
    validMessage({ messageType: v2.MessageType.TRANSACTION }),
  ),
  {
    name: 'query route of unknown topic',
    why: 'QueryRoute for a topic that does not exist',
    // The message names the probe's random topic.
    keyPhrase: 'No topic route info in name server for the topic',
    run: (client) =>
      client.unary(
        'QueryRoute',
        {
          topic: { resourceNamespace: '', name: `rmqp-e2e-missing-${randomBytes(4).toString('hex')}` },
          endpoints: { scheme: v2.AddressScheme.IPv4, addresses: [{ host: '127.0.0.1', port: 8081 }] },
        },
        client.metadata(),
      ),
  },
  {
    name: 'query route of illegal topic',
    why: 'QueryRoute for "bad topic!"',
    run: (client) =>
      client.unary(
        'QueryRoute',
        {
          topic: { resourceNamespace: '', name: 'bad topic!' },
          endpoints: { scheme: v2.AddressScheme.IPv4, addresses: [{ host: '127.0.0.1', port: 8081 }] },
        },
        client.metadata(),
      ),
  },
  receiveProbe(
    'receive invisible time too small',
    'ReceiveMessage with an invisible duration of 1 s (min 10 s)',
    {
      invisibleSeconds: 1,
    },
  ),
  receiveProbe(
    'receive invisible time too large',
    'ReceiveMessage with an invisible duration of 13 h (max 12 h)',
    {
      invisibleSeconds: 13 * 3600,
    },
  ),
  receiveProbe(
    'receive with a 10,240-character tag filter',
    'a tag expression the broker accepts though it is long: nothing matches, so no message',
    { filter: { type: v2.FilterType.TAG, expression: 'x'.repeat(10_240) } },
  ),
  receiveProbe('receive with an empty SQL92 filter', 'SQL92 filter expression ""', {
    filter: { type: v2.FilterType.SQL, expression: '' },
  }),
  receiveProbe('receive with a tag filter naming no tag', 'TAG filter expression "||"', {
    filter: { type: v2.FilterType.TAG, expression: '||' },
  }),
  receiveProbe('receive batch size zero', 'ReceiveMessage with batch_size 0', { batchSize: 0 }),
  receiveProbe('receive from illegal group', 'ReceiveMessage for group "bad group!"', {
    group: 'bad group!',
  }),
  settleProbe(
    'ack with expired receipt handle',
    'AckMessage with a handle whose invisible time ended an hour ago',
    'AckMessage',
    () => ({
      entries: [{ messageId: messageId(), receiptHandle: expiredReceiptHandle() }],
    }),
  ),
  changeInvisibleProbe(
    'change invisible duration too large',
    'ChangeInvisibleDuration to 13 h (max 12 h)',
    13 * 3600,
    () => expiredReceiptHandle(Date.now() + 600_000),
  ),
  changeInvisibleProbe(
    'change invisible duration of expired receipt handle',
    'ChangeInvisibleDuration with a handle whose invisible time ended an hour ago',
    30,
    () => expiredReceiptHandle(),
  ),
  {
    name: 'end transaction with blank transaction id',
    why: 'EndTransaction with transaction_id ""',
    run: (client) =>
      client.unary(
        'EndTransaction',
        {
          topic: { resourceNamespace: '', name: TOPICS.transaction },
          messageId: messageId(),
          transactionId: '',
          resolution: v2.TransactionResolution.COMMIT,
          source: v2.TransactionSource.SOURCE_CLIENT,
        },
        client.metadata(),
      ),
  },
];

/**
 * A receipt handle in the broker's format for the shared broker whose invisible time ends at
 * `visibleAgain` (an hour ago by default); both proxies check expiry before they ask a broker.
 */
function expiredReceiptHandle(visibleAgain: number = Date.now() - 3_600_000): string {
  const invisibleTime = 60_000;
  return formatPopReceipt({
    ckQueueOffset: 0,
    popTime: visibleAgain - invisibleTime,
    invisibleTime,
    reviveQid: 0,
    retry: '0',
    brokerName: DEFAULT_BROKER_NAME,
    queueId: 0,
    queueOffset: 0,
    commitLogOffset: 0,
  });
}

/** The consumer group of the consumption probes: its own, so no other scenario's subscription changes. */
const PROBE_GROUP = 'rmqp-e2e-probe-consumer';

interface ReceiveChange {
  invisibleSeconds?: number;
  filter?: { type: apache.rocketmq.v2.FilterType; expression: string };
  batchSize?: number;
  group?: string;
}

function receiveProbe(name: string, why: string, change: ReceiveChange): Probe {
  return {
    name,
    why,
    run: async (client) => {
      await client.consumer(PROBE_GROUP, TOPICS.normal);
      return client.receive(
        {
          group: { resourceNamespace: '', name: change.group ?? PROBE_GROUP },
          messageQueue: {
            topic: { resourceNamespace: '', name: TOPICS.normal },
            id: -1,
            permission: v2.Permission.READ_WRITE,
            acceptMessageTypes: [v2.MessageType.NORMAL],
          },
          filterExpression: change.filter ?? { type: v2.FilterType.TAG, expression: '*' },
          batchSize: change.batchSize ?? 16,
          invisibleDuration: { seconds: change.invisibleSeconds ?? 30 },
          autoRenew: false,
          longPollingTimeout: { seconds: 5 },
        },
        client.metadata(),
      );
    },
  };
}

function changeInvisibleProbe(name: string, why: string, seconds: number, handle: () => string): Probe {
  return settleProbe(name, why, 'ChangeInvisibleDuration', () => ({
    receiptHandle: handle(),
    invisibleDuration: { seconds },
    messageId: messageId(),
  }));
}

/** An AckMessage or ChangeInvisibleDuration of the probe group on the normal topic, with `fields`. */
function settleProbe(name: string, why: string, method: string, fields: () => object): Probe {
  return {
    name,
    why,
    run: async (client) => {
      await client.consumer(PROBE_GROUP, TOPICS.normal);
      return client.unary(
        method,
        {
          group: { resourceNamespace: '', name: PROBE_GROUP },
          topic: { resourceNamespace: '', name: TOPICS.normal },
          ...fields(),
        },
        client.metadata(),
      );
    },
  };
}

/**
 * What of the Java proxy's message a user's code can match on: the text without the Java exception
 * class it is prefixed with (`org.apache.rocketmq.proxy.common.ProxyException: …`), the client
 * exception's `CODE: n  DESC: ` frame, and the FAQ link after it.
 */
export function javaKeyPhrase(message: string): string {
  return message
    .replace(/^(?:[\w$]+\.)+[\w$]*Exception: /, '')
    .replace(/^CODE: \d+\s+DESC: /, '')
    .replace(/\s*For more information, please visit the url, \S+\s*$/, '')
    .trim();
}

/** Runs every probe against `endpoint`, one at a time. */
export async function observeAll(endpoint: string): Promise<Record<string, Observation>> {
  const client = new RawClient(endpoint);
  try {
    const observations: Record<string, Observation> = {};
    for (const probe of PROBES) observations[probe.name] = await probe.run(client);
    return observations;
  } finally {
    client.close();
  }
}
