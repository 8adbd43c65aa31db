/** RECALL_MESSAGE: cancel a delay (timer) message before its delivery time, by its recall handle. */
import { RequestCode } from '../codes.ts';
import type { RemotingCommand, RequestSpec } from '../command.ts';
import { expectSuccess, headerString } from '../response.ts';
import { extFields } from './ext-fields.ts';

export interface RecallParams {
  topic: string;
  recallHandle: string;
  producerGroup?: string | undefined;
  brokerName?: string | undefined;
}

export function recallMessageRequest(params: RecallParams): RequestSpec {
  return {
    code: RequestCode.RECALL_MESSAGE,
    extFields: extFields({
      producerGroup: params.producerGroup,
      topic: params.topic,
      recallHandle: params.recallHandle,
      bname: params.brokerName,
    }),
  };
}

/** The recalled message's id. */
export function parseRecallMessage(response: RemotingCommand): string {
  expectSuccess(response, RequestCode.RECALL_MESSAGE);
  return headerString(response, 'msgId');
}

/**
 * The broker name inside a recall handle: URL-safe base64 of "v1 <topic> <brokerName> <timestamp> <msgId>".
 * The proxy uses it to pick the broker to send the recall to.
 */
export function parseRecallHandle(
  handle: string,
): { topic: string; brokerName: string; timestamp: number; messageId: string } | undefined {
  const text = Buffer.from(handle, 'base64url').toString('utf8');
  const parts = text.split(' ');
  if (parts.length !== 5 || parts[0] !== 'v1') return undefined;
  const timestamp = Number(parts[3]);
  // Number() would also read "", " 7" or "0x1f"; the broker writes plain decimal digits.
  if (!/^\d{1,16}$/.test(parts[3] ?? '') || !Number.isSafeInteger(timestamp)) return undefined;
  if (!parts[1] || !parts[2] || !parts[4]) return undefined;
  return { topic: parts[1], brokerName: parts[2], timestamp, messageId: parts[4] };
}
