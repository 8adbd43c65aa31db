/**
 * Client sessions over gRPC (proxy-grpc.md §8.2, §8.11, §8.12): Telemetry registers the client with
 * its settings and answers with the full Settings reply; Heartbeat keeps it alive;
 * NotifyClientTermination forgets it. The stream stays bound to the client so other domains can
 * reach it (transaction checks), and is unbound when it ends; the registration itself lives until
 * termination or expiry.
 */
import { status as GrpcStatus, Metadata, type ServerErrorResponse } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { MetadataService } from '../cluster/metadata-service.ts';
import type { GroupConfig } from '../remoting/requests/admin.ts';
import type { ClientKind, ClientRegistration } from '../session/client-session.ts';
import { isConsumerKind } from '../session/client-session.ts';
import type { ClientRegistry } from '../session/registry.ts';
import { type CallContext, callContext, unary } from './envelope.ts';
import type { apache } from './protocol.ts';
import type { MessagingHandlers } from './service-definition.ts';
import {
  clientKindOf,
  consumerSettingsReply,
  producerSettingsReply,
  type SettingsMessage,
  type SettingsPolicy,
  subscriptionsOf,
} from './settings.ts';
import { Code, codeName, OK_STATUS, ProxyStatusError, statusFromError } from './status.ts';
import { StreamTelemetryChannel, type TelemetryCall } from './telemetry-stream.ts';
import { validateConsumerGroup, validateTopic } from './validation.ts';

export interface SessionHandlerDeps {
  registry: ClientRegistry;
  metadata: MetadataService;
  policy: SettingsPolicy;
  logger: Logger;
}

const NO_SETTINGS = 'cannot find client settings for this client';

class TelemetryStreamError extends Error {
  readonly grpcCode: GrpcStatus;
  constructor(grpcCode: GrpcStatus, message: string) {
    super(message);
    this.grpcCode = grpcCode;
  }
}

function streamError(code: GrpcStatus, details: string): ServerErrorResponse {
  return Object.assign(new Error(details), { code, details, metadata: new Metadata() });
}

