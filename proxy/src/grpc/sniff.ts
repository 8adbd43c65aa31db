/**
 * One port, TLS and plaintext together: look at the first byte a client sends and pick the path. A TLS
 * connection starts with a handshake record (content type 0x16); a plaintext gRPC connection starts
 * with the HTTP/2 preface `PRI * HTTP/2.0` (0x50). The byte is read, then pushed back so the chosen
 * path (a TLS or a plain HTTP/2 server) sees the stream from its beginning.
 */
import type { Socket } from 'node:net';
import type { TlsMode } from '../config/schema.ts';

export const TLS_HANDSHAKE_RECORD = 0x16;

export type ConnectionRoute = 'tls' | 'plaintext';
export type RouteDecision = { readonly route: ConnectionRoute } | { readonly refuse: string };

export function routeFor(firstByte: number, mode: TlsMode): RouteDecision {
  const route: ConnectionRoute = firstByte === TLS_HANDSHAKE_RECORD ? 'tls' : 'plaintext';
  if (route === 'tls' && mode === 'disabled') return { refuse: 'TLS handshake while tls.mode is disabled' };
  if (route === 'plaintext' && mode === 'enforcing')
    return { refuse: 'plaintext while tls.mode is enforcing' };
  return { route };
}

/**
 * Resolves with the first byte, leaving it (and the rest of the chunk) unread in the paused socket, or
 * with undefined when the peer closes, errs or stays silent for `timeoutMs`.
 */
export function peekFirstByte(socket: Socket, timeoutMs: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    const finish = (byte: number | undefined) => {
      socket.off('data', onData);
      socket.off('end', onGone);
      socket.off('close', onGone);
      socket.off('error', onGone);
      socket.off('timeout', onGone);
      socket.setTimeout(0);
      resolve(byte);
    };
    const onData = (chunk: Buffer) => {
      socket.pause();
      socket.unshift(chunk);
      finish(chunk[0]);
    };
    const onGone = () => finish(undefined);
    socket.setTimeout(timeoutMs);
    socket.on('timeout', onGone);
    socket.on('error', onGone);
    socket.on('end', onGone);
    socket.on('close', onGone);
    socket.on('data', onData);
  });
}
