/**
 * Errors of the Remoting layer. Every error carries a stable string `code` (for logs, metrics
 * and mapping to gRPC statuses) and says whether retrying the same request can help.
 */
import { responseCodeName } from './codes.ts';

export type RemotingErrorCode =
  /** The peer answered with a non-success response code (see `responseCode`). */
  | 'RMQ_RESPONSE'
  /** No response within the request's timeout. */
  | 'RMQ_TIMEOUT'
  /** The connection closed (or was closed) while the request was pending. */
  | 'RMQ_CONNECTION_CLOSED'
  /** The TCP connection could not be established. */
  | 'RMQ_CONNECT_FAILED'
  /** Too many requests already in flight on this connection. */
  | 'RMQ_TOO_MANY_IN_FLIGHT'
  /** A frame larger than the 16 MiB cap (the connection is closed). */
  | 'RMQ_FRAME_TOO_LARGE'
  /** A frame or header that does not follow the protocol (the connection is closed). */
  | 'RMQ_BAD_FRAME'
  /** A body or header value that does not parse as the documented shape. */
  | 'RMQ_BAD_PAYLOAD'
  /** The request was aborted by its caller. */
  | 'RMQ_ABORTED';

export class RemotingError extends Error {
  override readonly name: string = 'RemotingError';
  readonly code: RemotingErrorCode;
  readonly retriable: boolean;

  constructor(
    code: RemotingErrorCode,
    message: string,
    options: { retriable?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** Response codes that mean "try again (elsewhere or later)" rather than "this request is wrong". */
const RETRIABLE_RESPONSES = new Set<number>([1, 2, 14, 17, 209, 215, 1500]);

/** A non-success Remoting response, with the broker's code and remark. */
export class RemotingResponseError extends RemotingError {
  override readonly name = 'RemotingResponseError';
  readonly responseCode: number;
  /** `RMQ_<RESPONSE_NAME>`, stable across releases, e.g. `RMQ_TOPIC_NOT_EXIST`. */
  readonly errorCode: string;
  readonly remark: string | undefined;

  constructor(responseCode: number, remark: string | undefined, requestCode?: number) {
    const name = responseCodeName(responseCode);
    const what = requestCode === undefined ? 'request' : `request ${requestCode}`;
    super('RMQ_RESPONSE', `${what} failed with ${name} (${responseCode})${remark ? `: ${remark}` : ''}`, {
      retriable: RETRIABLE_RESPONSES.has(responseCode),
    });
    this.responseCode = responseCode;
    this.errorCode = `RMQ_${name}`;
    this.remark = remark;
  }
}
