/**
 * The official RocketMQ Java client (org.apache.rocketmq:rocketmq-client-java), driven from TypeScript
 * tests through test/clients/java/src/RmqpClientDriver.java: one JVM per JavaClient, JSON lines on
 * stdin/stdout, typed methods with timeouts.
 *
 *   const java = await JavaClient.start();
 *   await java.startProducer({ producer: 'p', endpoint, tls: true, topics: [topic] });
 *   const { messageId } = await java.send('p', { topic, body: Buffer.from('x'), tag: 'a' });
 *   await java.close();
 *
 * The classpath comes from Maven (`dependency:build-classpath`, jars stay in ~/.m2) and the driver is
 * compiled with javac into the per-user cache, keyed by the source's hash, never into the repository.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { cacheRoot } from './cache.ts';
import { onAbnormalExit, removeDir, tailOfFile } from './process.ts';
import { MAVEN_DEPENDENCY_PLUGIN } from './versions.ts';

/** Newest rocketmq-client-java that resolves on Maven Central (5.2.1/5.2.2 are announced but 404 there). */
export const JAVA_CLIENT_VERSION = '5.2.0';

export const JAVA_CLIENT_POM = resolve(import.meta.dirname, '../clients/java/pom.xml');
export const JAVA_DRIVER_SOURCE = resolve(import.meta.dirname, '../clients/java/src/RmqpClientDriver.java');
const DRIVER_MAIN = 'RmqpClientDriver';

export interface JavaClientBuild {
  /** The full classpath: compiled driver classes, then the client jar(s). */
  classpath: string;
  version: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (error) => reject(new Error(`cannot run ${command}: ${error.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolvePromise();
      else
        reject(
          new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}):\n${output.trim()}`),
        );
    });
  });
}

/**
 * Resolves the client jar through Maven (once per version) and compiles the driver (once per source
 * hash) into <cache>/rocketmq-client-java-<version>/. Each step writes into a temp sibling and renames it
 * into place, so concurrent or interrupted runs never see half a result.
 */
export async function ensureJavaClient(
  options: { env?: NodeJS.ProcessEnv; log?: (line: string) => void } = {},
): Promise<JavaClientBuild> {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = join(cacheRoot(env), `rocketmq-client-java-${JAVA_CLIENT_VERSION}`);
  mkdirSync(dir, { recursive: true });
  const mavenOpts = [env['MAVEN_OPTS'], '-XX:-UsePerfData'].filter(Boolean).join(' ');
  const toolEnv = { ...env, MAVEN_OPTS: mavenOpts };

  const pomHash = createHash('sha256').update(readFileSync(JAVA_CLIENT_POM)).digest('hex').slice(0, 16);
  const cpFile = join(dir, `classpath-${pomHash}.txt`);
  if (!existsSync(cpFile)) {
    log(`resolving rocketmq-client-java ${JAVA_CLIENT_VERSION} from Maven Central`);
    const partial = `${cpFile}.partial-${process.pid}`;
    await run(
      'mvn',
      [
        '-B',
        '-q',
        '-f',
        JAVA_CLIENT_POM,
        `${MAVEN_DEPENDENCY_PLUGIN}:build-classpath`,
        `-Dclient.version=${JAVA_CLIENT_VERSION}`,
        `-Dmdep.outputFile=${partial}`,
      ],
      dirname(JAVA_CLIENT_POM),
      toolEnv,
    );
    if (readFileSync(partial, 'utf8').trim() === '') throw new Error('Maven resolved an empty classpath');
    renameSync(partial, cpFile);
  }
  const jars = readFileSync(cpFile, 'utf8').trim();

  const sourceHash = createHash('sha256').update(readFileSync(JAVA_DRIVER_SOURCE)).digest('hex').slice(0, 16);
  const classes = join(dir, `driver-${sourceHash}`);
  if (!existsSync(join(classes, `${DRIVER_MAIN}.class`))) {
    log(`compiling ${JAVA_DRIVER_SOURCE} into ${classes}`);
    const partial = `${classes}.partial-${process.pid}`;
    rmSync(partial, { recursive: true, force: true });
    mkdirSync(partial);
    const javac = env['JAVA_HOME'] ? join(env['JAVA_HOME'], 'bin', 'javac') : 'javac';
    await run(javac, ['--release', '17', '-d', partial, '-cp', jars, JAVA_DRIVER_SOURCE], dir, toolEnv);
    try {
      renameSync(partial, classes);
    } catch (error) {
      rmSync(partial, { recursive: true, force: true });
      if (!existsSync(join(classes, `${DRIVER_MAIN}.class`))) throw error;
    }
  }
  return { classpath: `${classes}:${jars}`, version: JAVA_CLIENT_VERSION };
}

