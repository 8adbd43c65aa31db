/**
 * The publishing RPCs as thin adapters over the core's producer and transaction services:
 * SendMessage, EndTransaction and RecallMessage decode their request (publish-codec.ts), call the
 * service and write its outcomes as v2 Status values.
 */
import type { Logger } from 'pino';
import type { Publisher, SendOutcome, SendReceipt } from '../producer/publisher.ts';
import type { TransactionService } from '../transaction/end-transaction.ts';
import { unary } from './envelope.ts';
import type { apache } from './protocol.ts';
import { endTransactionInputOf, messageDraftOf, recallInputOf } from './publish-codec.ts';
import type { MessagingHandlers } from './service-definition.ts';
import { OK_STATUS, statusOf } from './status.ts';

export interface ProducerHandlerDeps {
  publisher: Pick<Publisher, 'send' | 'recall'>;
  transactions: Pick<TransactionService, 'end'>;
  logger: Logger;
}

type SendMessageResponse = apache.rocketmq.v2.SendMessageResponse.$Properties;
type SendResultEntry = apache.rocketmq.v2.SendResultEntry.$Properties;

function resultEntryOf(receipt: SendReceipt): SendResultEntry {
  return {
    status: statusOf(receipt.outcome),
    messageId: receipt.messageId,
    transactionId: receipt.transactionId,
    offset: receipt.offset,
    recallHandle: receipt.recallHandle,
  };
}

export function sendMessageResponseOf(result: SendOutcome): SendMessageResponse {
  return { status: statusOf(result.outcome), entries: result.entries.map(resultEntryOf) };
}

export function createProducerHandlers(
  deps: ProducerHandlerDeps,
): Pick<MessagingHandlers, 'SendMessage' | 'EndTransaction' | 'RecallMessage'> {
  const { publisher, transactions, logger } = deps;
  return {
    SendMessage: unary(
      'SendMessage',
      logger,
      async (request: apache.rocketmq.v2.SendMessageRequest, context) =>
        sendMessageResponseOf(await publisher.send((request.messages ?? []).map(messageDraftOf), context)),
    ),

    EndTransaction: unary(
      'EndTransaction',
      logger,
      async (request: apache.rocketmq.v2.EndTransactionRequest) => {
        await transactions.end(endTransactionInputOf(request));
        return { status: OK_STATUS };
      },
    ),

    RecallMessage: unary(
      'RecallMessage',
      logger,
      async (request: apache.rocketmq.v2.RecallMessageRequest) => {
        const messageId = await publisher.recall(recallInputOf(request));
        return { status: OK_STATUS, messageId };
      },
    ),
  };
}
