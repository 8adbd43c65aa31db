/**
 * Client sessions over gRPC: Telemetry registers the client with the settings it declares and
 * answers with the full Settings reply; Heartbeat keeps it alive; NotifyClientTermination forgets it.
 * The stream stays bound to the client as its channel (transaction checks) until it ends.
 */
import { status as GrpcStatus, Metadata, type ServerErrorResponse } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { SessionService } from '../session/session-service.ts';
import { type CallContext, callContext, unary } from './envelope.ts';
import type { apache } from './protocol.ts';
import type { MessagingHandlers } from './service-definition.ts';
import {
  consumerSettingsReply,
  declaredSettingsOf,
  producerSettingsReply,
  type SettingsMessage,
} from './settings.ts';
import { codeName, OK_STATUS, statusFromError } from './status.ts';
import { StreamTelemetryChannel, type TelemetryCall } from './telemetry-stream.ts';

export interface SessionHandlerDeps {
  sessions: Pick<SessionService, 'register' | 'heartbeat' | 'terminate' | 'detach'>;
  logger: Logger;
}

/** A Telemetry failure the Java proxy answers with a gRPC status instead of a v2 Code. */
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
  const { sessions, logger } = deps;

  /** Registers the client and returns the Settings reply. */
  const applySettings = async (
    settings: SettingsMessage,
    context: CallContext,
    channel: StreamTelemetryChannel,
  ): Promise<SettingsMessage> => {
    const declared = declaredSettingsOf(settings);
    if (declared.publishing === undefined && declared.subscription === undefined) {
      throw new TelemetryStreamError(
        GrpcStatus.INVALID_ARGUMENT,
        'there is no publishing or subscription data in settings',
      );
    }
    const granted = await sessions.register(context, declared, channel);
    return declared.publishing !== undefined
      ? producerSettingsReply(settings, granted)
      : consumerSettingsReply(settings, granted);
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
      if (context !== undefined) sessions.detach(context.clientId, channel);
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
      channel.sendSettings(await applySettings(command.settings, context, channel));
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
      sessions.heartbeat(context, request.group?.name ?? undefined);
      return { status: OK_STATUS };
    }),

    NotifyClientTermination: unary(
      'NotifyClientTermination',
      logger,
      async (request: apache.rocketmq.v2.NotifyClientTerminationRequest, context) => {
        sessions.terminate(context, request.group?.name ?? undefined);
        return { status: OK_STATUS };
      },
    ),
  };
}
