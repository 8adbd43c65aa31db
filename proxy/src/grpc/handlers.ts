/**
 * The gRPC ingress over the proxy's core: every MessagingService handler, each a thin adapter from
 * protobuf to a core service and back. Methods without a handler (SyncLiteSubscription) get grpc-js's
 * UNIMPLEMENTED answer naming the method.
 */
import type { ProxyCore } from '../proxy.ts';
import { createConsumerHandlers } from './consumer-service.ts';
import { createProducerHandlers } from './producer-service.ts';
import { createRouteHandlers } from './route-service.ts';
import type { MessagingHandlers } from './service-definition.ts';
import { createSessionHandlers } from './session-service.ts';
import { SettingsNudge } from './settings-nudge.ts';

export interface GrpcIngressOptions {
  /** `advertise.address` from the config. */
  advertised: string | undefined;
  /** The bound gRPC port (routes use it when the client's authority has none). */
  listenPort: () => number;
}

export interface GrpcIngress {
  readonly handlers: Partial<MessagingHandlers>;
  /** Stops the ingress's own timers and releases what it holds (before the core closes). */
  close(): Promise<void>;
}

export function createGrpcIngress(core: ProxyCore, options: GrpcIngressOptions): GrpcIngress {
  const { logger } = core;
  const nudge = new SettingsNudge({ registry: core.registry, clock: core.clock });

  const producer = createProducerHandlers({
    publisher: core.publisher,
    transactions: core.transactions,
    logger,
  });
  const consumer = createConsumerHandlers({
    receiver: core.receiver,
    settler: core.settler,
    puller: core.puller,
    logger,
  });

  const handlers: Partial<MessagingHandlers> = {
    ...createRouteHandlers({
      routing: core.routing,
      endpoints: { advertised: options.advertised, listenPort: options.listenPort },
      logger,
      afterRoute: (clientId) => nudge.afterRoute(clientId),
    }),
    ...createSessionHandlers({ sessions: core.sessions, logger }),
    ...producer,
    ...consumer,
  };
  return {
    handlers,
    async close() {
      nudge.close();
    },
  };
}
