/**
 * Topic and consumer-group administration. The proxy itself only reads configs; creation and
 * deletion serve tests, `make run` and admin tooling. Create/delete go to every master broker.
 */
import { RequestCode, ResponseCode } from '../codes.ts';
import type { RemotingCommand, RequestSpec } from '../command.ts';
import { RemotingError } from '../errors.ts';
import { parseFastjson } from '../fastjson.ts';
import { expectSuccess } from '../response.ts';
import { extFields } from './ext-fields.ts';

/** Values of the topic attribute `message.type`. */
export type TopicMessageType = 'UNSPECIFIED' | 'NORMAL' | 'FIFO' | 'DELAY' | 'TRANSACTION' | 'MIXED';

/** Queue permissions: bit 2 READ, bit 1 WRITE, bit 0 INHERIT. */
export const Permission = { READ: 4, WRITE: 2, INHERIT: 1, READ_WRITE: 6 } as const;

export interface TopicSpec {
  topic: string;
  readQueueNums?: number | undefined;
  writeQueueNums?: number | undefined;
  perm?: number | undefined;
  messageType?: TopicMessageType | undefined;
}

export function createTopicRequest(spec: TopicSpec): RequestSpec {
  return {
    code: RequestCode.UPDATE_AND_CREATE_TOPIC,
    extFields: extFields({
      topic: spec.topic,
      defaultTopic: 'TBW102',
      readQueueNums: spec.readQueueNums ?? 4,
      writeQueueNums: spec.writeQueueNums ?? 4,
      perm: spec.perm ?? Permission.READ_WRITE,
      topicFilterType: 'SINGLE_TAG',
      topicSysFlag: 0,
      order: false,
      attributes: spec.messageType === undefined ? undefined : `+message.type=${spec.messageType}`,
    }),
  };
}

export function deleteTopicInBrokerRequest(topic: string): RequestSpec {
  return { code: RequestCode.DELETE_TOPIC_IN_BROKER, extFields: extFields({ topic }) };
}

export function deleteTopicInNamesrvRequest(topic: string, clusterName?: string): RequestSpec {
  return { code: RequestCode.DELETE_TOPIC_IN_NAMESRV, extFields: extFields({ topic, clusterName }) };
}

export interface GroupSpec {
  groupName: string;
  /** FIFO consumption: the broker hands out one in-flight batch per queue. */
  consumeMessageOrderly?: boolean | undefined;
  /** Deliveries before a message goes to the dead-letter queue. */
  retryMaxTimes?: number | undefined;
  consumeBroadcastEnable?: boolean | undefined;
}

export function createGroupRequest(spec: GroupSpec): RequestSpec {
  const config = {
    groupName: spec.groupName,
    consumeEnable: true,
    consumeFromMinEnable: true,
    consumeBroadcastEnable: spec.consumeBroadcastEnable ?? true,
    consumeMessageOrderly: spec.consumeMessageOrderly ?? false,
    retryQueueNums: 1,
    retryMaxTimes: spec.retryMaxTimes ?? 16,
    brokerId: 0,
    whichBrokerWhenConsumeSlowly: 1,
    notifyConsumerIdsChangedEnable: true,
  };
  return { code: RequestCode.UPDATE_AND_CREATE_SUBSCRIPTIONGROUP, body: Buffer.from(JSON.stringify(config)) };
}

export function deleteGroupRequest(groupName: string, cleanOffset = true): RequestSpec {
  return { code: RequestCode.DELETE_SUBSCRIPTIONGROUP, extFields: extFields({ groupName, cleanOffset }) };
}

/** Any admin response without a payload. */
export function parseAdminAck(response: RemotingCommand, requestCode: number): void {
  expectSuccess(response, requestCode);
}

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
  // GET_TOPIC_CONFIG wraps the config as {"topicConfig":{…}} in 5.x; older brokers send it bare.
  const config = isRecord(root.topicConfig) ? root.topicConfig : root;
  const attributes: Record<string, string> = {};
  if (isRecord(config.attributes)) {
    for (const [key, value] of Object.entries(config.attributes)) attributes[key] = String(value);
  }
  return {
    topicName: String(config.topicName ?? ''),
    readQueueNums: Number(config.readQueueNums ?? 0),
    writeQueueNums: Number(config.writeQueueNums ?? 0),
    perm: Number(config.perm ?? 0),
    order: config.order === true,
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

/** The group's config, or `undefined` when the broker has none. */
export function parseGroupConfig(response: RemotingCommand): GroupConfig | undefined {
  if (response.code === ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST) return undefined;
  expectSuccess(response, RequestCode.GET_SUBSCRIPTIONGROUP_CONFIG);
  const config = bodyObject(response, 'SubscriptionGroupConfig');
  return {
    groupName: String(config.groupName ?? ''),
    consumeMessageOrderly: config.consumeMessageOrderly === true,
    retryMaxTimes: Number(config.retryMaxTimes ?? 16),
    consumeBroadcastEnable: config.consumeBroadcastEnable === true,
    groupRetryPolicy: isRecord(config.groupRetryPolicy) ? config.groupRetryPolicy : undefined,
  };
}

function bodyObject(response: RemotingCommand, what: string): Record<string, unknown> {
  if (!response.body) throw new RemotingError('RMQ_BAD_PAYLOAD', `${what} response has no body`);
  const value = parseFastjson(response.body.toString('utf8'));
  if (!isRecord(value)) throw new RemotingError('RMQ_BAD_PAYLOAD', `${what} body is not a JSON object`);
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
