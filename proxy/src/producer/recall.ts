/**
 * RecallMessage: cancel a delay message before its delivery time. The recall handle names the
 * broker; the topic must be a DELAY (or MIXED) topic, as the Java proxy checks.
 */
import type { TopicType } from '../cluster/message-type.ts';
import type { MetadataService } from '../cluster/metadata-service.ts';
import type { RouteService } from '../cluster/route-service.ts';
import { ProxyError } from '../core/errors.ts';
import { validateTopic } from '../core/names.ts';
import type { RemotingPool } from '../remoting/pool.ts';
import { parseRecallHandle, parseRecallMessage, recallMessageRequest } from '../remoting/requests/recall.ts';

export interface RecallOptions {
  pool: Pick<RemotingPool, 'request'>;
  routes: Pick<RouteService, 'brokerAddress'>;
  metadata: Pick<MetadataService, 'topicType'>;
  timeoutMs: number;
}

export interface RecallInput {
  readonly topic: string;
  /** The recall handle the send returned. */
  readonly handle: string;
}

/** Recalls the message; resolves with its id. */
export async function recallMessage(options: RecallOptions, input: RecallInput): Promise<string> {
  const topic = validateTopic(input.topic);
  let type: TopicType;
  try {
    type = await options.metadata.topicType(topic);
  } catch {
    type = 'UNSPECIFIED';
  }
  if (type !== 'DELAY' && type !== 'MIXED') {
    throw new ProxyError(
      'MessageTypeConflict',
      `RecallMessage needs a DELAY topic, but topic ${topic} has type ${type}`,
    );
  }
  const handle = parseRecallHandle(input.handle);
  if (handle === undefined) throw new ProxyError('Internal', 'recall handle is invalid');
  const address = await options.routes.brokerAddress(handle.brokerName);
  const response = await options.pool.request(
    address,
    recallMessageRequest({ topic, recallHandle: input.handle, brokerName: handle.brokerName }),
    { timeoutMs: options.timeoutMs },
  );
  return parseRecallMessage(response);
}
