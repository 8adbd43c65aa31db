/**
 * What a consumer does with a received message (proxy-grpc.md §8.6–8.8): AckMessage (batched per
 * broker), ChangeInvisibleDuration (answers the replacement handle) and
 * ForwardMessageToDeadLetterQueue (CONSUMER_SEND_MSG_BACK with delay level −1, then ack). Handles are
 * self-contained (receipt-handle.ts); only auto-renewed messages have a newer receipt in this proxy.
 */
import type { Logger } from 'pino';
import type { Clock } from '../cluster/clock.ts';
import type { MetadataService } from '../cluster/metadata-service.ts';
import type { apache } from '../grpc/protocol.ts';
import { millisOf } from '../grpc/settings.ts';
import { Code, OK_STATUS, ProxyStatusError, type Status, status, statusFromError } from '../grpc/status.ts';
import { validateConsumerGroup, validateTopic } from '../grpc/validation.ts';
import { ResponseCode } from '../remoting/codes.ts';
import { RemotingResponseError } from '../remoting/errors.ts';
import { formatPopReceipt, type PopReceipt } from '../remoting/message/pop-receipt.ts';
import type { AutoRenewer } from './auto-renew.ts';
import type { ConsumerBroker } from './broker-client.ts';
import { changedInvisibleTime } from './parameters.ts';
import { decodeReceiptHandle, requireUnexpired } from './receipt-handle.ts';

export interface SettleDeps {
  broker: ConsumerBroker;
  renewer: Pick<AutoRenewer, 'take'>;
  /** Tells whether a consumer group exists (unknown groups are CONSUMER_GROUP_NOT_FOUND). */
  groupExists: (group: string) => Promise<boolean>;
  logger: Logger;
  clock?: Clock | undefined;
}

type AckResponse = apache.rocketmq.v2.AckMessageResponse.$Properties;
type ChangeResponse = apache.rocketmq.v2.ChangeInvisibleDurationResponse.$Properties;
type ForwardResponse = apache.rocketmq.v2.ForwardMessageToDeadLetterQueueResponse.$Properties;

/** Group existence from the metadata cache, asking the brokers again before saying "no". */
export function groupExistence(
  metadata: Pick<MetadataService, 'groupConfig'>,
  askBrokers: (group: string) => Promise<boolean>,
): (group: string) => Promise<boolean> {
  return async (group) => (await metadata.groupConfig(group)) !== undefined || askBrokers(group);
}

export class SettleService {
  readonly #deps: SettleDeps;
  readonly #clock: Clock;

  constructor(deps: SettleDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? Date.now;
  }

