/**
 * The "ROCKETMQ" binary header encoding (serialize type 1). Brokers configured with it answer
 * in it whatever we send, so we must decode it; we encode it only for tests and for codes that
 * fit its 16-bit code field.
 */
import { languageByte, languageName } from './codes.ts';
import type { RemotingCommand } from './command.ts';
import { RemotingError } from './errors.ts';

const FIXED_PART = 2 + 1 + 2 + 4 + 4 + 4 + 4;

export function encodeBinaryHeader(command: RemotingCommand): Buffer {
  if (command.code < -32768 || command.code > 32767) {
    throw new RemotingError('RMQ_BAD_FRAME', `code ${command.code} does not fit the binary header's 16 bits`);
  }
  const remark = command.remark ? Buffer.from(command.remark, 'utf8') : undefined;
  const entries: [Buffer, Buffer][] = [];
  let extLength = 0;
  for (const [key, value] of Object.entries(command.extFields ?? {})) {
    const k = Buffer.from(key, 'utf8');
    const v = Buffer.from(value, 'utf8');
    entries.push([k, v]);
    extLength += 2 + k.length + 4 + v.length;
  }
  const out = Buffer.allocUnsafe(FIXED_PART + (remark?.length ?? 0) + extLength);
  let at = out.writeInt16BE(command.code, 0);
  at = out.writeUInt8(languageByte(command.language), at);
  at = out.writeInt16BE(command.version, at);
  at = out.writeInt32BE(command.opaque, at);
  at = out.writeInt32BE(command.flag, at);
  at = out.writeInt32BE(remark?.length ?? 0, at);
  if (remark) at += remark.copy(out, at);
  at = out.writeInt32BE(extLength, at);
  for (const [k, v] of entries) {
    at = out.writeInt16BE(k.length, at);
    at += k.copy(out, at);
    at = out.writeInt32BE(v.length, at);
    at += v.copy(out, at);
  }
  return out;
}

export function decodeBinaryHeader(bytes: Buffer): Omit<RemotingCommand, 'body'> {
  if (bytes.length < FIXED_PART) {
    throw new RemotingError(
      'RMQ_BAD_FRAME',
      `binary header of ${bytes.length} bytes is shorter than ${FIXED_PART}`,
    );
  }
  const command: Omit<RemotingCommand, 'body'> = {
    code: bytes.readInt16BE(0),
    language: languageName(bytes.readUInt8(2)),
    version: bytes.readInt16BE(3),
    opaque: bytes.readInt32BE(5),
    flag: bytes.readInt32BE(9),
  };
  let at = 13;
  const remarkLength = readLength(bytes, at, 'remark');
  at += 4;
  if (remarkLength > 0) command.remark = bytes.toString('utf8', at, at + remarkLength);
  at += remarkLength;
  const extLength = readLength(bytes, at, 'extFields');
  at += 4;
  if (extLength > 0) {
    const end = at + extLength;
    const fields: Record<string, string> = {};
    while (at < end) {
      if (at + 2 > end) throw truncated('extFields key length', at);
      const keyLength = bytes.readInt16BE(at);
      at += 2;
      if (keyLength < 0 || at + keyLength + 4 > end) throw truncated('extFields key', at);
      const key = bytes.toString('utf8', at, at + keyLength);
      at += keyLength;
      const valueLength = bytes.readInt32BE(at);
      at += 4;
      if (valueLength < 0 || at + valueLength > end) throw truncated('extFields value', at);
      // A zero length decodes to null in Java, i.e. the field is absent.
      if (keyLength > 0 && valueLength > 0) fields[key] = bytes.toString('utf8', at, at + valueLength);
      at += valueLength;
    }
    command.extFields = fields;
  }
  return command;
}

function readLength(bytes: Buffer, at: number, what: string): number {
  if (at + 4 > bytes.length) throw truncated(`${what} length`, at);
  const length = bytes.readInt32BE(at);
  if (length < 0 || at + 4 + length > bytes.length) {
    throw new RemotingError('RMQ_BAD_FRAME', `binary header ${what} length ${length} exceeds the header`);
  }
  return length;
}

function truncated(what: string, at: number): RemotingError {
  return new RemotingError('RMQ_BAD_FRAME', `binary header truncated in ${what} at byte ${at}`);
}
