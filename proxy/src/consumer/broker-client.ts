/**
 * The consumer's Remoting calls to brokers: pop, ack (batched per broker), change of invisible time
 * and send-back to the DLQ, each addressed by the broker name a receipt carries, and the question
 * whether any master knows a consumer group. A broker name the cluster does not know is
 * InvalidReceiptHandle (a foreign or forged handle).
 */
import type { Logger } from 'pino';
import { isTopicNotExist, type RouteService } from '../cluster/route-service.ts';
import { ProxyError } from '../core/errors.ts';
import { isOrderReceipt, type PopReceipt } from '../remoting/message/pop-receipt.ts';
import type { RemotingPool } from '../remoting/pool.ts';
import { groupConfigRequest, parseGroupConfig } from '../remoting/requests/admin.ts';
import {
  ackMessageRequest,
  batchAckMessageRequest,
  type ChangeInvisibleTimeResult,
  changeInvisibleTimeRequest,
  MAX_BATCH_ACK_SPAN,
  type PopMessageParams,
  type PopResult,
  parseAckMessage,
  parseBatchAckMessage,
  parseChangeInvisibleTime,
  parsePopResponse,
  popMessageRequest,
} from '../remoting/requests/pop.ts';
import { parseSendBack, type SendBackParams, sendBackRequest } from './send-back.ts';

export interface ConsumerBrokerOptions {
  pool: Pick<RemotingPool, 'request'>;
  routes: Pick<RouteService, 'brokerAddress' | 'masterAddresses'>;
  /** Timeout of acks, changes of invisible time, send-backs and group queries. */
  timeoutMs: number;
  maxBodyBytes?: number | undefined;
  /** Where failed group queries are told (at debug level). */
  logger?: Logger | undefined;
}

/** One ack outcome per receipt, in input order: undefined for success, else the error. */
export type AckOutcome = undefined | Error;

export class ConsumerBroker {
  readonly #options: ConsumerBrokerOptions;

  constructor(options: ConsumerBrokerOptions) {
    this.#options = options;
  }

  /** The master address of a broker named in a receipt. */
  async addressOf(brokerName: string): Promise<string> {
    try {
      return await this.#options.routes.brokerAddress(brokerName);
    } catch (error) {
      if (isTopicNotExist(error)) {
        throw new ProxyError('InvalidReceiptHandle', `cannot find broker ${brokerName}`, {
          cause: error,
        });
      }
      throw error;
    }
  }

  async pop(
    address: string,
    brokerName: string,
    params: PopMessageParams,
    timeoutMs: number,
  ): Promise<PopResult> {
    const response = await this.#options.pool.request(address, popMessageRequest(params), { timeoutMs });
    const options =
      this.#options.maxBodyBytes === undefined ? {} : { maxBodyBytes: this.#options.maxBodyBytes };
    return parsePopResponse(
      response,
      { consumerGroup: params.consumerGroup, topic: params.topic, brokerName, order: params.order },
      options,
    );
  }

  async ack(group: string, topic: string, receipt: PopReceipt): Promise<void> {
    const address = await this.addressOf(receipt.brokerName);
    parseAckMessage(
      await this.#options.pool.request(address, ackMessageRequest({ consumerGroup: group, topic, receipt }), {
        timeoutMs: this.#options.timeoutMs,
      }),
    );
  }

  /**
   * Acks many receipts: one BATCH_ACK_MESSAGE per broker for normal receipts, single acks for order
   * receipts (their ack also moves the FIFO lock), receipts a bitset cannot express, and brokers
   * with only one receipt.
   */
  async ackMany(group: string, topic: string, receipts: readonly PopReceipt[]): Promise<AckOutcome[]> {
    const outcomes: AckOutcome[] = receipts.map(() => undefined);
    const batches = new Map<string, number[]>();
    const singles: number[] = [];
    receipts.forEach((receipt, index) => {
      const span = receipt.queueOffset - receipt.ckQueueOffset;
      if (isOrderReceipt(receipt) || span < 0 || span >= MAX_BATCH_ACK_SPAN) {
        singles.push(index);
        return;
      }
      const list = batches.get(receipt.brokerName) ?? [];
      list.push(index);
      batches.set(receipt.brokerName, list);
    });
    for (const [, indexes] of batches) if (indexes.length === 1) singles.push(indexes[0]!);
    const work: Promise<void>[] = singles.map(async (index) => {
      try {
        await this.ack(group, topic, receipts[index]!);
      } catch (error) {
        outcomes[index] = asError(error);
      }
    });
    for (const [brokerName, indexes] of batches) {
      if (indexes.length < 2) continue;
      work.push(
        (async () => {
          try {
            const address = await this.addressOf(brokerName);
            const spec = batchAckMessageRequest({
              consumerGroup: group,
              topic,
              receipts: indexes.map((index) => receipts[index]!),
            });
            parseBatchAckMessage(
              await this.#options.pool.request(address, spec, { timeoutMs: this.#options.timeoutMs }),
            );
          } catch (error) {
            for (const index of indexes) outcomes[index] = asError(error);
          }
        })(),
      );
    }
    await Promise.all(work);
    return outcomes;
  }

  /** The replacement receipt (it keeps the commit-log offset of `receipt`). */
  async changeInvisible(
    group: string,
    topic: string,
    receipt: PopReceipt,
    invisibleTime: number,
  ): Promise<ChangeInvisibleTimeResult> {
    const address = await this.addressOf(receipt.brokerName);
    const response = await this.#options.pool.request(
      address,
      changeInvisibleTimeRequest({ consumerGroup: group, topic, receipt, invisibleTime }),
      { timeoutMs: this.#options.timeoutMs },
    );
    return parseChangeInvisibleTime(response, receipt);
  }

  /**
   * Whether any master has the group's subscription config, asking each in turn until one does
   * (a group is created on some brokers only); unanswered queries count as "no".
   */
  async isGroupKnown(group: string): Promise<boolean> {
    for (const address of await this.#options.routes.masterAddresses()) {
      try {
        const response = await this.#options.pool.request(address, groupConfigRequest(group), {
          timeoutMs: this.#options.timeoutMs,
        });
        if (parseGroupConfig(response) !== undefined) return true;
      } catch (error) {
        this.#options.logger?.debug({ err: error, address, group }, 'group config query failed');
      }
    }
    return false;
  }

  async sendBack(brokerName: string, params: SendBackParams): Promise<void> {
    const address = await this.addressOf(brokerName);
    parseSendBack(
      await this.#options.pool.request(address, sendBackRequest({ ...params, brokerName }), {
        timeoutMs: this.#options.timeoutMs,
      }),
    );
  }
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
