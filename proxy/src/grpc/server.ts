/**
 * The gRPC server: one TCP port where each connection is sniffed and injected into grpc-js as TLS or
 * plaintext (as the Java proxy serves both on one port), the MessagingService registered from the generated protobufjs code, an
 * inbound size cap enforced by grpc-js before a message is buffered, and graceful shutdown.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import {
  type ConnectionInjector,
  Server,
  ServerCredentials,
  ServerInterceptingCall,
  type ServerInterceptor,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { TlsMode } from '../config/schema.ts';
import { addRawHeaderFilter, applyDeadlineFix } from './deadline-fix.ts';
import { stripInternalHeaders, stripInternalRawHeaders } from './metadata.ts';
import { MESSAGING_SERVICE, type MessagingHandlers } from './service-definition.ts';
import { type ConnectionRoute, peekFirstByte, routeFor } from './sniff.ts';
import type { TlsMaterial } from './tls.ts';

export interface GrpcServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly tlsMode: TlsMode;
  /** Required unless tlsMode is `disabled`. */
  readonly tls?: TlsMaterial;
  /** Missing methods answer grpc UNIMPLEMENTED. */
  readonly handlers: Partial<MessagingHandlers>;
  /** Larger inbound messages are refused with RESOURCE_EXHAUSTED from their 5-byte length prefix. */
  readonly maxReceiveMessageBytes: number;
  /** A connection without calls for this long gets GOAWAY. */
  readonly idleTimeoutMs: number;
  /** Run after the header sanitizer, in order. */
  readonly interceptors?: readonly ServerInterceptor[];
  readonly logger: Logger;
  /** A connection that sends nothing for this long is closed. */
  readonly firstByteTimeoutMs?: number;
}

export interface ConnectionCounts {
  tls: number;
  plaintext: number;
  refused: number;
}

export interface RunningGrpcServer {
  readonly host: string;
  /** The bound port (useful with port 0). */
  readonly port: number;
  isListening(): boolean;
  /** Connections accepted since start, by path. */
  readonly connections: Readonly<ConnectionCounts>;
  /** Stops accepting, lets running calls finish for `graceMs`, then cuts what is left. */
  close(graceMs: number): Promise<void>;
}

/**
 * Client-sent copies of proxy-internal headers never reach a handler (see metadata.ts INTERNAL_HEADERS). Only used when the raw
 * header hook (deadline-fix.ts) cannot be installed: that hook does the same without an interceptor.
 */
const sanitizeHeaders: ServerInterceptor = (_method, call) =>
  new ServerInterceptingCall(call, {
    start: (next) =>
      next({
        onReceiveMetadata: (metadata, nextMetadata) => {
          stripInternalHeaders(metadata);
          nextMetadata(metadata);
        },
      }),
  });

export async function startGrpcServer(options: GrpcServerOptions): Promise<RunningGrpcServer> {
  const { logger, tlsMode } = options;
  if (tlsMode !== 'disabled' && !options.tls) throw new Error(`tls.mode ${tlsMode} needs TLS material`);
  if (!applyDeadlineFix()) {
    logger.warn('grpc-js changed shape: long client deadlines (Java Telemetry) may fail at once');
  }

  const grpcServer = new Server({
    'grpc.max_receive_message_length': options.maxReceiveMessageBytes,
    'grpc.max_connection_idle_ms': options.idleTimeoutMs,
    // Java clients ping every 300 s without calls; never answer that with GOAWAY.
    'grpc.keepalive_permit_without_calls': 1,
    interceptors: [
      ...(addRawHeaderFilter(stripInternalRawHeaders) ? [] : [sanitizeHeaders]),
      ...(options.interceptors ?? []),
    ],
  });
  grpcServer.addService(MESSAGING_SERVICE, options.handlers as unknown as UntypedServiceImplementation);

  const injectors = new Map<ConnectionRoute, ConnectionInjector>();
  if (tlsMode !== 'enforcing')
    injectors.set('plaintext', grpcServer.createConnectionInjector(ServerCredentials.createInsecure()));
  if (tlsMode !== 'disabled' && options.tls) {
    const credentials = ServerCredentials.createSsl(
      null,
      [{ cert_chain: Buffer.from(options.tls.certPem), private_key: Buffer.from(options.tls.keyPem) }],
      false,
    );
    injectors.set('tls', grpcServer.createConnectionInjector(credentials));
  }

  const connections: ConnectionCounts = { tls: 0, plaintext: 0, refused: 0 };
  const sniffing = new Set<Socket>();
  const firstByteTimeoutMs = options.firstByteTimeoutMs ?? 10_000;

  const onConnection = async (socket: Socket) => {
    sniffing.add(socket);
    const firstByte = await peekFirstByte(socket, firstByteTimeoutMs);
    sniffing.delete(socket);
    if (firstByte === undefined) {
      discard(socket);
      return;
    }
    const decision = routeFor(firstByte, tlsMode);
    const injector = 'route' in decision ? injectors.get(decision.route) : undefined;
    if (!('route' in decision) || !injector) {
      connections.refused++;
      logger.debug(
        { remote: `${socket.remoteAddress}:${socket.remotePort}`, firstByte },
        `refused a connection: ${'refuse' in decision ? decision.refuse : 'no path'}`,
      );
      discard(socket);
      return;
    }
    connections[decision.route]++;
    injector.injectConnection(socket);
  };

  const netServer: NetServer = createServer({ noDelay: true }, (socket) => void onConnection(socket));
  await new Promise<void>((resolve, reject) => {
    netServer.once('error', reject);
    netServer.listen({ host: options.host, port: options.port }, () => {
      netServer.off('error', reject);
      resolve();
    });
  });
  netServer.on('error', (error) => logger.error({ err: error }, 'gRPC listener error'));
  const address = netServer.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  logger.info({ host: options.host, port, tlsMode }, 'gRPC port listening');

  let closing: Promise<void> | undefined;
  return {
    host: options.host,
    port,
    connections,
    isListening: () => netServer.listening,
    close(graceMs: number) {
      closing ??= (async () => {
        const listenerClosed = new Promise<void>((resolve) => netServer.close(() => resolve()));
        for (const socket of sniffing) discard(socket);
        await new Promise<void>((resolve) => {
          const force = setTimeout(() => {
            logger.warn({ graceMs }, 'calls still running after the shutdown grace period; cutting them');
            grpcServer.forceShutdown();
            resolve();
          }, graceMs);
          grpcServer.tryShutdown(() => {
            clearTimeout(force);
            resolve();
          });
        });
        await listenerClosed;
      })();
      return closing;
    },
  };
}

function discard(socket: Socket): void {
  socket.on('error', () => {}); // the peer may reset while we close; nothing to report
  socket.destroy();
}
