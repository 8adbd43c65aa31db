/**
 * Thin helpers around the official Node client `rocketmq-client-nodejs` for end-to-end tests: producers
 * and simple consumers with `namespace: ''` (required by its types), a logger that writes into a temp dir
 * instead of ~/logs (its default is `os.homedir()/logs/rocketmq`), and a clean shutdown of everything made.
 *
 *   const node = new NodeClients();
 *   const producer = await node.producer({ endpoint, topics: [topic] });
 *   await producer.send({ topic, body: Buffer.from('x'), tag: 'a' });
 *   await node.close();
 */
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format } from 'node:util';
import {
  type ILogger,
  type MessageView,
  Producer,
  SimpleConsumer,
  type TransactionChecker,
} from 'rocketmq-client-nodejs';
// google-protobuf's generated CommonJS exposes no static named exports: take the enum off the default export.
import definitions from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import { withTimeout } from '../support/wait.ts';
import { CHECK_RESOLUTION_PROPERTY } from './java-client.ts';
import { removeDir } from './process.ts';

const { TransactionResolution } = definitions;
type TransactionResolution = (typeof TransactionResolution)[keyof typeof TransactionResolution];

export type Resolution = 'COMMIT' | 'ROLLBACK' | 'UNKNOWN';

const RESOLUTIONS: Readonly<Record<Resolution, TransactionResolution>> = {
  COMMIT: TransactionResolution.COMMIT,
  ROLLBACK: TransactionResolution.ROLLBACK,
  UNKNOWN: TransactionResolution.TRANSACTION_RESOLUTION_UNSPECIFIED,
};

export interface NodeProducerOptions {
  endpoint: string;
  topics?: string[] | undefined;
  /**
   * Transaction checker answer, unless the message carries CHECK_RESOLUTION_PROPERTY; every call is
   * recorded in NodeClients.checks.
   */
  checker?: Resolution | undefined;
  requestTimeoutMs?: number | undefined;
  maxAttempts?: number | undefined;
  /**
   * startup() waits for the proxy's Settings reply with no timeout of its own, and with several
   * declared topics it can miss that reply (see test/e2e/support/publishers.ts); default 60 s.
   */
  startupTimeoutMs?: number | undefined;
}

export interface NodeConsumerOptions {
  endpoint: string;
  group: string;
  topic: string;
  awaitMs?: number | undefined;
  requestTimeoutMs?: number | undefined;
  startupTimeoutMs?: number | undefined;
}

export interface NodeCheck {
  messageId: string;
  topic: string;
  body: Buffer;
  tag: string | undefined;
  keys: string[];
  resolution: Resolution;
}

function isResolution(value: string | undefined): value is Resolution {
  return value === 'COMMIT' || value === 'ROLLBACK' || value === 'UNKNOWN';
}

/** A logger for the Node client that appends to a file in our temp dir (and never throws). */
function fileLogger(path: string): ILogger {
  const write = (level: string, args: unknown[]): void => {
    try {
      appendFileSync(path, `${new Date().toISOString()} ${level} ${format(...args)}\n`);
    } catch {
      // A log line is never worth failing a test.
    }
  };
  return {
    info: (...args: unknown[]) => write('INFO', args),
    warn: (...args: unknown[]) => write('WARN', args),
    error: (...args: unknown[]) => write('ERROR', args),
    debug: (...args: unknown[]) => write('DEBUG', args),
  };
}

/** Owns every Node client a test makes, so one close() shuts them all down and removes the log dir. */
export class NodeClients {
  readonly dir: string;
  readonly logFile: string;
  readonly checks: NodeCheck[] = [];
  readonly #clients = new Set<Producer | SimpleConsumer>();
  readonly #keep: boolean;

  constructor(options: { keep?: boolean | undefined } = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'rmqp-nodeclient-'));
    this.logFile = join(this.dir, 'rocketmq_client_nodejs.log');
    this.#keep = options.keep ?? process.env['RMQP_KEEP_PEERS'] === '1';
  }

  /** Builds and starts a Producer (startup() resolves once the proxy answered its Settings). */
  async producer(options: NodeProducerOptions): Promise<Producer> {
    const decision = options.checker;
    const checker: TransactionChecker | undefined =
      decision === undefined
        ? undefined
        : {
            check: async (view: MessageView) => {
              const wanted = view.properties.get(CHECK_RESOLUTION_PROPERTY);
              const resolution = isResolution(wanted) ? wanted : decision;
              this.checks.push({
                messageId: view.messageId,
                topic: view.topic,
                body: Buffer.from(view.body),
                tag: view.tag,
                keys: [...view.keys],
                resolution,
              });
              return RESOLUTIONS[resolution];
            },
          };
    const producer = new Producer({
      endpoints: options.endpoint,
      namespace: '',
      topics: options.topics,
      requestTimeout: options.requestTimeoutMs ?? 5000,
      maxAttempts: options.maxAttempts,
      checker,
      logger: fileLogger(this.logFile),
    });
    this.#clients.add(producer);
    await withTimeout(producer.startup(), options.startupTimeoutMs ?? 60_000, 'Node producer startup');
    return producer;
  }

  async simpleConsumer(options: NodeConsumerOptions): Promise<SimpleConsumer> {
    const consumer = new SimpleConsumer({
      endpoints: options.endpoint,
      namespace: '',
      consumerGroup: options.group,
      subscriptions: new Map([[options.topic, '*']]),
      awaitDuration: options.awaitMs ?? 5000,
      requestTimeout: options.requestTimeoutMs ?? 5000,
      logger: fileLogger(this.logFile),
    });
    this.#clients.add(consumer);
    await withTimeout(consumer.startup(), options.startupTimeoutMs ?? 60_000, 'Node simple consumer startup');
    return consumer;
  }

  /** Waits until the checker has been called for a message matching `predicate`. */
  async waitForCheck(predicate: (check: NodeCheck) => boolean, timeoutMs: number): Promise<NodeCheck> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.checks.find(predicate);
      if (found) return found;
      if (Date.now() >= deadline) {
        throw new Error(`no matching transaction check within ${timeoutMs} ms (${this.checks.length} seen)`);
      }
      await new Promise((resolvePromise) => setTimeout(resolvePromise, 100));
    }
  }

  /** Shuts every client down (errors are collected, not thrown one by one) and removes the log dir. */
  async close(): Promise<void> {
    const clients = [...this.#clients];
    this.#clients.clear();
    const results = await Promise.allSettled(clients.map((client) => client.shutdown()));
    if (!this.#keep) removeDir(this.dir);
    const failed = results.filter((result) => result.status === 'rejected');
    if (failed.length > 0) {
      throw new AggregateError(
        failed.map((result) => (result as PromiseRejectedResult).reason),
        `${failed.length} Node client(s) failed to shut down`,
      );
    }
  }
}
