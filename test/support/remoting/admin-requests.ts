/**
 * Topic and consumer-group creation and deletion, for the harness's topology, the tests and the
 * benchmarks. The proxy itself only reads configs (proxy/src/remoting/requests/admin.ts). Create and
 * delete go to every master broker.
 */
import { RequestCode } from '../../../proxy/src/remoting/codes.ts';
import type { RemotingCommand, RequestSpec } from '../../../proxy/src/remoting/command.ts';
import { Permission, type TopicMessageType } from '../../../proxy/src/remoting/requests/admin.ts';
import { extFields } from '../../../proxy/src/remoting/requests/ext-fields.ts';
import { expectSuccess } from '../../../proxy/src/remoting/response.ts';

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
  /** The group's redelivery policy as the broker stores it (default: the broker's customized delays). */
  groupRetryPolicy?: Record<string, unknown> | undefined;
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
    ...(spec.groupRetryPolicy === undefined ? {} : { groupRetryPolicy: spec.groupRetryPolicy }),
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