export type TransactionResolution = 'COMMIT' | 'ROLLBACK' | 'UNKNOWN';

/**
 * A user property naming the checker's answer for that one message (overriding the producer's default),
 * understood by the Java driver and by node-client.ts, so one producer can serve every transaction scenario.
 */
export const CHECK_RESOLUTION_PROPERTY = 'rmqp-check-resolution';

export interface JavaClientConnection {
  /** `host:port` of the proxy. */
  endpoint: string;
  /** TLS is the Java client's default; false calls enableSsl(false). */
  tls?: boolean | undefined;
  requestTimeoutMs?: number | undefined;
}

export interface StartProducerOptions extends JavaClientConnection {
  producer: string;
  topics?: string[] | undefined;
  maxAttempts?: number | undefined;
  /**
   * Installs a transaction checker that answers this resolution, unless the message carries
   * CHECK_RESOLUTION_PROPERTY, and reports each call as a CheckEvent.
   */
  checker?: TransactionResolution | undefined;
}

export interface JavaMessage {
  topic: string;
  body: Buffer;
  tag?: string | undefined;
  keys?: string[] | undefined;
  properties?: Record<string, string> | undefined;
  messageGroup?: string | undefined;
  /** Epoch milliseconds. */
  deliveryTimestamp?: number | undefined;
}

export interface SendOutcome {
  messageId: string;
  /** Empty unless the message is a delay message on a proxy that supports recall. */
  recallHandle: string;
}

export interface ReceivedMessage {
  messageId: string;
  topic: string;
  body: Buffer;
  tag: string | null;
  keys: string[];
  messageGroup: string | null;
  deliveryTimestamp: number | null;
  properties: Record<string, string>;
  bornTimestamp: number;
  deliveryAttempt: number;
}

/** One call of a producer's transaction checker (the broker's check, relayed by the proxy). */
export interface CheckEvent extends ReceivedMessage {
  producer: string;
  resolution: TransactionResolution;
}

export interface StartConsumerOptions extends JavaClientConnection {
  consumer: string;
  group: string;
  topic: string;
  filter?: string | undefined;
  awaitMs?: number | undefined;
}

export interface StartPushConsumerOptions extends JavaClientConnection {
  consumer: string;
  group: string;
  topic: string;
  filter?: string | undefined;
  /** Consumption threads (default 4). */
  threads?: number | undefined;
}

/**
 * A user property the push consumer's listener obeys: `FAILURE` makes it answer ConsumeResult.FAILURE
 * for that message (anything else, or none, answers SUCCESS).
 */
export const CONSUME_RESULT_PROPERTY = 'rmqp-consume-result';

/** One call of a push consumer's listener, with what it returned and when (epoch ms). */
export interface ConsumedEvent extends ReceivedMessage {
  consumer: string;
  result: 'SUCCESS' | 'FAILURE';
  at: number;
}

/** A failed command: the Java exception's class, message and (when it carries one) the response code. */
export class JavaClientError extends Error {
  readonly type: string;
  readonly code: number | null;
  constructor(op: string, type: string, message: string, code: number | null) {
    super(`${op}: ${type}: ${message}`);
    this.name = 'JavaClientError';
    this.type = type;
    this.code = code;
  }
}

interface WireMessage extends Omit<ReceivedMessage, 'body'> {
  body: string;
}

interface Pending {
  op: string;
  resolve: (value: Record<string, unknown>) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export interface JavaClientOptions {
  /** Default per-command timeout (default 30 s: producer start-up alone can take a few seconds). */
  timeoutMs?: number | undefined;
  env?: NodeJS.ProcessEnv | undefined;
  log?: ((line: string) => void) | undefined;
  /** Keep the temp dir (client logs) after close (default RMQP_KEEP_PEERS=1). */
  keep?: boolean | undefined;
}

function decodeMessage(wire: WireMessage): ReceivedMessage {
  return { ...wire, body: Buffer.from(wire.body, 'base64') };
}

export class JavaClient {
  /** Temp dir: user.home (client logs under logs/rocketmq) and the driver's stderr. */
  readonly dir: string;
  readonly checks: CheckEvent[] = [];
  /** Every push consumer listener call so far, in the order the listeners ran. */
  readonly consumed: ConsumedEvent[] = [];
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #pending = new Map<number, Pending>();
  readonly #checkWaiters = new Set<() => void>();
  readonly #timeoutMs: number;
  readonly #keep: boolean;
  readonly #forgetCleanup: () => void;
  readonly #exited: Promise<void>;
  #nextId = 1;
  #exitReason: string | undefined;

