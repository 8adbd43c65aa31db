/**
 * What a consumer does with a received message: ack it (batched per broker), change its invisible
 * time (answering the replacement handle) or forward it to the group's DLQ (CONSUMER_SEND_MSG_BACK
 * with delay level −1, then an ack), as the Java proxy does. Handles are self-contained
 * (receipt-handle.ts); only auto-renewed messages have a newer receipt in this proxy.
 */
import type { Logger } from 'pino';
import type { Clock } from '../cluster/clock.ts';
import type { MetadataService } from '../cluster/metadata-service.ts';
import type { RequestContext } from '../core/context.ts';
import { OK, type Outcome, outcome, outcomeOf, ProxyError } from '../core/errors.ts';
import { validateConsumerGroup, validateTopic } from '../core/names.ts';
import { ResponseCode } from '../remoting/codes.ts';
import { RemotingResponseError } from '../remoting/errors.ts';
import { formatPopReceipt, type PopReceipt } from '../remoting/message/pop-receipt.ts';
import type { AutoRenewer } from './auto-renew.ts';
import type { ConsumerBroker } from './broker-client.ts';
import { changedInvisibleTime } from './parameters.ts';
import { decodeReceiptHandle, requireUnexpired } from './receipt-handle.ts';

export interface SettleDeps {
  broker: Pick<ConsumerBroker, 'ackMany' | 'ack' | 'changeInvisible' | 'sendBack' | 'isGroupKnown'>;
  renewer: Pick<AutoRenewer, 'take'>;
  /** The group cache; unknown groups are asked of every master before they are ConsumerGroupNotFound. */
  metadata: Pick<MetadataService, 'groupConfig'>;
  logger: Logger;
  clock?: Clock | undefined;
}

/** Names the message a consumer settles, as the client holds them. */
export interface SettleTarget {
  readonly group: string | undefined;
  readonly topic: string | undefined;
}

export interface AckEntry {
  readonly messageId: string;
  readonly receiptHandle: string;
}

export interface AckRequest extends SettleTarget {
  readonly entries: readonly AckEntry[];
}

export interface AckResult {
  /** The entries' common outcome, or MultipleResults when they differ. */
  readonly outcome: Outcome;
  /** One per entry, in request order. */
  readonly entries: readonly Outcome[];
}

export interface ChangeInvisibleRequest extends SettleTarget {
  readonly receiptHandle: string | undefined;
  readonly invisibleMs: number | undefined;
}

export interface ForwardToDeadLetterRequest extends SettleTarget {
  readonly receiptHandle: string | undefined;
  readonly messageId: string | undefined;
}

/**
 * The response's own status: the entries' one reason (named by its code only, as the Java proxy
 * words it; each entry keeps the precise message), or MultipleResults when they differ.
 */
function overallOutcome(outcomes: readonly Outcome[], reasons: ReadonlySet<Outcome['reason']>): Outcome {
  const [only] = reasons;
  if (reasons.size !== 1 || only === undefined)
    return outcome('MultipleResults', 'ack results differ per entry');
  return only === 'Ok' ? outcomes[0]! : outcome(only, '');
}

export class SettleService {
  readonly #deps: SettleDeps;
  readonly #clock: Clock;

  constructor(deps: SettleDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? Date.now;
  }

  async ack(request: AckRequest, context: RequestContext): Promise<AckResult> {
    const { group, topic } = await this.#target(request);
    const entries = request.entries;
    if (entries.length === 0) throw new ProxyError('BadRequest', 'no ack entries');
    const now = this.#clock();
    const results: (Outcome | undefined)[] = entries.map(() => undefined);
    const receipts: { index: number; receipt: PopReceipt }[] = [];
    await Promise.all(
      entries.map(async (entry, index) => {
        try {
          const receipt = await this.#current(context.clientId, group, entry.receiptHandle);
          receipts.push({ index, receipt: requireUnexpired(receipt, now) });
        } catch (error) {
          results[index] = outcomeOf(error);
        }
      }),
    );
    receipts.sort((a, b) => a.index - b.index);
    const failures = await this.#deps.broker.ackMany(
      group,
      topic,
      receipts.map((item) => item.receipt),
    );
    receipts.forEach((item, position) => {
      const failure = failures[position];
      results[item.index] = failure === undefined ? OK : ackFailure(failure);
    });
    const outcomes = results.map((result) => result ?? outcome('Internal', 'ack message result is empty'));
    const reasons = new Set(outcomes.map((result) => result.reason));
    return {
      outcome: overallOutcome(outcomes, reasons),
      entries: outcomes,
    };
  }

  /** The replacement handle, which the client must use from now on. */
  async changeInvisibleDuration(request: ChangeInvisibleRequest, context: RequestContext): Promise<string> {
    const { group, topic } = await this.#target(request);
    const invisibleTime = changedInvisibleTime(request.invisibleMs);
    const receipt = requireUnexpired(
      await this.#current(context.clientId, group, request.receiptHandle),
      this.#clock(),
    );
    try {
      const result = await this.#deps.broker.changeInvisible(group, topic, receipt, invisibleTime);
      return formatPopReceipt(result.receipt);
    } catch (error) {
      throw brokerRefusal(error, 'changeInvisibleDuration failed');
    }
  }

  async forwardToDeadLetterQueue(
    request: ForwardToDeadLetterRequest,
    context: RequestContext,
  ): Promise<void> {
    const { group, topic } = await this.#target(request);
    const receipt = await this.#current(context.clientId, group, request.receiptHandle);
    if (receipt.commitLogOffset === undefined || receipt.commitLogOffset < 0) {
      throw new ProxyError('InvalidReceiptHandle', 'commit log offset is empty');
    }
    const messageId = request.messageId ?? '';
    if (messageId.trim() === '') throw new ProxyError('BadRequest', 'message id is blank');
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
  }

  async #target(target: SettleTarget): Promise<{ group: string; topic: string }> {
    const topic = validateTopic(target.topic);
    const group = validateConsumerGroup(target.group);
    if (!(await this.#groupExists(group))) {
      throw new ProxyError('ConsumerGroupNotFound', `consumer group ${group} does not exist`);
    }
    return { group, topic };
  }

  /** From the metadata cache, asking the brokers again before saying "no". */
  async #groupExists(group: string): Promise<boolean> {
    return (
      (await this.#deps.metadata.groupConfig(group)) !== undefined || this.#deps.broker.isGroupKnown(group)
    );
  }

  /** The receipt to act on: the renewed one this proxy holds for the handle, else the handle itself. */
  async #current(clientId: string, group: string, handle: string | undefined): Promise<PopReceipt> {
    const receipt = decodeReceiptHandle(handle);
    return (await this.#deps.renewer.take(clientId, group, handle ?? '')) ?? receipt;
  }
}

function ackFailure(error: Error): Outcome {
  if (error instanceof RemotingResponseError) {
    if (error.responseCode === ResponseCode.NO_MESSAGE) {
      return outcome('InvalidReceiptHandle', `the receipt handle names no message: ${error.remark ?? ''}`);
    }
    return outcome('Internal', `ack failed: status is abnormal (${error.message})`);
  }
  return outcomeOf(error);
}

function brokerRefusal(error: unknown, what: string): unknown {
  if (error instanceof RemotingResponseError) {
    if (error.responseCode === ResponseCode.NO_MESSAGE) {
      return new ProxyError(
        'InvalidReceiptHandle',
        `the receipt handle names no message: ${error.remark ?? ''}`,
        { cause: error },
      );
    }
    return new ProxyError('Internal', `${what}: status is abnormal (${error.message})`, { cause: error });
  }
  return error;
}
