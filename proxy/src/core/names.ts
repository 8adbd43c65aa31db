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

interface NameRule {
  readonly reason: 'IllegalTopic' | 'IllegalConsumerGroup';
  readonly maxLength: number;
  /** The Java client library's Validators wording, which the Java proxy answers with. */
  readonly blank: string;
  readonly tooLong: (name: string, maxLength: number) => string;
  readonly illegal: (name: string) => string;
}

/** The checks topics and groups share; only the words differ (topics capitalised, groups not, as in Java). */
function checkName(name: string | null | undefined, rule: NameRule): string {
  const text = name ?? '';
  if (isJavaBlank(text)) throw new ProxyError(rule.reason, rule.blank);
  if (text.length > rule.maxLength) throw new ProxyError(rule.reason, rule.tooLong(text, rule.maxLength));
  if (!NAME_CHARACTERS.test(text)) throw new ProxyError(rule.reason, rule.illegal(text));
  return text;
}

const ALLOWED = 'allowing only ^[%|a-zA-Z0-9_-]+$';

const TOPIC_RULE: NameRule = {
  reason: 'IllegalTopic',
  maxLength: TOPIC_MAX_LENGTH,
  blank: 'The specified topic is blank',
  tooLong: (_name, max) => `The specified topic is longer than topic max length ${max}.`,
  illegal: (name) => `The specified topic[${name}] contains illegal characters, ${ALLOWED}`,
};
const GROUP_RULE: NameRule = {
  reason: 'IllegalConsumerGroup',
  maxLength: GROUP_MAX_LENGTH,
  blank: 'the specified group is blank',
  tooLong: (name, max) => `the specified group[${name}] is longer than group max length: ${max}.`,
  illegal: (name) => `the specified group[${name}] contains illegal characters, ${ALLOWED}`,
};

/** The topic name, or IllegalTopic naming what is wrong. */
export function validateTopic(name: string | null | undefined): string {
  const topic = checkName(name, TOPIC_RULE);
  if (isSystemTopic(topic)) throw new ProxyError('IllegalTopic', `cannot access system topic: ${topic}`);
  return topic;
}

/** The consumer group name, or IllegalConsumerGroup naming what is wrong. */
export function validateConsumerGroup(name: string | null | undefined): string {
  const group = checkName(name, GROUP_RULE);
  if (group.startsWith('CID_RMQ_SYS_')) {
    throw new ProxyError('IllegalConsumerGroup', `cannot use system consumer group: ${group}`);
  }
  return group;
}
