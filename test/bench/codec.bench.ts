/**
 * Protobuf codec throughput for the two hottest gRPC messages: SendMessageRequest (publish path)
 * and ReceiveMessageResponse (consume path). Run with `make bench-codec`.
 */
import { performance } from 'node:perf_hooks';
import { v2 } from '../../proxy/src/grpc/protocol.ts';

const BODY_1K = Buffer.alloc(1024, 0x61);
const DURATION_MS = Number(process.env.BENCH_MS ?? 2000);

function message(i: number): InstanceType<typeof v2.Message> {
  return v2.Message.create({
    topic: { name: 'TopicNormal', resourceNamespace: '' },
    userProperties: { orderId: `order-${i}`, region: 'eu-west-1', tenant: 'acme', k4: 'v4', k5: 'v5' },
    systemProperties: {
      tag: 'TagA',
      keys: [`key-${i}`],
      messageId: '01C0A8000100002A9F0000000000001000',
      bodyDigest: { type: v2.DigestType.CRC32, checksum: '1A2B3C4D' },
      bodyEncoding: v2.Encoding.IDENTITY,
      messageType: v2.MessageType.NORMAL,
      bornTimestamp: { seconds: 1_764_000_000, nanos: 123_000_000 },
      bornHost: '10.0.0.7',
      storeTimestamp: { seconds: 1_764_000_000, nanos: 456_000_000 },
      storeHost: '10.0.0.5:10911',
      queueId: 3,
      queueOffset: 123_456,
      receiptHandle: 'YnJva2VyLWEgMyAxMjM0NTYgMTc2NDAwMDAwMDEyMyA2MDAwMCAzIDA',
      invisibleDuration: { seconds: 30 },
      deliveryAttempt: 1,
    },
    body: BODY_1K,
  });
}

function measure(name: string, bytes: number, op: () => void): void {
  for (let i = 0; i < 2000; i++) op(); // warm up the JIT
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < DURATION_MS) {
    for (let i = 0; i < 256; i++) op();
    ops += 256;
    now = performance.now();
  }
  const perSecond = (ops * 1000) / (now - start);
  const mibPerSecond = (perSecond * bytes) / (1024 * 1024);
  console.log(
    `${name.padEnd(44)} ${Math.round(perSecond).toLocaleString('en-US').padStart(10)} ops/s ${mibPerSecond.toFixed(0).padStart(6)} MiB/s  (${bytes} B)`,
  );
}

const sendOne = v2.SendMessageRequest.create({ messages: [message(1)] });
const sendBatch = v2.SendMessageRequest.create({
  messages: Array.from({ length: 16 }, (_, i) => message(i)),
});
const receive = v2.ReceiveMessageResponse.create({ message: message(1) });

const sendOneBytes = v2.SendMessageRequest.encode(sendOne).finish();
const sendBatchBytes = v2.SendMessageRequest.encode(sendBatch).finish();
const receiveBytes = v2.ReceiveMessageResponse.encode(receive).finish();

console.log(`node ${process.version}, ${DURATION_MS} ms per case`);
measure('SendMessageRequest encode, 1 msg x 1 KiB', sendOneBytes.length, () =>
  v2.SendMessageRequest.encode(sendOne).finish(),
);
measure('SendMessageRequest decode, 1 msg x 1 KiB', sendOneBytes.length, () =>
  v2.SendMessageRequest.decode(sendOneBytes),
);
measure('SendMessageRequest encode, 16 msgs x 1 KiB', sendBatchBytes.length, () =>
  v2.SendMessageRequest.encode(sendBatch).finish(),
);
measure('SendMessageRequest decode, 16 msgs x 1 KiB', sendBatchBytes.length, () =>
  v2.SendMessageRequest.decode(sendBatchBytes),
);
measure('ReceiveMessageResponse encode, 1 KiB', receiveBytes.length, () =>
  v2.ReceiveMessageResponse.encode(receive).finish(),
);
measure('ReceiveMessageResponse decode, 1 KiB', receiveBytes.length, () =>
  v2.ReceiveMessageResponse.decode(receiveBytes),
);
