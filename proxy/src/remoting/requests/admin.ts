/**
 * Topic and consumer-group configs, as the proxy reads them from brokers. Creation and deletion serve only
 * the harness (`make run` included), the tests and the benchmarks: test/support/remoting/admin-requests.ts.
 */
import { RequestCode, ResponseCode } from '../codes.ts';
import type { RemotingCommand, RequestSpec } from '../command.ts';
import { RemotingError } from '../errors.ts';
import {
  canonicalJson,
  expectObject,
  expectString,
  JsonObject,
  type JsonValue,
  parseFastjson,
  readNumber,
} from '../fastjson.ts';
import { expectSuccess } from '../response.ts';
import { extFields } from './ext-fields.ts';

/** Values of the topic attribute `message.type`. */
export type TopicMessageType = 'UNSPECIFIED' | 'NORMAL' | 'FIFO' | 'DELAY' | 'TRANSACTION' | 'MIXED';

/** Queue permissions: bit 2 READ, bit 1 WRITE, bit 0 INHERIT. */
export const Permission = { READ: 4, WRITE: 2, INHERIT: 1, READ_WRITE: 6 } as const;

export interface TopicConfig {
  topicName: string;
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  order: boolean;
  attributes: Record<string, string>;
  /** `message.type` attribute, `UNSPECIFIED` when the topic has none. */
  messageType: TopicMessageType | string;
}

export function topicConfigRequest(topic: string): RequestSpec {
  return { code: RequestCode.GET_TOPIC_CONFIG, extFields: extFields({ topic }) };
}

/** The topic's config, or `undefined` when the broker does not have it. */
export function parseTopicConfig(response: RemotingCommand): TopicConfig | undefined {
  if (response.code === ResponseCode.TOPIC_NOT_EXIST) return undefined;
  expectSuccess(response, RequestCode.GET_TOPIC_CONFIG);
  const root = bodyObject(response, 'TopicConfig');
  // Brokers send the config's properties at the top level; tolerate a {"topicConfig":{…}} wrapper.
  const wrapped = root.get('topicConfig');
  const config = wrapped instanceof JsonObject ? wrapped : root;
  const attributes: Record<string, string> = {};
  const rawAttributes = config.get('attributes');
  if (rawAttributes !== undefined && rawAttributes !== null) {
    for (const entry of expectObject(rawAttributes, 'TopicConfig.attributes').entries()) {
      attributes[entry.key] = typeof entry.value === 'string' ? entry.value : canonicalJson(entry.value);
    }
  }
  return {
    topicName: optionalString(config, 'topicName', 'TopicConfig'),
    readQueueNums: optionalNumber(config, 'readQueueNums', 0, 'TopicConfig'),
    writeQueueNums: optionalNumber(config, 'writeQueueNums', 0, 'TopicConfig'),
    perm: optionalNumber(config, 'perm', 0, 'TopicConfig'),
    order: config.get('order') === true,
    attributes,
    messageType: attributes['message.type'] ?? 'UNSPECIFIED',
  };
}

export interface GroupConfig {
  groupName: string;
  consumeMessageOrderly: boolean;
  retryMaxTimes: number;
  consumeBroadcastEnable: boolean;
  /** The group's retry policy JSON as the broker stores it, when set. */
  groupRetryPolicy?: Record<string, unknown> | undefined;
}

export function groupConfigRequest(group: string): RequestSpec {
  return { code: RequestCode.GET_SUBSCRIPTIONGROUP_CONFIG, extFields: extFields({ group }) };
}

/**
 * The group's config, or `undefined` when the broker has none. With `autoCreateSubscriptionGroup=true`
 * (the broker default) a read never finds "none": the broker creates the group with default settings
 * on the spot (seen on 5.4.0), so this is no side-effect-free existence check.
 */
export function parseGroupConfig(response: RemotingCommand): GroupConfig | undefined {
  if (response.code === ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST) return undefined;
  expectSuccess(response, RequestCode.GET_SUBSCRIPTIONGROUP_CONFIG);
  const config = bodyObject(response, 'SubscriptionGroupConfig');
  const policy = config.get('groupRetryPolicy');
  return {
    groupName: optionalString(config, 'groupName', 'SubscriptionGroupConfig'),
    consumeMessageOrderly: config.get('consumeMessageOrderly') === true,
    retryMaxTimes: optionalNumber(config, 'retryMaxTimes', 16, 'SubscriptionGroupConfig'),
    consumeBroadcastEnable: config.get('consumeBroadcastEnable') === true,
    groupRetryPolicy: policy instanceof JsonObject ? toPlainObject(policy) : undefined,
  };
}

function bodyObject(response: RemotingCommand, what: string): JsonObject {
  if (!response.body) throw new RemotingError('RMQ_BAD_PAYLOAD', `${what} response has no body`);
  return expectObject(parseFastjson(response.body), `${what} body`);
}

/** fastjson omits null properties, so absent (or null) means the Java default. */
function optionalNumber(object: JsonObject, key: string, fallback: number, what: string): number {
  const value = object.get(key);
  return value === undefined || value === null ? fallback : readNumber(value, `${what}.${key}`);
}

function optionalString(object: JsonObject, key: string, what: string): string {
  const value = object.get(key);
  return value === undefined || value === null ? '' : expectString(value, `${what}.${key}`);
}

/** Plain-object view of a parsed body part, for callers that only pass it on. */
function toPlainObject(object: JsonObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const entry of object.entries()) out[entry.key] = toPlain(entry.value);
  return out;
}

function toPlain(value: JsonValue): unknown {
  if (value instanceof JsonObject) return toPlainObject(value);
  if (Array.isArray(value)) return value.map(toPlain);
  return value;
}
