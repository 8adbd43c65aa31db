/**
 * SEND_BATCH_MESSAGE body: one record per message, back to back, with no count or outer length:
 * i32 totalSize, i32 magic (0), i32 bodyCRC (0), i32 flag, i32 bodyLength, body, i16 propertiesLength, properties.
 */
import { RemotingError } from '../errors.ts';
import { MAX_PROPERTIES_BYTES } from './properties.ts';

export interface BatchEntry {
  flag: number;
  body: Uint8Array;
  /** Already-encoded properties string (see properties.ts), each message with its own UNIQ_KEY. */
  properties: string;
}

/** Bytes of a record around its body and properties. */
const RECORD_OVERHEAD = 4 + 4 + 4 + 4 + 4 + 2;

/** Throws RMQ_BAD_PAYLOAD when a message's properties exceed the i16 length field. */
export function encodeBatchBody(entries: readonly BatchEntry[]): Buffer {
  const propertyLengths = entries.map((entry, index) => {
    const length = Buffer.byteLength(entry.properties, 'utf8');
    if (length > MAX_PROPERTIES_BYTES) {
      throw new RemotingError(
        'RMQ_BAD_PAYLOAD',
        `batch message ${index}: properties are ${length} bytes (max 32767)`,
      );
    }
    return length;
  });
  let total = 0;
  entries.forEach((entry, index) => {
    total += RECORD_OVERHEAD + entry.body.length + propertyLengths[index]!;
  });
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  entries.forEach((entry, index) => {
    const propertiesLength = propertyLengths[index]!;
    pos = out.writeInt32BE(RECORD_OVERHEAD + entry.body.length + propertiesLength, pos);
    pos = out.writeInt32BE(0, pos); // magic: ignored by the broker
    pos = out.writeInt32BE(0, pos); // body CRC: the broker computes its own
    pos = out.writeInt32BE(entry.flag, pos);
    pos = out.writeInt32BE(entry.body.length, pos);
    out.set(entry.body, pos);
    pos += entry.body.length;
    pos = out.writeInt16BE(propertiesLength, pos);
    pos += out.write(entry.properties, pos, 'utf8');
  });
  return out;
}

/**
 * Inverse of encodeBatchBody; bodies are views into `body`. Kept for the Remoting ingress, which decodes the
 * batches classic clients send (today only tests and mocks call it).
 */
export function decodeBatchBody(body: Buffer): BatchEntry[] {
  const entries: BatchEntry[] = [];
  let pos = 0;
  while (pos < body.length) {
    const fail = (what: string): never => {
      throw new RemotingError('RMQ_BAD_PAYLOAD', `batch record ${entries.length} at offset ${pos}: ${what}`);
    };
    if (body.length - pos < RECORD_OVERHEAD) fail('truncated header');
    const totalSize = body.readInt32BE(pos);
    if (totalSize < RECORD_OVERHEAD || totalSize > body.length - pos)
      fail(`totalSize ${totalSize} out of range`);
    const flag = body.readInt32BE(pos + 12);
    const bodyLength = body.readInt32BE(pos + 16);
    if (bodyLength < 0 || bodyLength > totalSize - RECORD_OVERHEAD)
      fail(`bodyLength ${bodyLength} out of range`);
    const bodyStart = pos + 20;
    const propertiesStart = bodyStart + bodyLength + 2;
    const propertiesLength = body.readInt16BE(propertiesStart - 2);
    if (RECORD_OVERHEAD + bodyLength + propertiesLength !== totalSize) {
      fail(`propertiesLength ${propertiesLength} disagrees with totalSize ${totalSize}`);
    }
    entries.push({
      flag,
      body: body.subarray(bodyStart, bodyStart + bodyLength),
      properties: body.toString('utf8', propertiesStart, propertiesStart + propertiesLength),
    });
    pos += totalSize;
  }
  return entries;
}
