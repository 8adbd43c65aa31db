/**
 * QUERY_ASSIGNMENT / SET_MESSAGE_REQUEST_MODE: which queues of a topic a consumer should read,
 * and whether the group pops (broker-side balancing) or pulls. For POP with no queue sharing,
 * every client gets every broker with queueId −1 ("pop from all queues"). The proxy answers gRPC
 * QueryAssignment from routes and never sends these; integration tests use them to see what brokers say.
 */
import { RequestCode } from '../../../proxy/src/remoting/codes.ts';
import type { RemotingCommand, RequestSpec } from '../../../proxy/src/remoting/command.ts';
import {
  expectArray,
  expectObject,
  expectString,
  parseFastjson,
  readNumber,
} from '../../../proxy/src/remoting/fastjson.ts';
import type { MessageModel } from '../../../proxy/src/remoting/requests/heartbeat.ts';
import { expectSuccess } from '../../../proxy/src/remoting/response.ts';

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
  if (!response.body || response.body.length === 0) return [];
  const root = expectObject(parseFastjson(response.body), 'QueryAssignment body');
  const list = root.get('messageQueueAssignments');
  // fastjson omits a null set: no assignments.
  if (list === undefined || list === null) return [];
  return expectArray(list, 'QueryAssignment.messageQueueAssignments').map((item, index) => {
    const what = `QueryAssignment entry ${index}`;
    const entry = expectObject(item, what);
    const queue = expectObject(entry.get('messageQueue'), `${what}.messageQueue`);
    const queueId = queue.get('queueId');
    return {
      topic: expectString(queue.get('topic'), `${what}.messageQueue.topic`),
      brokerName: expectString(queue.get('brokerName'), `${what}.messageQueue.brokerName`),
      queueId:
        queueId === undefined || queueId === null ? -1 : readNumber(queueId, `${what}.messageQueue.queueId`),
      mode: entry.get('mode') === 'POP' ? 'POP' : 'PULL',
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
