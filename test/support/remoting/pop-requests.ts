/**
 * POP requests the proxy does not send, for tests: the long-poll probes NOTIFICATION (wait for poppable
 * messages without popping them) and POLLING_INFO (how many pops the broker holds), and the decoder of
 * BATCH_ACK_MESSAGE's Java BitSets, to check what proxy/src/remoting/requests/pop.ts encodes.
 */
import { RequestCode } from '../../../proxy/src/remoting/codes.ts';
import type { RemotingCommand, RequestSpec } from '../../../proxy/src/remoting/command.ts';
import { extFields } from '../../../proxy/src/remoting/requests/ext-fields.ts';
import { expectSuccess, headerInt, headerOptional } from '../../../proxy/src/remoting/response.ts';

/** The bit indexes set in a base64 Java BitSet (the inverse of javaBitSetBase64), ascending. */
export function decodeJavaBitSet(base64: string): number[] {
  const bits: number[] = [];
  const bytes = Buffer.from(base64, 'base64');
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i] ?? 0;
    for (let j = 0; j < 8; j++) if ((byte >> j) & 1) bits.push(i * 8 + j);
  }
  return bits;
}

export interface NotificationParams {
  consumerGroup: string;
  topic: string;
  /** −1 (the default) watches every queue. */
  queueId?: number | undefined;
  pollTime: number;
  bornTime?: number | undefined;
  order?: boolean | undefined;
  attemptId?: string | undefined;
  brokerName?: string | undefined;
}

/** NOTIFICATION: waits up to pollTime for poppable messages without popping them. */
export function notificationRequest(params: NotificationParams, now: number = Date.now()): RequestSpec {
  return {
    code: RequestCode.NOTIFICATION,
    extFields: extFields({
      consumerGroup: params.consumerGroup,
      topic: params.topic,
      queueId: params.queueId ?? -1,
      pollTime: params.pollTime,
      bornTime: params.bornTime ?? now,
      order: params.order ?? false,
      attemptId: params.attemptId,
      bname: params.brokerName,
    }),
  };
}

export function parseNotification(response: RemotingCommand): { hasMsg: boolean; pollingFull: boolean } {
  expectSuccess(response, RequestCode.NOTIFICATION);
  return { hasMsg: javaBoolean(response, 'hasMsg'), pollingFull: javaBoolean(response, 'pollingFull') };
}

export function pollingInfoRequest(params: {
  consumerGroup: string;
  topic: string;
  queueId?: number | undefined;
  brokerName?: string | undefined;
}): RequestSpec {
  return {
    code: RequestCode.POLLING_INFO,
    extFields: extFields({
      consumerGroup: params.consumerGroup,
      topic: params.topic,
      queueId: params.queueId ?? -1,
      bname: params.brokerName,
    }),
  };
}

/** Number of pop requests the broker is holding for this group/topic/queue. */
export function parsePollingInfo(response: RemotingCommand): number {
  expectSuccess(response, RequestCode.POLLING_INFO);
  return headerInt(response, 'pollingNum');
}

/** Boolean.parseBoolean semantics: "true" in any case is true, anything else (or absent) false. */
function javaBoolean(response: RemotingCommand, key: string): boolean {
  return headerOptional(response, key)?.toLowerCase() === 'true';
}
