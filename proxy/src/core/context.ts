/**
 * What the core knows about the request it serves, whatever the ingress: who sent it, over which
 * protocol, from where, and until when the answer is wanted. The ingress builds one per request and
 * passes it down, so authentication, rate limits, metrics and tracing hang on one place.
 */

export type IngressProtocol = 'grpc' | 'remoting' | 'http';

export interface RequestContext {
  readonly protocol: IngressProtocol;
  /** The client's id (gRPC `x-mq-client-id`, Remoting `clientId`). */
  readonly clientId: string;
  /** The client's `ip:port`. */
  readonly remoteAddress: string;
  /** Remoting LanguageCode name of the client (`JAVA`, `GO`, …, `OTHER`), as brokers register it. */
  readonly language: string;
  readonly clientVersion?: string | undefined;
  /** The client's namespace; empty without one. */
  readonly namespace: string;
  /** The authenticated user, once authentication runs; undefined for anonymous requests. */
  readonly user?: string | undefined;
  /** Epoch ms by which the client wants its answer; Infinity without a deadline. */
  readonly deadline: number;
  /** W3C `traceparent` of the request, when the client sent one. */
  readonly traceContext?: string | undefined;
}

/** Milliseconds left before the request's deadline (Infinity without one). */
export function timeRemaining(context: Pick<RequestContext, 'deadline'>, now: number = Date.now()): number {
  return context.deadline - now;
}
