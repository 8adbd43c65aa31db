/**
 * Resource-name rules with the Java proxy's messages: topics and consumer groups, shared by every
 * operation and every ingress that names one. Blank means Java's `StringUtils.isBlank`.
 */
import { ProxyError } from './errors.ts';
import { isJavaBlank } from './text-rules.ts';

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

export function isSystemTopic(topic: string): boolean {
  return SYSTEM_TOPICS.has(topic) || topic.startsWith('rmq_sys_');
}

/** The topic name, or IllegalTopic naming what is wrong. */
export function validateTopic(name: string | null | undefined): string {
  const topic = name ?? '';
  if (isJavaBlank(topic)) throw new ProxyError('IllegalTopic', 'The specified topic is blank');
  if (topic.length > TOPIC_MAX_LENGTH) {
    throw new ProxyError(
      'IllegalTopic',
      `The specified topic is longer than topic max length ${TOPIC_MAX_LENGTH}.`,
    );
  }
  if (!NAME_CHARACTERS.test(topic)) {
    throw new ProxyError(
      'IllegalTopic',
      `The specified topic[${topic}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`,
    );
  }
  if (isSystemTopic(topic)) throw new ProxyError('IllegalTopic', `cannot access system topic: ${topic}`);
  return topic;
}

/** The consumer group name, or IllegalConsumerGroup naming what is wrong. */
export function validateConsumerGroup(name: string | null | undefined): string {
  const group = name ?? '';
  if (isJavaBlank(group)) throw new ProxyError('IllegalConsumerGroup', 'The specified group is blank');
  if (group.length > GROUP_MAX_LENGTH) {
    throw new ProxyError(
      'IllegalConsumerGroup',
      `The specified group is longer than group max length ${GROUP_MAX_LENGTH}.`,
    );
  }
  if (!NAME_CHARACTERS.test(group)) {
    throw new ProxyError(
      'IllegalConsumerGroup',
      `The specified group[${group}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`,
    );
  }
  if (group.startsWith('CID_RMQ_SYS_')) {
    throw new ProxyError('IllegalConsumerGroup', `cannot use system consumer group: ${group}`);
  }
  return group;
}