  async ack(request: apache.rocketmq.v2.AckMessageRequest, clientId: string): Promise<AckResponse> {
    const { group, topic } = await this.#target(request.group, request.topic);
    const entries = request.entries ?? [];
    if (entries.length === 0) throw new ProxyStatusError(Code.BAD_REQUEST, 'no ack entries');
    const now = this.#clock();
    const statuses: (Status | undefined)[] = entries.map(() => undefined);
    const receipts: { index: number; receipt: PopReceipt }[] = [];
    await Promise.all(
      entries.map(async (entry, index) => {
        try {
          const receipt = await this.#current(clientId, group, entry.receiptHandle);
          receipts.push({ index, receipt: requireUnexpired(receipt, now) });
        } catch (error) {
          statuses[index] = statusFromError(error);
        }
      }),
    );
    receipts.sort((a, b) => a.index - b.index);
    const outcomes = await this.#deps.broker.ackMany(
      group,
      topic,
      receipts.map((item) => item.receipt),
    );
    receipts.forEach((item, position) => {
      const outcome = outcomes[position];
      statuses[item.index] = outcome === undefined ? OK_STATUS : ackFailure(outcome);
    });
    const results = entries.map((entry, index) => ({
      messageId: entry.messageId,
      receiptHandle: entry.receiptHandle,
      status: statuses[index] ?? status(Code.INTERNAL_SERVER_ERROR, 'ack message result is empty'),
    }));
    const codes = new Set(results.map((result) => result.status.code));
    const overall =
      codes.size === 1 ? results[0]!.status : status(Code.MULTIPLE_RESULTS, 'ack results differ per entry');
    return { status: overall, entries: results };
  }

  async changeInvisibleDuration(
    request: apache.rocketmq.v2.ChangeInvisibleDurationRequest,
    clientId: string,
  ): Promise<ChangeResponse> {
    const { group, topic } = await this.#target(request.group, request.topic);
    const invisibleTime = changedInvisibleTime(millisOf(request.invisibleDuration));
    const receipt = requireUnexpired(
      await this.#current(clientId, group, request.receiptHandle),
      this.#clock(),
    );
    try {
      const result = await this.#deps.broker.changeInvisible(group, topic, receipt, invisibleTime);
      return { status: OK_STATUS, receiptHandle: formatPopReceipt(result.receipt) };
    } catch (error) {
      throw brokerRefusal(error, 'changeInvisibleDuration failed');
    }
  }

  async forwardToDeadLetterQueue(
    request: apache.rocketmq.v2.ForwardMessageToDeadLetterQueueRequest,
    clientId: string,
  ): Promise<ForwardResponse> {
    const { group, topic } = await this.#target(request.group, request.topic);
    const receipt = await this.#current(clientId, group, request.receiptHandle);
    if (receipt.commitLogOffset === undefined || receipt.commitLogOffset < 0) {
      throw new ProxyStatusError(Code.INVALID_RECEIPT_HANDLE, 'commit log offset is empty');
    }
    const messageId = request.messageId ?? '';
    if (messageId.trim() === '') throw new ProxyStatusError(Code.BAD_REQUEST, 'message id is blank');
    await this.#deps.broker.sendBack(receipt.brokerName, {
      commitLogOffset: receipt.commitLogOffset,
      consumerGroup: group,
      originMsgId: messageId,
      originTopic: topic,
    });
    // The copy is in the DLQ; consume the original so it is not redelivered. An expired receipt
    // cannot be acked, and the broker then redelivers the message once more.
    try {
      await this.#deps.broker.ack(group, topic, receipt);
    } catch (error) {
      this.#deps.logger.warn(
        { err: error, group, topic, messageId },
        'ack after forwarding to the DLQ failed',
      );
    }
    return { status: OK_STATUS };
  }

  async #target(
    groupResource: apache.rocketmq.v2.IResource | null | undefined,
    topicResource: apache.rocketmq.v2.IResource | null | undefined,
  ): Promise<{ group: string; topic: string }> {
    const topic = validateTopic(topicResource);
    const group = validateConsumerGroup(groupResource);
    if (!(await this.#deps.groupExists(group))) {
      throw new ProxyStatusError(Code.CONSUMER_GROUP_NOT_FOUND, `consumer group ${group} does not exist`);
    }
    return { group, topic };
  }

  /** The receipt to act on: the renewed one this proxy holds for the handle, else the handle itself. */
  async #current(clientId: string, group: string, handle: string | null | undefined): Promise<PopReceipt> {
    const receipt = decodeReceiptHandle(handle);
    return (await this.#deps.renewer.take(clientId, group, handle ?? '')) ?? receipt;
  }
}

function ackFailure(error: Error): Status {
  if (error instanceof ProxyStatusError) return error.toStatus();
  if (error instanceof RemotingResponseError) {
    if (error.responseCode === ResponseCode.NO_MESSAGE) {
      return status(
        Code.INVALID_RECEIPT_HANDLE,
        `the receipt handle names no message: ${error.remark ?? ''}`,
      );
    }
    return status(Code.INTERNAL_SERVER_ERROR, `ack failed: status is abnormal (${error.message})`);
  }
  return statusFromError(error);
}

function brokerRefusal(error: unknown, what: string): unknown {
  if (error instanceof RemotingResponseError) {
    if (error.responseCode === ResponseCode.NO_MESSAGE) {
      return new ProxyStatusError(
        Code.INVALID_RECEIPT_HANDLE,
        `the receipt handle names no message: ${error.remark ?? ''}`,
        {
          cause: error,
        },
      );
    }
    return new ProxyStatusError(
      Code.INTERNAL_SERVER_ERROR,
      `${what}: status is abnormal (${error.message})`,
      {
        cause: error,
      },
    );
  }
  return error;
}
