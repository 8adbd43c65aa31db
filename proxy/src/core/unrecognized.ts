/**
 * A value of an ingress's enumeration that has no RocketMQ meaning (a newer client, or garbage). The
 * ingress hands it on instead of refusing it, and the core refuses it as BadRequest with this text at
 * the point of its validation order where the field is read, so the first problem reported does not
 * depend on the ingress.
 */
import { ProxyError } from './errors.ts';

export interface Unrecognized {
  readonly unrecognized: string;
}

export function isUnrecognized(value: unknown): value is Unrecognized {
  return typeof value === 'object' && value !== null && 'unrecognized' in value;
}

/** The value itself, or BadRequest naming what was not recognized. */
export function recognized<T extends string | boolean>(value: T | Unrecognized): T {
  if (isUnrecognized(value)) throw new ProxyError('BadRequest', value.unrecognized);
  return value;
}
