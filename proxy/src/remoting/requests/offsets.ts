/**
 * Consumer offsets and queue offsets: query/update a group's committed offset, a queue's min/max
 * offset, and the offset nearest to a store time. All go to the master of the queue's broker.
 */
import { RequestCode, ResponseCode } from '../codes.ts';
import type { RemotingCommand, RequestSpec } from '../command.ts';
import { expectSuccess, headerLong } from '../response.ts';
import { extFields } from './ext-fields.ts';

export interface QueueRef {
  topic: string;
  queueId: number;
  /** Broker name; brokers ignore it, proxies route by it. */
  brokerName?: string | undefined;
}

export function queryConsumerOffsetRequest(queue: QueueRef, consumerGroup: string): RequestSpec {
  return {
    code: RequestCode.QUERY_CONSUMER_OFFSET,
    extFields: extFields({
      consumerGroup,
      topic: queue.topic,
      queueId: queue.queueId,
      setZeroIfNotFound: false,
      bname: queue.brokerName,
    }),
  };
}

/** The committed offset, or `undefined` when the group has none for this queue (QUERY_NOT_FOUND). */
export function parseQueryConsumerOffset(response: RemotingCommand): number | undefined {
  if (response.code === ResponseCode.QUERY_NOT_FOUND) return undefined;
  expectSuccess(response, RequestCode.QUERY_CONSUMER_OFFSET);
  return headerLong(response, 'offset');
}

/**
 * Sets a group's committed offset. Unlike pulls and pops, this does not auto-create the group: an
 * unknown group is SUBSCRIPTION_GROUP_NOT_EXIST even with `autoCreateSubscriptionGroup=true` (5.4.0).
 */
export function updateConsumerOffsetRequest(
  queue: QueueRef,
  consumerGroup: string,
  offset: number,
): RequestSpec {
  return {
    code: RequestCode.UPDATE_CONSUMER_OFFSET,
    extFields: extFields({
      consumerGroup,
      topic: queue.topic,
      queueId: queue.queueId,
      commitOffset: offset,
      bname: queue.brokerName,
    }),
  };
}

export function parseUpdateConsumerOffset(response: RemotingCommand): void {
  expectSuccess(response, RequestCode.UPDATE_CONSUMER_OFFSET);
}

/** The next offset to be written (one past the last message). */
export function maxOffsetRequest(queue: QueueRef): RequestSpec {
  return {
    code: RequestCode.GET_MAX_OFFSET,
    extFields: extFields({ topic: queue.topic, queueId: queue.queueId, bname: queue.brokerName }),
  };
}

export function minOffsetRequest(queue: QueueRef): RequestSpec {
  return {
    code: RequestCode.GET_MIN_OFFSET,
    extFields: extFields({ topic: queue.topic, queueId: queue.queueId, bname: queue.brokerName }),
  };
}

export type BoundaryType = 'LOWER' | 'UPPER';

/** The offset of the first (LOWER) or last (UPPER) message stored at or around `timestamp` (ms). */
export function searchOffsetRequest(
  queue: QueueRef,
  timestamp: number,
  boundary: BoundaryType = 'LOWER',
): RequestSpec {
  return {
    code: RequestCode.SEARCH_OFFSET_BY_TIMESTAMP,
    extFields: extFields({
      topic: queue.topic,
      queueId: queue.queueId,
      timestamp,
      boundaryType: boundary,
      bname: queue.brokerName,
    }),
  };
}

/** Parses the `offset` header of a min/max/search response. */
export function parseOffset(response: RemotingCommand, requestCode: number): number {
  expectSuccess(response, requestCode);
  return headerLong(response, 'offset');
}
