/**
 * CONSUMER_SEND_MSG_BACK (code 36), the way 5.x proxies forward a message to its group's dead-letter
 * queue: the broker re-reads the message by commit-log offset and, with delayLevel −1, stores a copy
 * in `%DLQ%<group>` instead of scheduling a retry.
 */
import { RequestCode } from '../remoting/codes.ts';
import type { RemotingCommand, RequestSpec } from '../remoting/command.ts';
import { extFields } from '../remoting/requests/ext-fields.ts';
import { expectSuccess } from '../remoting/response.ts';

/** delayLevel −1 sends the message straight to the DLQ. */
export const DLQ_DELAY_LEVEL = -1;

export interface SendBackParams {
  commitLogOffset: number;
  consumerGroup: string;
  /** The message id the client knows (UNIQ_KEY). */
  originMsgId: string;
  /** The topic the message was read from (a retry topic for redelivered messages). */
  originTopic: string;
  delayLevel?: number | undefined;
  maxReconsumeTimes?: number | undefined;
  brokerName?: string | undefined;
}

export function sendBackRequest(params: SendBackParams): RequestSpec {
  return {
    code: RequestCode.CONSUMER_SEND_MSG_BACK,
    extFields: extFields({
      offset: params.commitLogOffset,
      group: params.consumerGroup,
      delayLevel: params.delayLevel ?? DLQ_DELAY_LEVEL,
      originMsgId: params.originMsgId,
      originTopic: params.originTopic,
      unitMode: false,
      maxReconsumeTimes: params.maxReconsumeTimes ?? 0,
      bname: params.brokerName,
    }),
  };
}

export function parseSendBack(response: RemotingCommand): void {
  expectSuccess(response, RequestCode.CONSUMER_SEND_MSG_BACK);
}
