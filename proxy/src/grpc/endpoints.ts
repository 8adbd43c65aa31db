/**
 * The address written into every route's broker endpoints, so clients open their channels to this
 * proxy: the configured advertised address, else the access point the client put in the request,
 * else the address it dialled (the `:authority` header).
 */
import { parseHostPort } from '../config/schema.ts';
import { type apache, v2 } from './protocol.ts';

export type EndpointsMessage = apache.rocketmq.v2.Endpoints.$Properties;

export interface AdvertisedEndpointsOptions {
  /** `advertise.address` from the config. */
  advertised: string | undefined;
  /** The bound gRPC port, for an authority without one (a getter: port 0 is bound after start). */
  listenPort: () => number;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

export function addressScheme(host: string): apache.rocketmq.v2.AddressScheme {
  if (IPV4.test(host)) return v2.AddressScheme.IPv4;
  if (host.includes(':')) return v2.AddressScheme.IPv6;
  return v2.AddressScheme.DOMAIN_NAME;
}

export function endpointsOf(host: string, port: number): EndpointsMessage {
  return { scheme: addressScheme(host), addresses: [{ host, port }] };
}

/** `host:port`, `[v6]:port` or a bare host (port then from `fallbackPort`); undefined when unusable. */
export function parseAuthority(
  authority: string,
  fallbackPort: number,
): { host: string; port: number } | undefined {
  const text = authority.trim();
  if (text === '') return undefined;
  const withPort = parseHostPort(text);
  if (withPort !== undefined) return withPort;
  const bracketed = /^\[([0-9a-fA-F:.]+)\]$/.exec(text);
  if (bracketed) return { host: bracketed[1]!, port: fallbackPort };
  if (/^[^\s:[\]/]+$/.test(text)) return { host: text, port: fallbackPort };
  return undefined;
}

export function advertisedEndpoints(
  options: AdvertisedEndpointsOptions,
  authority: string | undefined,
  requested: EndpointsMessage | null | undefined,
): EndpointsMessage {
  if (options.advertised !== undefined) {
    const address = parseHostPort(options.advertised);
    if (address !== undefined) return endpointsOf(address.host, address.port);
  }
  // The access point the client was configured with is what it can reach (a Service, a port-forward,
  // a load balancer). The :authority header is only a fallback: the Java client sends a placeholder
  // host there ("IPAuthority"), not the address it dialled.
  const addresses = (requested?.addresses ?? [])
    .filter((address) => (address.host ?? '').trim() !== '')
    .map((address) => ({ host: address.host ?? '', port: address.port || options.listenPort() }));
  const first = addresses[0];
  if (first !== undefined) return { scheme: addressScheme(first.host), addresses };
  const dialled = authority === undefined ? undefined : parseAuthority(authority, options.listenPort());
  if (dialled !== undefined) return endpointsOf(dialled.host, dialled.port);
  return endpointsOf('127.0.0.1', options.listenPort());
}
