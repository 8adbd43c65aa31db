/**
 * QUERY_ASSIGNMENT / SET_MESSAGE_REQUEST_MODE: which queues of a topic a consumer should read,
 * and whether the group pops (broker-side balancing) or pulls. For POP with no queue sharing,
 * every client gets every broker with queueId −1 ("pop from all queues").
 */
import { RequestCode } from '../codes.ts';
import type { RemotingCommand, RequestSpec } from '../command.ts';
import { RemotingError } from '../errors.ts';
import { expectSuccess } from '../response.ts';
import type { MessageModel } from './heartbeat.ts';

export type MessageRequestMode = 'PULL' | 'POP';

export interface QueueAssignment {
  topic: string;
  brokerName: string;
  queueId: number;
  mode: MessageRequestMode;
}

export function queryAssignmentRequest(params: {
  topic: string;
  consumerGroup: string;
  clientId: string;
  messageModel?: MessageModel;
  strategyName?: string;
}): RequestSpec {
  const body = {
    topic: params.topic,
    consumerGroup: params.consumerGroup,
    clientId: params.clientId,
    messageModel: params.messageModel ?? 'CLUSTERING',
    strategyName: params.strategyName ?? 'AVG',
  };
  return { code: RequestCode.QUERY_ASSIGNMENT, body: Buffer.from(JSON.stringify(body)) };
}

export function parseQueryAssignment(response: RemotingCommand): QueueAssignment[] {
  expectSuccess(response, RequestCode.QUERY_ASSIGNMENT);
  if (!response.body) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(response.body.toString('utf8'));
  } catch (error) {
    throw new RemotingError(
      'RMQ_BAD_PAYLOAD',
      `QueryAssignment body does not parse: ${(error as Error).message}`,
    );
  }
  const list = (parsed as { messageQueueAssignments?: unknown }).messageQueueAssignments;
  if (!Array.isArray(list)) return [];
  return list.map((entry, index) => {
    const queue = (entry as { messageQueue?: Record<string, unknown> }).messageQueue;
    const mode = (entry as { mode?: unknown }).mode;
    if (!queue || typeof queue.topic !== 'string' || typeof queue.brokerName !== 'string') {
      throw new RemotingError('RMQ_BAD_PAYLOAD', `QueryAssignment entry ${index} has no messageQueue`);
    }
    return {
      topic: queue.topic,
      brokerName: queue.brokerName,
      queueId: Number(queue.queueId ?? -1),
      mode: mode === 'POP' ? 'POP' : 'PULL',
    };
  });
}

export function setMessageRequestModeRequest(params: {
  topic: string;
  consumerGroup: string;
  mode: MessageRequestMode;
  popShareQueueNum?: number;
}): RequestSpec {
  const body = {
    topic: params.topic,
    consumerGroup: params.consumerGroup,
    mode: params.mode,
    popShareQueueNum: params.popShareQueueNum ?? 0,
  };
  return { code: RequestCode.SET_MESSAGE_REQUEST_MODE, body: Buffer.from(JSON.stringify(body)) };
}
