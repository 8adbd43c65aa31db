/**
 * RecallMessage (proxy-grpc.md §8.10): cancel a delay message before its delivery time. The recall
 * handle names the broker; the topic must be a DELAY (or MIXED) topic, as the Java proxy checks.
 */
import type { TopicType } from '../cluster/message-type.ts';
import type { MetadataService } from '../cluster/metadata-service.ts';
import type { RouteService } from '../cluster/route-service.ts';
import type { apache } from '../grpc/protocol.ts';
import { Code, ProxyStatusError } from '../grpc/status.ts';
import { validateTopic } from '../grpc/validation.ts';
import type { RemotingPool } from '../remoting/pool.ts';
import { parseRecallHandle, parseRecallMessage, recallMessageRequest } from '../remoting/requests/recall.ts';

export interface RecallOptions {
  pool: Pick<RemotingPool, 'request'>;
  routes: Pick<RouteService, 'brokerAddress'>;
  metadata: Pick<MetadataService, 'topicType'>;
  timeoutMs: number;
}

/** Recalls the message; resolves with its id. */
export async function recallMessage(
  options: RecallOptions,
  request: apache.rocketmq.v2.IRecallMessageRequest,
): Promise<string> {
  const topic = validateTopic(request.topic);
  let type: TopicType;
  try {
    type = await options.metadata.topicType(topic);
  } catch {
    type = 'UNSPECIFIED';
  }
  if (type !== 'DELAY' && type !== 'MIXED') {
    throw new ProxyStatusError(
      Code.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
      `RecallMessage needs a DELAY topic, but topic ${topic} has type ${type}`,
    );
  }
  const handle = parseRecallHandle(request.recallHandle ?? '');
  if (handle === undefined)
    throw new ProxyStatusError(Code.INTERNAL_SERVER_ERROR, 'recall handle is invalid');
  const address = await options.routes.brokerAddress(handle.brokerName);
  const response = await options.pool.request(
    address,
    recallMessageRequest({ topic, recallHandle: request.recallHandle ?? '', brokerName: handle.brokerName }),
    { timeoutMs: options.timeoutMs },
  );
  return parseRecallMessage(response);
}
