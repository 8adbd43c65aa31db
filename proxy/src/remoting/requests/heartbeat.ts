/**
 * HEART_BEAT and UNREGISTER_CLIENT. Brokers keep producer/consumer registrations per TCP
 * connection and expire them after 120 s without a heartbeat; a producer group must be
 * registered on the connection that should receive transaction checks.
 */
import { RequestCode } from '../codes.ts';
import type { RemotingCommand, RequestSpec } from '../command.ts';
import { javaStringHashCode } from '../message/java-hash.ts';
import { expectSuccess } from '../response.ts';
import { extFields } from './ext-fields.ts';

export type ConsumeType = 'CONSUME_ACTIVELY' | 'CONSUME_PASSIVELY' | 'CONSUME_POP';
export type MessageModel = 'CLUSTERING' | 'BROADCASTING';
export type ExpressionType = 'TAG' | 'SQL92';

export interface Subscription {
  topic: string;
  expression: string;
  expressionType?: ExpressionType | undefined;
}

export interface ConsumerRegistration {
  group: string;
  consumeType: ConsumeType;
  messageModel?: MessageModel | undefined;
  subscriptions: Subscription[];
}

export interface HeartbeatParams {
  clientId: string;
  producerGroups?: string[] | undefined;
  consumers?: ConsumerRegistration[] | undefined;
}

/** Subscription data as brokers filter by it: tags split on `||`, with Java hash codes. */
export function subscriptionData(subscription: Subscription, subVersion: number): Record<string, unknown> {
  const type = subscription.expressionType ?? 'TAG';
  const expression = subscription.expression.trim() || '*';
  const tags =
    type === 'TAG' && expression !== '*'
      ? expression
          .split('||')
          .map((tag) => tag.trim())
          .filter((tag) => tag.length > 0)
      : [];
  return {
    classFilterMode: false,
    topic: subscription.topic,
    subString: expression,
    tagsSet: tags,
    codeSet: tags.map(javaStringHashCode),
    subVersion,
    expressionType: type,
  };
}

export function heartbeatRequest(params: HeartbeatParams, now: number = Date.now()): RequestSpec {
  const body = {
    clientID: params.clientId,
    producerDataSet: (params.producerGroups ?? []).map((groupName) => ({ groupName })),
    consumerDataSet: (params.consumers ?? []).map((consumer) => ({
      groupName: consumer.group,
      consumeType: consumer.consumeType,
      messageModel: consumer.messageModel ?? 'CLUSTERING',
      consumeFromWhere: 'CONSUME_FROM_LAST_OFFSET',
      subscriptionDataSet: consumer.subscriptions.map((s) => subscriptionData(s, now)),
      unitMode: false,
    })),
    heartbeatFingerprint: 0,
  };
  return { code: RequestCode.HEART_BEAT, body: Buffer.from(JSON.stringify(body)) };
}

export function parseHeartbeat(response: RemotingCommand): { brokerVersion: number } {
  expectSuccess(response, RequestCode.HEART_BEAT);
  return { brokerVersion: response.version };
}

export function unregisterClientRequest(
  clientId: string,
  groups: { producerGroup?: string; consumerGroup?: string },
): RequestSpec {
  return {
    code: RequestCode.UNREGISTER_CLIENT,
    extFields: extFields({
      clientID: clientId,
      producerGroup: groups.producerGroup,
      consumerGroup: groups.consumerGroup,
    }),
  };
}

export function parseUnregisterClient(response: RemotingCommand): void {
  expectSuccess(response, RequestCode.UNREGISTER_CLIENT);
}
