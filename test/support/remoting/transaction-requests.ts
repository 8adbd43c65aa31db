/**
 * END_TRANSACTION as the Java producer fills it, for the tests: right after a half-message send, and in
 * answer to a broker's CHECK_TRANSACTION_STATE. Both build on proxy/src/remoting/requests/transaction.ts;
 * the proxy itself ends transactions from its own records (proxy/src/transaction/).
 */
import { RemotingError } from '../../../proxy/src/remoting/errors.ts';
import { decodeOffsetMessageId } from '../../../proxy/src/remoting/message/message-id.ts';
import { MessageProperty } from '../../../proxy/src/remoting/message/properties.ts';
import {
  type EndTransactionRequestSpec,
  endTransactionRequest,
  type TransactionCheck,
  type TransactionResolution,
} from '../../../proxy/src/remoting/requests/transaction.ts';

/** What a half-message send returned, as far as ending its transaction needs. */
export interface HalfMessageSendResult {
  /** UNIQ_KEY. */
  msgId: string;
  /** The broker's offset message id of the half record. */
  offsetMsgId: string;
  queueOffset: number;
  transactionId?: string | undefined;
}

/** END_TRANSACTION right after a half-message send (not from a check), as the Java producer builds it. */
export function endTransactionAfterSend(params: {
  producerGroup: string;
  sendResult: HalfMessageSendResult;
  resolution: TransactionResolution;
  topic?: string | undefined;
  brokerName?: string | undefined;
}): EndTransactionRequestSpec {
  const { commitLogOffset } = decodeOffsetMessageId(params.sendResult.offsetMsgId);
  return endTransactionRequest({
    producerGroup: params.producerGroup,
    tranStateTableOffset: params.sendResult.queueOffset,
    commitLogOffset,
    commitOrRollback: params.resolution,
    fromTransactionCheck: false,
    msgId: params.sendResult.msgId,
    transactionId: params.sendResult.transactionId,
    topic: params.topic,
    brokerName: params.brokerName,
  });
}

/**
 * The END_TRANSACTION answering a check: echoes the check's offsets, transaction id, topic and broker,
 * with fromTransactionCheck=true. `msgId` is the message's UNIQ_KEY (its offset id if it has none), and
 * the producer group defaults to the half message's PGROUP. Send it oneway.
 */
export function endTransactionForCheck(
  check: TransactionCheck,
  resolution: TransactionResolution,
  producerGroup: string | undefined = check.producerGroup,
): EndTransactionRequestSpec {
  if (producerGroup === undefined || producerGroup === '') {
    throw bad('half message has no PGROUP property and no producer group was given');
  }
  return endTransactionRequest({
    producerGroup,
    tranStateTableOffset: check.tranStateTableOffset,
    commitLogOffset: check.commitLogOffset,
    commitOrRollback: resolution,
    fromTransactionCheck: true,
    msgId: check.message.properties.get(MessageProperty.UNIQ_KEY) ?? check.message.msgId,
    transactionId: check.transactionId,
    topic: check.topic,
    brokerName: check.brokerName,
  });
}

function bad(message: string): RemotingError {
  return new RemotingError('RMQ_BAD_PAYLOAD', `CHECK_TRANSACTION_STATE ${message}`);
}
