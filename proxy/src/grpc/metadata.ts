/**
 * The x-mq-* request headers the official clients send. Parsing never rejects a request by
 * itself: official clients disagree on language names, protocol spellings, date formats and empty
 * credentials, and the Java proxy tolerates all of them. Only a missing client id is an error, and
 * the caller decides when to check it (after authentication, as the Java proxy does).
 */
import type { Metadata } from '@grpc/grpc-js';
import { ProxyError } from '../core/errors.ts';
import { LanguageCode } from '../remoting/codes.ts';

export const Header = {
  CLIENT_ID: 'x-mq-client-id',
  LANGUAGE: 'x-mq-language',
  PROTOCOL: 'x-mq-protocol',
  PROTOCOL_VERSION: 'x-mq-protocol-version',
  CLIENT_VERSION: 'x-mq-client-version',
  REQUEST_ID: 'x-mq-request-id',
  DATE_TIME: 'x-mq-date-time',
  NAMESPACE: 'x-mq-namespace',
  AUTHORIZATION: 'authorization',
  SESSION_TOKEN: 'x-mq-session-token',
  /** W3C trace context of the call (OpenTelemetry-instrumented clients). */
  TRACE_PARENT: 'traceparent',
} as const;

/**
 * Keys the Java proxy adds itself, but only "if absent", so there a client can spoof them. We never
 * read them from a client; they are removed before any handler sees the metadata.
 */
export const INTERNAL_HEADERS: readonly string[] = [
  'x-mq-authorization-ak',
  'x-mq-channel-id',
  'rpc-remote-address',
  'rpc-local-address',
  'proxy_protocol_addr',
  'proxy_protocol_port',
  'proxy_protocol_server_addr',
  'proxy_protocol_server_port',
];
const INTERNAL_HEADER_PREFIXES: readonly string[] = ['proxy_protocol_tlv_'];

export type RemotingLanguage = keyof typeof LanguageCode;

export type Authorization =
  /** No header, or an empty one (Java and Node without credentials). */
  | { readonly kind: 'none' }
  | {
      readonly kind: 'credential';
      /** First token, e.g. `MQv2-HMAC-SHA1` (not checked, as in Java). */
      readonly algorithm: string;
      /** Part of `Credential` before the first `/`; may be empty (Go and Python without credentials). */
      readonly accessKey: string;
      /** Hex as sent (Java/Node upper case, Go/Python/Rust lower case); undefined when absent. */
      readonly signature: string | undefined;
      readonly signedHeaders: readonly string[];
    }
  /** Present but not in `ALGO k=v, k=v` form; only an error if authentication is enabled. */
  | { readonly kind: 'malformed'; readonly reason: string };

export interface RequestMetadata {
  /** Trimmed; undefined when absent or blank. */
  readonly clientId: string | undefined;
  /** The header as sent (`JAVA`, `GO`, `HTTP` from Node, …). */
  readonly language: string | undefined;
  /** A Remoting LanguageCode name for broker registrations; unknown or missing values become OTHER. */
  readonly remotingLanguage: RemotingLanguage;
  /** `v2` (Java, Go, Node) or `GRPC_V2` (Python), or `x-mq-protocol-version` (Rust, C++); not checked. */
  readonly protocol: string | undefined;
  readonly clientVersion: string | undefined;
  readonly requestId: string | undefined;
  /** The signed string, kept verbatim: clients send UTC or local time with a literal `Z`, or RFC 3339. */
  readonly dateTime: string | undefined;
  /** Empty when absent (Node omits it when empty; Java and Go always send it). */
  readonly namespace: string;
  readonly authorization: Authorization;
  readonly sessionToken: string | undefined;
  readonly traceParent: string | undefined;
}

function first(metadata: Metadata, key: string): string | undefined {
  const value = metadata.get(key)[0];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.toString('utf8');
}

function nonBlank(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed === undefined || trimmed === '' ? undefined : trimmed;
}

