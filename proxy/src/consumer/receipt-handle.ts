/**
 * Receipt handles as clients hold them: the broker's eight-field POP receipt plus the message's
 * commit-log offset. Everything an ack, a change of invisible time or a forward to the DLQ needs is
 * inside (broker name, queue, offsets, retry flag), so any proxy replica can serve it, before or
 * after a restart, without proxy-local state.
 */
import { ProxyError } from '../core/errors.ts';
import { formatPopReceipt, type PopReceipt, parsePopReceipt } from '../remoting/message/pop-receipt.ts';
import type { PoppedMessage } from '../remoting/requests/pop.ts';

/** The handle given to the client for a popped message. */
export function receiptHandleOf(message: Pick<PoppedMessage, 'receipt' | 'commitLogOffset'>): string {
  return formatPopReceipt({ ...message.receipt, commitLogOffset: message.commitLogOffset });
}

/** When the handle stops being honoured by the broker (its message turns visible again). */
export function nextVisibleTime(receipt: PopReceipt): number {
  return receipt.popTime + receipt.invisibleTime;
}

export function isExpired(receipt: PopReceipt, now: number): boolean {
  return nextVisibleTime(receipt) <= now;
}

/** Parses a client's handle; malformed ones are InvalidReceiptHandle naming the bad field. */
export function decodeReceiptHandle(handle: string | undefined): PopReceipt {
  if (handle === undefined || handle.trim() === '') {
    throw new ProxyError('InvalidReceiptHandle', 'receipt handle is blank');
  }
  try {
    return parsePopReceipt(handle);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ProxyError('InvalidReceiptHandle', `receipt handle is malformed: ${reason}`);
  }
}

/** Rejects a handle whose invisible time has passed: the broker would ack nothing with it. */
export function requireUnexpired(receipt: PopReceipt, now: number): PopReceipt {
  if (isExpired(receipt, now)) {
    throw new ProxyError('InvalidReceiptHandle', 'receipt handle is expired');
  }
  return receipt;
}
