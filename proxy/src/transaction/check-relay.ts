/**
 * Broker-initiated transaction checks. Brokers send CHECK_TRANSACTION_STATE on the connection that
 * registered the producer group (the broker registrar's HEART_BEAT); the relay finds an open channel
 * of a client of that group (the group is the topic) and asks it to resolve the half message, with a
 * transaction id that lets any proxy end the transaction. The client answers with an end of the
 * transaction marked as coming from a check. Nothing is answered to the broker: the check is oneway,
 * and an unanswered check is simply repeated later.
 */
import type { RouteService } from '../cluster/route-service.ts';
import { messageView } from '../core/message-view.ts';
import { encodeTransactionId } from '../core/transaction-id.ts';
import type { RemotingCommand } from '../remoting/command.ts';
import type { RemotingConnection } from '../remoting/connection.ts';
import { MessageProperty } from '../remoting/message/properties.ts';
import { parseCheckTransactionState, type TransactionCheck } from '../remoting/requests/transaction.ts';
import type { ClientRegistry } from '../session/registry.ts';

export interface CheckRelayLogger {
  debug(object: object, message: string): void;
  info(object: object, message: string): void;
  warn(object: object, message: string): void;
}

export interface CheckRelayOptions {
  registry: Pick<ClientRegistry, 'channelFor'>;
  /** Broker name of a broker address (the check's connection), for checks that do not carry `bname`. */
  brokerNameOf: (address: string) => Promise<string | undefined>;
  logger: CheckRelayLogger;
  /** Clients tried before giving up on a check (default 3, as the Java proxy). */
  maxChannelTries?: number | undefined;
  now?: (() => number) | undefined;
}

export type CheckOutcome =
  | { delivered: true; clientId: string; transactionId: string }
  | { delivered: false; reason: string };

export class TransactionCheckRelay {
  readonly #options: CheckRelayOptions;

  constructor(options: CheckRelayOptions) {
    this.#options = options;
  }

  /** The pool request handler: never answers the (oneway) check, never throws. */
  readonly handle = async (command: RemotingCommand, connection: Pick<RemotingConnection, 'address'>) => {
    try {
      const outcome = await this.relay(parseCheckTransactionState(command), connection.address);
      if (!outcome.delivered) {
        this.#options.logger.debug(
          { broker: connection.address, reason: outcome.reason },
          'transaction check not relayed',
        );
      }
    } catch (error) {
      this.#options.logger.warn(
        { err: error, broker: connection.address },
        'cannot relay a transaction check',
      );
    }
    return undefined;
  };

  async relay(check: TransactionCheck, brokerAddress: string): Promise<CheckOutcome> {
    const group = check.producerGroup;
    if (group === undefined || group === '')
      return { delivered: false, reason: 'the half message has no PGROUP' };
    const brokerName = check.brokerName || (await this.#options.brokerNameOf(brokerAddress));
    if (brokerName === undefined) {
      return { delivered: false, reason: `no broker name is known for ${brokerAddress}` };
    }
    const uniqueId = check.message.properties.get(MessageProperty.UNIQ_KEY);
    const transactionId = encodeTransactionId({
      brokerName,
      tranStateTableOffset: check.tranStateTableOffset,
      commitLogOffset: check.commitLogOffset,
      brokerTransactionId: check.transactionId || uniqueId || check.message.msgId,
    });
    const message = messageView(check.message, (this.#options.now ?? Date.now)());
    const tries = this.#options.maxChannelTries ?? 3;
    for (let i = 0; i < tries; i++) {
      const target = this.#options.registry.channelFor(group);
      if (target === undefined) break;
      if (target.channel.checkTransaction({ message, transactionId })) {
        this.#options.logger.info(
          { clientId: target.clientId, group, messageId: message.messageId },
          'relayed a transaction check to a producer',
        );
        return { delivered: true, clientId: target.clientId, transactionId };
      }
    }
    return { delivered: false, reason: `no producer of group ${group} has an open channel` };
  }
}

/** Broker name of a broker address, from the cluster map (masters and slaves). */
export async function brokerNameOf(
  routes: Pick<RouteService, 'clusterInfo'>,
  address: string,
): Promise<string | undefined> {
  const info = await routes.clusterInfo();
  for (const broker of info.brokers.values()) {
    for (const brokerAddress of broker.brokerAddrs.values())
      if (brokerAddress === address) return broker.brokerName;
  }
  return undefined;
}

/** The check relay for `pool.onRequest(CHECK_TRANSACTION_STATE, relay.handle)`. */
export function createCheckRelay(deps: {
  routes: Pick<RouteService, 'clusterInfo'>;
  registry: Pick<ClientRegistry, 'channelFor'>;
  logger: CheckRelayLogger & { child(bindings: object): CheckRelayLogger };
}): TransactionCheckRelay {
  return new TransactionCheckRelay({
    registry: deps.registry,
    brokerNameOf: (address) => brokerNameOf(deps.routes, address),
    logger: deps.logger.child({ component: 'transaction-check' }),
  });
}