export function parseRequestMetadata(metadata: Metadata): RequestMetadata {
  const language = nonBlank(first(metadata, Header.LANGUAGE));
  return {
    clientId: nonBlank(first(metadata, Header.CLIENT_ID)),
    language,
    remotingLanguage: remotingLanguage(language),
    protocol:
      nonBlank(first(metadata, Header.PROTOCOL)) ?? nonBlank(first(metadata, Header.PROTOCOL_VERSION)),
    clientVersion: nonBlank(first(metadata, Header.CLIENT_VERSION)),
    requestId: nonBlank(first(metadata, Header.REQUEST_ID)),
    dateTime: nonBlank(first(metadata, Header.DATE_TIME)),
    namespace: first(metadata, Header.NAMESPACE)?.trim() ?? '',
    authorization: parseAuthorization(first(metadata, Header.AUTHORIZATION)),
    sessionToken: nonBlank(first(metadata, Header.SESSION_TOKEN)),
    traceParent: nonBlank(first(metadata, Header.TRACE_PARENT)),
  };
}

export function remotingLanguage(language: string | undefined): RemotingLanguage {
  const name = language?.toUpperCase();
  return name !== undefined && Object.hasOwn(LanguageCode, name) ? (name as RemotingLanguage) : 'OTHER';
}

/** The client id, or CLIENT_ID_REQUIRED(40017) with the Java proxy's message. */
export function requireClientId(metadata: RequestMetadata): string {
  if (metadata.clientId === undefined) {
    throw new ProxyError('ClientIdRequired', 'client id cannot be empty');
  }
  return metadata.clientId;
}

/**
 * `MQv2-HMAC-SHA1 Credential=AK[/region/service], SignedHeaders=x-mq-date-time, Signature=HEX`, split as
 * the Java proxy does: algorithm up to the first space, then comma-separated `key=value` items.
 */
export function parseAuthorization(value: string | undefined): Authorization {
  const text = value?.trim();
  if (text === undefined || text === '') return { kind: 'none' };
  const space = text.indexOf(' ');
  if (space < 0) return { kind: 'malformed', reason: 'expected "<algorithm> Credential=..., Signature=..."' };
  const items = new Map<string, string>();
  for (const raw of text.slice(space + 1).split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    const equals = item.indexOf('=');
    if (equals < 0) return { kind: 'malformed', reason: `item "${item}" has no "="` };
    items.set(item.slice(0, equals).trim(), item.slice(equals + 1).trim());
  }
  const credential = items.get('Credential');
  if (credential === undefined) return { kind: 'malformed', reason: 'no Credential item' };
  const signature = items.get('Signature');
  return {
    kind: 'credential',
    algorithm: text.slice(0, space),
    accessKey: credential.split('/')[0] ?? '',
    signature: signature === undefined || signature === '' ? undefined : signature,
    signedHeaders: (items.get('SignedHeaders') ?? '')
      .split(';')
      .map((header) => header.trim())
      .filter((header) => header !== ''),
  };
}

/**
 * `yyyyMMdd'T'HHmmss'Z'` read as UTC, or RFC 3339. Java, Go and Python put local time before the `Z`,
 * so the instant may be off by the client's UTC offset; the Java proxy never checks freshness either.
 */
export function parseMqDateTime(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const compact = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text.trim());
  if (compact) {
    const [year, month, day, hour, minute, second] = compact.slice(1).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    // Reject rolled-over values such as month 13 instead of silently moving to the next year.
    return date.getUTCMonth() === month - 1 &&
      date.getUTCDate() === day &&
      hour < 24 &&
      minute < 60 &&
      second < 60
      ? date
      : undefined;
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(text.trim())) return undefined;
  const millis = Date.parse(text.trim());
  return Number.isNaN(millis) ? undefined : new Date(millis);
}

export function isInternalHeader(key: string): boolean {
  const lower = key.toLowerCase();
  return (
    INTERNAL_HEADERS.includes(lower) || INTERNAL_HEADER_PREFIXES.some((prefix) => lower.startsWith(prefix))
  );
}

/**
 * The same for the raw HTTP/2 headers of a call (keys arrive lower-cased), before grpc-js turns them
 * into Metadata: no copy of the map, no Metadata work for keys that are dropped anyway.
 */
export function stripInternalRawHeaders(headers: Record<string, unknown>): void {
  for (const key of Object.keys(headers)) if (isInternalHeader(key)) delete headers[key];
}

/** Removes proxy-internal keys a client sent; returns the removed keys (for a debug log). */
export function stripInternalHeaders(metadata: Metadata): string[] {
  const removed = Object.keys(metadata.getMap()).filter(isInternalHeader);
  for (const key of removed) metadata.remove(key);
  return removed;
}
