/**
 * JSON header encoding (serialize type 0), the one we send: every broker accepts it and, unlike
 * the binary form, it can carry request codes above 32767 (the pop family).
 */
import type { RemotingCommand } from './command.ts';
import { RemotingError } from './errors.ts';

export function encodeJsonHeader(command: RemotingCommand): Buffer {
  // Key order mirrors what Java emits (sorted); receivers do not depend on it.
  const header: Record<string, unknown> = { code: command.code };
  if (command.extFields !== undefined) header.extFields = command.extFields;
  header.flag = command.flag;
  header.language = command.language;
  header.opaque = command.opaque;
  if (command.remark !== undefined) header.remark = command.remark;
  header.serializeTypeCurrentRPC = 'JSON';
  header.version = command.version;
  return Buffer.from(JSON.stringify(header), 'utf8');
}

export function decodeJsonHeader(bytes: Buffer): Omit<RemotingCommand, 'body'> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new RemotingError('RMQ_BAD_FRAME', `JSON header does not parse: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new RemotingError('RMQ_BAD_FRAME', 'JSON header is not an object');
  }
  const header = parsed as Record<string, unknown>;
  const command: Omit<RemotingCommand, 'body'> = {
    code: requireInt32(header, 'code'),
    language: typeof header.language === 'string' ? header.language : 'OTHER',
    version: optionalInt32(header, 'version'),
    opaque: requireInt32(header, 'opaque'),
    flag: optionalInt32(header, 'flag'),
  };
  if (typeof header.remark === 'string') command.remark = header.remark;
  const extFields = decodeExtFields(header.extFields);
  if (extFields !== undefined) command.extFields = extFields;
  return command;
}

function requireInt32(header: Record<string, unknown>, key: string): number {
  const value = header[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < -(2 ** 31) || value >= 2 ** 31) {
    throw new RemotingError('RMQ_BAD_FRAME', `JSON header field "${key}" must be a 32-bit integer`);
  }
  return value;
}

function optionalInt32(header: Record<string, unknown>, key: string): number {
  return header[key] === undefined || header[key] === null ? 0 : requireInt32(header, key);
}

/** Java's extFields is a String→String map; tolerate scalars a lenient peer may send unquoted. */
function decodeExtFields(value: unknown): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new RemotingError('RMQ_BAD_FRAME', 'JSON header field "extFields" must be an object');
  }
  const fields: Record<string, string> = {};
  for (const [key, raw] of Object.entries(value)) {
    if (raw === null || raw === undefined) continue;
    if (typeof raw === 'string') fields[key] = raw;
    else if (typeof raw === 'number' || typeof raw === 'boolean') fields[key] = String(raw);
    else throw new RemotingError('RMQ_BAD_FRAME', `JSON header extField "${key}" is not a scalar`);
  }
  return fields;
}