export function createSessionHandlers(
  deps: SessionHandlerDeps,
): Pick<MessagingHandlers, 'Heartbeat' | 'Telemetry' | 'NotifyClientTermination'> {
  const { registry, logger } = deps;

  const groupConfig = async (group: string): Promise<GroupConfig | undefined> => {
    try {
      return await deps.metadata.groupConfig(group);
    } catch (error) {
      logger.warn({ err: error, group }, 'cannot read the consumer group config; answering default settings');
      return undefined;
    }
  };

  /** Registers the client and returns the Settings reply. */
  const applySettings = async (
    settings: SettingsMessage,
    context: CallContext,
    channel: StreamTelemetryChannel,
  ): Promise<SettingsMessage> => {
    const publishing = settings.publishing ?? undefined;
    const subscription = settings.subscription ?? undefined;
    if (publishing === undefined && subscription === undefined) {
      throw new TelemetryStreamError(
        GrpcStatus.INVALID_ARGUMENT,
        'there is no publishing or subscription data in settings',
      );
    }
    const declared = clientKindOf(settings.clientType);
    const base = { clientId: context.clientId, language: context.metadata.remotingLanguage };
    let registration: ClientRegistration;
    if (publishing !== undefined) {
      if (declared !== undefined && declared !== 'PRODUCER') {
        throw new ProxyStatusError(
          Code.BAD_REQUEST,
          `publishing settings need client type PRODUCER, got ${declared}`,
        );
      }
      const topics = (publishing.topics ?? []).map(validateTopic);
      const reply = producerSettingsReply(settings, deps.policy);
      registration = {
        ...base,
        kind: 'PRODUCER',
        producerGroups: [...new Set(topics)],
        subscriptions: [],
        settings: reply,
      };
    } else {
      const kind: ClientKind | undefined = declared;
      if (kind === undefined || !isConsumerKind(kind)) {
        throw new ProxyStatusError(
          Code.BAD_REQUEST,
          `subscription settings need a consumer client type, got ${kind ?? 'CLIENT_TYPE_UNSPECIFIED'}`,
        );
      }
      const group = validateConsumerGroup(subscription?.group);
      for (const entry of subscription?.subscriptions ?? []) validateTopic(entry.topic);
      const reply = consumerSettingsReply(settings, await groupConfig(group), deps.policy);
      registration = {
        ...base,
        kind,
        producerGroups: [],
        consumerGroup: group,
        subscriptions: subscriptionsOf(settings),
        settings: reply,
      };
    }
    registry.register(registration, channel);
    return registration.settings;
  };

  const Telemetry = (call: TelemetryCall): void => {
    const channel = new StreamTelemetryChannel(call);
    let context: CallContext | undefined;
    let contextError: unknown;
    try {
      context = callContext(call);
    } catch (error) {
      contextError = error;
    }
    let queue: Promise<void> = Promise.resolve();
    let finished = false;

    const finish = (error?: ServerErrorResponse): void => {
      if (finished) return;
      finished = true;
      channel.close();
      if (context !== undefined) registry.detachChannel(context.clientId, channel);
      if (error !== undefined) call.emit('error', error);
      else if (call.writable) call.end();
    };

    const handle = async (command: apache.rocketmq.v2.TelemetryCommand): Promise<void> => {
      if (finished) return;
      if (context === undefined) {
        // As Java: a pipeline failure is answered in a command, then the stream is completed.
        channel.send({ status: statusFromError(contextError) });
        finish();
        return;
      }
      if (command.command !== 'settings' || command.settings === null || command.settings === undefined) {
        // thread_stack_trace / verify_message_result only answer requests of LOCAL mode: nothing waits.
        return;
      }
      const reply = await applySettings(command.settings, context, channel);
      channel.send({ status: OK_STATUS, settings: reply });
    };

    const fail = (error: unknown): void => {
      if (error instanceof TelemetryStreamError) {
        finish(streamError(error.grpcCode, error.message));
        return;
      }
      const status = statusFromError(error);
      const clientError = status.code >= 40000 && status.code < 50000;
      if (!clientError) logger.warn({ err: error, clientId: context?.clientId }, 'Telemetry command failed');
      finish(
        streamError(
          clientError ? GrpcStatus.INVALID_ARGUMENT : GrpcStatus.INTERNAL,
          `process client telemetryCommand failed. ${codeName(status.code)}: ${status.message}`,
        ),
      );
    };

    call.on('data', (command: apache.rocketmq.v2.TelemetryCommand) => {
      queue = queue.then(() => handle(command)).catch(fail);
    });
    call.on('end', () => {
      void queue.then(() => finish());
    });
    call.on('cancelled', () => finish());
    call.on('error', () => finish());
  };

  return {
    Telemetry,

    Heartbeat: unary('Heartbeat', logger, async (request: apache.rocketmq.v2.HeartbeatRequest, context) => {
      const session = registry.get(context.clientId);
      if (session === undefined) throw new ProxyStatusError(Code.UNRECOGNIZED_CLIENT_TYPE, NO_SETTINGS);
      if (isConsumerKind(session.kind)) validateConsumerGroup(request.group);
      registry.touch(context.clientId);
      return { status: OK_STATUS };
    }),

    NotifyClientTermination: unary(
      'NotifyClientTermination',
      logger,
      async (request: apache.rocketmq.v2.NotifyClientTerminationRequest, context) => {
        const session = registry.remove(context.clientId);
        if (session === undefined) throw new ProxyStatusError(Code.UNRECOGNIZED_CLIENT_TYPE, NO_SETTINGS);
        if (isConsumerKind(session.kind)) validateConsumerGroup(request.group);
        return { status: OK_STATUS };
      },
    ),
  };
}