  private constructor(child: ChildProcessWithoutNullStreams, dir: string, options: JavaClientOptions) {
    this.#child = child;
    this.dir = dir;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#keep = options.keep ?? (options.env ?? process.env)['RMQP_KEEP_PEERS'] === '1';
    this.#forgetCleanup = onAbnormalExit(() => {
      child.kill('SIGKILL');
      if (!this.#keep) removeDir(dir);
    });
    this.#exited = new Promise((resolvePromise) => {
      child.once('exit', (code, signal) => {
        this.#exitReason = `Java client driver exited (${signal ?? `code ${code}`})`;
        this.#failAll(new Error(`${this.#exitReason}\n${this.stderrTail()}`));
        resolvePromise();
      });
    });
  }

  /** Builds (if needed) and starts the driver JVM; resolves once it reports ready. */
  static async start(options: JavaClientOptions = {}): Promise<JavaClient> {
    const env = options.env ?? process.env;
    const build = await ensureJavaClient({ env, log: options.log });
    const dir = mkdtempSync(join(tmpdir(), 'rmqp-javaclient-'));
    const home = join(dir, 'home');
    mkdirSync(home);
    const stderr = openSync(join(dir, 'driver.err'), 'a');
    const java = env['JAVA_HOME'] ? join(env['JAVA_HOME'], 'bin', 'java') : 'java';
    const child = spawn(
      java,
      [
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        '-XX:-UsePerfData',
        '-Xmx256m',
        `-Duser.home=${home}`,
        `-Djava.io.tmpdir=${dir}`,
        '-cp',
        build.classpath,
        DRIVER_MAIN,
      ],
      { cwd: dir, env, stdio: ['pipe', 'pipe', stderr] },
    ) as unknown as ChildProcessWithoutNullStreams;
    const client = new JavaClient(child, dir, options);
    const ready = new Promise<void>((resolvePromise, reject) => {
      client.#onReady = resolvePromise;
      client.#exited.then(() => reject(new Error(`${client.#exitReason}\n${client.stderrTail()}`)));
    });
    createInterface({ input: child.stdout }).on('line', (line) => client.#onLine(line));
    const timer = setTimeout(() => client.#child.kill('SIGKILL'), 60_000);
    try {
      await ready;
    } finally {
      clearTimeout(timer);
    }
    return client;
  }

  #onReady: (() => void) | undefined;

  #onLine(line: string): void {
    let message: Record<string, unknown>;
    try {
      message = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    if (message['event'] === 'ready') {
      this.#onReady?.();
      return;
    }
    if (message['event'] === 'check') {
      const { event: _event, ...check } = message;
      this.checks.push(decodeMessage(check as unknown as WireMessage) as CheckEvent);
      for (const wake of this.#checkWaiters) wake();
      return;
    }
    if (message['event'] === 'consumed') {
      const { event: _event, ...consumed } = message;
      this.consumed.push(decodeMessage(consumed as unknown as WireMessage) as ConsumedEvent);
      for (const wake of this.#checkWaiters) wake();
      return;
    }
    const id = message['id'];
    if (typeof id !== 'number') return;
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    if (message['ok'] === true) {
      pending.resolve(message);
    } else {
      const error = (message['error'] ?? {}) as { type?: string; message?: string; code?: number | null };
      pending.reject(
        new JavaClientError(pending.op, error.type ?? 'unknown', error.message ?? '', error.code ?? null),
      );
    }
  }

  #failAll(error: Error): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      this.#pending.delete(id);
      pending.reject(error);
    }
  }

  /** Sends one command and waits for its result (or the timeout). */
  command(
    op: string,
    fields: Record<string, unknown>,
    timeoutMs = this.#timeoutMs,
  ): Promise<Record<string, unknown>> {
    if (this.#exitReason) return Promise.reject(new Error(this.#exitReason));
    const id = this.#nextId++;
    return new Promise((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`Java client ${op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { op, resolve: resolvePromise, reject, timer });
      this.#child.stdin.write(`${JSON.stringify({ ...fields, id, op })}\n`);
    });
  }

  async startProducer(options: StartProducerOptions): Promise<void> {
    await this.command('producer.start', { ...options });
  }

  /** Sends a message; with `transaction` it runs begin → send → commit/rollback (or leaves it open: `none`). */
  async send(
    producer: string,
    message: JavaMessage,
    transaction?: 'commit' | 'rollback' | 'none',
  ): Promise<SendOutcome> {
    const result = await this.command('producer.send', {
      producer,
      transaction,
      message: { ...message, body: message.body.toString('base64') },
    });
    return { messageId: String(result['messageId']), recallHandle: String(result['recallHandle'] ?? '') };
  }

  async recall(producer: string, topic: string, recallHandle: string): Promise<{ messageId: string }> {
    const result = await this.command('producer.recall', { producer, topic, recallHandle });
    return { messageId: String(result['messageId']) };
  }

  async closeProducer(producer: string): Promise<void> {
    await this.command('producer.close', { producer });
  }

  async startSimpleConsumer(options: StartConsumerOptions): Promise<void> {
    await this.command('consumer.start', { ...options });
  }

  async receive(consumer: string, max = 16, invisibleMs = 15_000): Promise<ReceivedMessage[]> {
    const result = await this.command('consumer.receive', { consumer, max, invisibleMs });
    return (result['messages'] as WireMessage[]).map(decodeMessage);
  }

  async ack(consumer: string, messageId: string): Promise<void> {
    await this.command('consumer.ack', { consumer, messageId });
  }

  /** Extends a received message's invisibility; the driver keeps the renewed receipt for a later ack. */
  async changeInvisibleDuration(consumer: string, messageId: string, invisibleMs: number): Promise<void> {
    await this.command('consumer.changeInvisible', { consumer, messageId, invisibleMs });
  }

  async startPushConsumer(options: StartPushConsumerOptions): Promise<void> {
    await this.command('push.start', { ...options });
  }

  async closePushConsumer(consumer: string): Promise<void> {
    await this.command('push.close', { consumer });
  }

  /** Waits until `predicate` holds over the push consumers' listener calls seen so far. */
  async waitForConsumed(
    predicate: (consumed: readonly ConsumedEvent[]) => boolean,
    timeoutMs: number,
  ): Promise<ConsumedEvent[]> {
    if (predicate(this.consumed)) return [...this.consumed];
    return new Promise((resolvePromise, reject) => {
      const wake = (): void => {
        if (!predicate(this.consumed)) return;
        clearTimeout(timer);
        this.#checkWaiters.delete(wake);
        resolvePromise([...this.consumed]);
      };
      const timer = setTimeout(() => {
        this.#checkWaiters.delete(wake);
        reject(
          new Error(`push consumption incomplete after ${timeoutMs} ms (${this.consumed.length} calls seen)`),
        );
      }, timeoutMs);
      this.#checkWaiters.add(wake);
    });
  }

  async closeConsumer(consumer: string): Promise<void> {
    await this.command('consumer.close', { consumer });
  }

  /** Waits until a checker call matching `predicate` has been reported. */
  async waitForCheck(predicate: (check: CheckEvent) => boolean, timeoutMs: number): Promise<CheckEvent> {
    const found = (): CheckEvent | undefined => this.checks.find(predicate);
    const already = found();
    if (already) return already;
    return new Promise((resolvePromise, reject) => {
      const wake = (): void => {
        const check = found();
        if (!check) return;
        clearTimeout(timer);
        this.#checkWaiters.delete(wake);
        resolvePromise(check);
      };
      const timer = setTimeout(() => {
        this.#checkWaiters.delete(wake);
        reject(
          new Error(`no matching transaction check within ${timeoutMs} ms (${this.checks.length} seen)`),
        );
      }, timeoutMs);
      this.#checkWaiters.add(wake);
    });
  }

  /** The last lines the driver (and the client library) wrote on stderr. */
  stderrTail(lines = 30): string {
    return tailOfFile(join(this.dir, 'driver.err'), lines);
  }

  /** Closes every client in the JVM and waits for it to exit (SIGKILL after `graceMs`). Idempotent. */
  async close(graceMs = 15_000): Promise<void> {
    if (!this.#exitReason) {
      this.#child.stdin.end(`${JSON.stringify({ op: 'exit' })}\n`);
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
      await this.#exited;
      clearTimeout(timer);
    }
    this.#forgetCleanup();
    if (!this.#keep) removeDir(this.dir);
  }
}
