/**
 * Resource-name rules of the gRPC front end (proxy-grpc.md §7), with the Java proxy's codes and
 * messages: topics and consumer groups. Shared by every RPC that names one.
 */
import { Code, ProxyStatusError } from './status.ts';

const NAME_CHARACTERS = /^[%|a-zA-Z0-9_-]+$/;
export const TOPIC_MAX_LENGTH = 127;
export const GROUP_MAX_LENGTH = 120;

const SYSTEM_TOPICS: ReadonlySet<string> = new Set([
  'TBW102',
  'SCHEDULE_TOPIC_XXXX',
  'BenchmarkTest',
  'RMQ_SYS_TRANS_HALF_TOPIC',
  'RMQ_SYS_TRACE_TOPIC',
  'RMQ_SYS_TRANS_OP_HALF_TOPIC',
  'TRANS_CHECK_MAX_TIME_TOPIC',
  'SELF_TEST_TOPIC',
  'OFFSET_MOVED_EVENT',
  'CHECKPOINT_TOPIC',
]);

/** A `Resource` as decoded (every field optional on the wire). */
export interface ResourceLike {
  name?: string | null;
  resourceNamespace?: string | null;
}

function isBlank(text: string): boolean {
  return text.trim() === '';
}

export function isSystemTopic(topic: string): boolean {
  return SYSTEM_TOPICS.has(topic) || topic.startsWith('rmq_sys_');
}

/** The topic name, or ILLEGAL_TOPIC naming what is wrong. */
export function validateTopic(resource: ResourceLike | null | undefined): string {
  const topic = resource?.name ?? '';
  if (isBlank(topic)) throw new ProxyStatusError(Code.ILLEGAL_TOPIC, 'The specified topic is blank');
  if (topic.length > TOPIC_MAX_LENGTH) {
    throw new ProxyStatusError(
      Code.ILLEGAL_TOPIC,
      `The specified topic is longer than topic max length ${TOPIC_MAX_LENGTH}.`,
    );
  }
  if (!NAME_CHARACTERS.test(topic)) {
    throw new ProxyStatusError(
      Code.ILLEGAL_TOPIC,
      `The specified topic[${topic}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`,
    );
  }
  if (isSystemTopic(topic)) {
    throw new ProxyStatusError(Code.ILLEGAL_TOPIC, `cannot access system topic: ${topic}`);
  }
  return topic;
}

/** The consumer group name, or ILLEGAL_CONSUMER_GROUP naming what is wrong. */
export function validateConsumerGroup(resource: ResourceLike | null | undefined): string {
  const group = resource?.name ?? '';
  if (isBlank(group)) {
    throw new ProxyStatusError(Code.ILLEGAL_CONSUMER_GROUP, 'The specified group is blank');
  }
  if (group.length > GROUP_MAX_LENGTH) {
    throw new ProxyStatusError(
      Code.ILLEGAL_CONSUMER_GROUP,
      `The specified group is longer than group max length ${GROUP_MAX_LENGTH}.`,
    );
  }
  if (!NAME_CHARACTERS.test(group)) {
    throw new ProxyStatusError(
      Code.ILLEGAL_CONSUMER_GROUP,
      `The specified group[${group}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`,
    );
  }
  if (group.startsWith('CID_RMQ_SYS_')) {
    throw new ProxyStatusError(Code.ILLEGAL_CONSUMER_GROUP, `cannot use system consumer group: ${group}`);
  }
  return group;
}
