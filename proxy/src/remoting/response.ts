/**
 * Helpers for reading responses: turning response codes into errors (the connection resolves
 * with any response) and reading typed values out of the string-only header.
 */
import type { RemotingCommand } from './command.ts';
import { RemotingError, RemotingResponseError } from './errors.ts';

const SUCCESS_ONLY: readonly number[] = [0];
const INTEGER = /^[+-]?\d+$/;

/** Returns `response` when its code is one of `okCodes`, else throws RemotingResponseError. */
export function expectSuccess(
  response: RemotingCommand,
  requestCode?: number,
  okCodes: readonly number[] = SUCCESS_ONLY,
): RemotingCommand {
  if (okCodes.includes(response.code)) return response;
  throw new RemotingResponseError(response.code, response.remark, requestCode);
}

/** The header value, or undefined when absent. */
export function headerOptional(response: RemotingCommand, key: string): string | undefined {
  return response.extFields?.[key];
}

/** A required string header value (may be empty in JSON headers). */
export function headerString(response: RemotingCommand, key: string): string {
  const value = response.extFields?.[key];
  if (value === undefined) throw missing(response, key);
  return value;
}

/** A required int32 header value (Java `int`/`Integer`). */
export function headerInt(response: RemotingCommand, key: string): number {
  const value = parseInteger(response, key);
  if (value < -(2 ** 31) || value >= 2 ** 31) throw invalid(response, key, 'a 32-bit integer');
  return value;
}

/**
 * A required int64 header value (Java `long`) as a number: offsets and timestamps stay far below
 * 2^53, and a value beyond it is rejected rather than silently rounded (use headerBigInt).
 */
export function headerLong(response: RemotingCommand, key: string): number {
  const value = parseInteger(response, key);
  if (!Number.isSafeInteger(value)) throw invalid(response, key, 'an integer within ±2^53');
  return value;
}

/** A required int64 header value as a bigint, for the rare fields that can exceed 2^53. */
export function headerBigInt(response: RemotingCommand, key: string): bigint {
  const text = headerString(response, key);
  if (!INTEGER.test(text)) throw invalid(response, key, 'an integer');
  const value = BigInt(text);
  if (value < -(2n ** 63n) || value >= 2n ** 63n) throw invalid(response, key, 'a 64-bit integer');
  return value;
}

function parseInteger(response: RemotingCommand, key: string): number {
  const text = headerString(response, key);
  if (!INTEGER.test(text)) throw invalid(response, key, 'an integer');
  // `+ 0` turns "-0" into 0: callers compare offsets with ===/Object.is and deepEqual.
  return Number(text) + 0;
}

function missing(response: RemotingCommand, key: string): RemotingError {
  return new RemotingError('RMQ_BAD_PAYLOAD', `response (code ${response.code}) lacks header field "${key}"`);
}

function invalid(response: RemotingCommand, key: string, expected: string): RemotingError {
  const value = JSON.stringify(response.extFields?.[key]);
  return new RemotingError(
    'RMQ_BAD_PAYLOAD',
    `response (code ${response.code}) header field "${key}" is ${value}, expected ${expected}`,
  );
}
