/**
 * apache.rocketmq.v2.Status values and the mapping of failures to v2 Codes (proxy-grpc.md §6.2).
 * Responses travel with gRPC status OK; the real outcome is this Status inside the response message.
 */
import { RemotingError, RemotingResponseError } from '../remoting/errors.ts';
import { type apache, v2 } from './protocol.ts';

export const Code = v2.Code;
export type Code = apache.rocketmq.v2.Code;

/** The plain Status shape written into responses. */
export interface Status {
  readonly code: Code;
  readonly message: string;
}

const codeNames = new Map<number, string>(
  Object.entries(v2.Code)
    .filter((entry): entry is [string, number] => typeof entry[1] === 'number')
    .map(([name, value]) => [value, name]),
);

/** `40017` → `CLIENT_ID_REQUIRED`; unknown numbers → `CODE_<n>`. */
export function codeName(code: number): string {
  return codeNames.get(code) ?? `CODE_${code}`;
}

/** A Status; without a message the code's name is used, as the Java proxy does. */
export function status(code: Code, message?: string): Status {
  return { code, message: message === undefined || message === '' ? codeName(code) : message };
}

export const OK_STATUS: Status = Object.freeze({ code: Code.OK, message: 'OK' });

/**
 * A request the proxy itself rejects with a specific Code (validation, missing client id, …). Handlers
 * throw it; the envelope turns it into the response's status.
 */
export class ProxyStatusError extends Error {
  override readonly name = 'ProxyStatusError';
  readonly code: Code;

  constructor(code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  toStatus(): Status {
    return status(this.code, this.message);
  }
}

/** Remoting response code → v2 Code; every code not listed is INTERNAL_SERVER_ERROR (§6.2). */
const RESPONSE_CODE_TO_CODE: ReadonlyMap<number, Code> = new Map<number, Code>([
  [0, Code.OK], // SUCCESS
  [2, Code.TOO_MANY_REQUESTS], // SYSTEM_BUSY
  [3, Code.NOT_IMPLEMENTED], // REQUEST_CODE_NOT_SUPPORTED
  [17, Code.TOPIC_NOT_FOUND], // TOPIC_NOT_EXIST (checked before the table in Java; same result)
  [26, Code.CONSUMER_GROUP_NOT_FOUND], // SUBSCRIPTION_GROUP_NOT_EXIST
  [10002, Code.PROXY_TIMEOUT], // client-side ACCESS_BROKER_TIMEOUT
]);

export function codeForResponseCode(responseCode: number): Code {
  return RESPONSE_CODE_TO_CODE.get(responseCode) ?? Code.INTERNAL_SERVER_ERROR;
}

/**
 * Codes for Remoting failures that are not broker responses. Java maps only timeouts specially
 * (PROXY_TIMEOUT); connection failures fall into INTERNAL_SERVER_ERROR there too. Our in-flight cap is
 * a local flow limit, so it answers TOO_MANY_REQUESTS like the Java proxy's full executor queue.
 */
const REMOTING_ERROR_TO_CODE: Readonly<Record<RemotingError['code'], Code>> = {
  RMQ_RESPONSE: Code.INTERNAL_SERVER_ERROR, // replaced by the response code mapping
  RMQ_TIMEOUT: Code.PROXY_TIMEOUT,
  RMQ_CONNECTION_CLOSED: Code.INTERNAL_SERVER_ERROR,
  RMQ_CONNECT_FAILED: Code.INTERNAL_SERVER_ERROR,
  RMQ_TOO_MANY_IN_FLIGHT: Code.TOO_MANY_REQUESTS,
  RMQ_FRAME_TOO_LARGE: Code.INTERNAL_SERVER_ERROR,
  RMQ_BAD_FRAME: Code.INTERNAL_SERVER_ERROR,
  RMQ_BAD_PAYLOAD: Code.INTERNAL_SERVER_ERROR,
  RMQ_ABORTED: Code.INTERNAL_SERVER_ERROR,
};

/**
 * The Status for any failure, in the order of the Java proxy's `buildStatus(Throwable)`: explicit proxy
 * errors, "topic not exist" (also one level down the cause chain), broker responses, timeouts, then
 * INTERNAL_SERVER_ERROR with the error's text.
 */
export function statusFromError(error: unknown): Status {
  if (error instanceof ProxyStatusError) return error.toStatus();
  const topicNotExist = topicNotExistError(error);
  if (topicNotExist) return status(Code.TOPIC_NOT_FOUND, errorText(topicNotExist));
  if (error instanceof RemotingResponseError) {
    return status(codeForResponseCode(error.responseCode), error.remark ?? String(error.responseCode));
  }
  if (error instanceof RemotingError) return status(REMOTING_ERROR_TO_CODE[error.code], error.message);
  return status(Code.INTERNAL_SERVER_ERROR, errorText(error));
}

const TOPIC_NOT_EXIST = 17;

function topicNotExistError(error: unknown): RemotingResponseError | undefined {
  for (const candidate of [error, error instanceof Error ? error.cause : undefined]) {
    if (candidate instanceof RemotingResponseError && candidate.responseCode === TOPIC_NOT_EXIST)
      return candidate;
  }
  return undefined;
}

function errorText(error: unknown): string {
  if (error instanceof RemotingResponseError) return error.remark ?? error.message;
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
