/**
 * Remoting framing: `u32 totalLength | u8 serializeType + u24 headerLength | header | body`,
 * where totalLength counts everything after itself. Pure functions plus an incremental reader
 * that turns socket chunks into frames without copying whole streams.
 */
import type { RemotingCommand, SerializeType } from './command.ts';
import { RemotingError } from './errors.ts';
import { decodeBinaryHeader, encodeBinaryHeader } from './header-binary.ts';
import { decodeJsonHeader, encodeJsonHeader } from './header-json.ts';

/** The brokers' frame cap, including the 4-byte length field. */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;
const MAX_HEADER_BYTES = 0xffffff;
const SERIALIZE_JSON = 0;
const SERIALIZE_ROCKETMQ = 1;

/** Encodes a whole frame, length prefix included. */
export function encodeFrame(command: RemotingCommand, serializeType: SerializeType = 'JSON'): Buffer {
  const header = serializeType === 'JSON' ? encodeJsonHeader(command) : encodeBinaryHeader(command);
  if (header.length > MAX_HEADER_BYTES) {
    throw new RemotingError('RMQ_FRAME_TOO_LARGE', `header of ${header.length} bytes exceeds 16 MiB`);
  }
  const bodyLength = command.body?.length ?? 0;
  const totalLength = 4 + header.length + bodyLength;
  if (totalLength + 4 > MAX_FRAME_BYTES) {
    throw new RemotingError('RMQ_FRAME_TOO_LARGE', `frame of ${totalLength + 4} bytes exceeds 16 MiB`);
  }
  const prefix = Buffer.allocUnsafe(8);
  prefix.writeUInt32BE(totalLength, 0);
  const typeByte = serializeType === 'JSON' ? SERIALIZE_JSON : SERIALIZE_ROCKETMQ;
  prefix.writeUInt32BE(((typeByte << 24) | header.length) >>> 0, 4);
  return bodyLength > 0 ? Buffer.concat([prefix, header, command.body!]) : Buffer.concat([prefix, header]);
}

/**
 * Decodes one frame's content: everything after the 4-byte length field. The body is a view
 * into `frame`, not a copy.
 */
export function decodeFrame(frame: Buffer): RemotingCommand {
  if (frame.length < 4) {
    throw new RemotingError('RMQ_BAD_FRAME', `frame of ${frame.length} bytes has no header length word`);
  }
  const word = frame.readUInt32BE(0);
  const serializeType = word >>> 24;
  const headerLength = word & MAX_HEADER_BYTES;
  if (headerLength > frame.length - 4) {
    throw new RemotingError(
      'RMQ_BAD_FRAME',
      `header length ${headerLength} exceeds the frame's remaining ${frame.length - 4} bytes`,
    );
  }
  const headerBytes = frame.subarray(4, 4 + headerLength);
  let command: RemotingCommand;
  if (serializeType === SERIALIZE_JSON) command = decodeJsonHeader(headerBytes);
  else if (serializeType === SERIALIZE_ROCKETMQ) command = decodeBinaryHeader(headerBytes);
  else throw new RemotingError('RMQ_BAD_FRAME', `unknown header serialize type ${serializeType}`);
  if (frame.length > 4 + headerLength) command.body = frame.subarray(4 + headerLength);
  return command;
}

/**
 * Splits a byte stream into frame contents. Holds at most one partial frame; a declared length
 * beyond the cap is rejected before any of it is buffered.
 */
export class FrameReader {
  readonly #maxFrameBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes needed before the next frame can complete: concatenating earlier would be quadratic. */
  #needed = 4;

  constructor(maxFrameBytes: number = MAX_FRAME_BYTES) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Bytes received but not yet part of a complete frame. */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  /** Feeds a chunk; returns the complete frames it finished (possibly none). Throws on a bad length. */
  push(chunk: Buffer): Buffer[] {
    if (this.#pendingBytes > 0) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
      if (this.#pendingBytes < this.#needed) return [];
      chunk = Buffer.concat(this.#pending, this.#pendingBytes);
      this.#pending = [];
      this.#pendingBytes = 0;
    }
    const frames: Buffer[] = [];
    let at = 0;
    this.#needed = 4;
    while (chunk.length - at >= 4) {
      const length = this.#checkedLength(chunk.readUInt32BE(at));
      if (chunk.length - at - 4 < length) {
        this.#needed = 4 + length;
        break;
      }
      frames.push(chunk.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
    if (at < chunk.length) {
      // Copy a small tail so it does not pin a large chunk in memory.
      const rest = chunk.subarray(at);
      this.#pending = [rest.length < 4096 ? Buffer.from(rest) : rest];
      this.#pendingBytes = rest.length;
    }
    return frames;
  }

  #checkedLength(length: number): number {
    if (length < 4) {
      throw new RemotingError(
        'RMQ_BAD_FRAME',
        `frame length ${length} is smaller than the header length word`,
      );
    }
    if (length + 4 > this.#maxFrameBytes) {
      throw new RemotingError(
        'RMQ_FRAME_TOO_LARGE',
        `frame of ${length + 4} bytes exceeds the ${this.#maxFrameBytes}-byte cap`,
      );
    }
    return length;
  }
}
