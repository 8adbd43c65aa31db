/**
 * An in-process Remoting peer for unit tests of the connection and the pool (the only place a
 * fake peer is allowed; integration tests use the real NameServer and Broker). It speaks frames
 * through frame.ts and is scripted per test: `respond` decides each request's answer, and every
 * frame the client sends can also be awaited with `PeerConnection.next()`.
 */
import { spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import {
  FLAG_ONEWAY,
  FLAG_RESPONSE,
  isResponse,
  type RemotingCommand,
} from '../../../proxy/src/remoting/command.ts';
import { decodeFrame, encodeFrame, FrameReader } from '../../../proxy/src/remoting/frame.ts';

export interface PeerReply {
  code: number;
  remark?: string;
  extFields?: Record<string, string>;
  body?: Buffer;
}

/** Decides the answer to a client request; `undefined` means stay silent. */
export type Responder = (request: RemotingCommand, connection: PeerConnection) => PeerReply | undefined;

/** Answers SUCCESS, echoing the request's header fields and body. */
export const echo: Responder = (request) => ({
  code: 0,
  ...(request.extFields === undefined ? {} : { extFields: request.extFields }),
  ...(request.body === undefined ? {} : { body: request.body }),
});

export const silent: Responder = () => undefined;

export class PeerConnection {
  readonly socket: Socket;
  /** Every frame received from the client, in order. */
  readonly received: RemotingCommand[] = [];
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
  readonly #inbox: RemotingCommand[] = [];
  readonly #waiters: ((command: RemotingCommand) => void)[] = [];
  readonly #reader = new FrameReader();
  #nextOpaque = 1_000_000;
  /** The client half-closed (sent FIN). */
  ended = false;

  constructor(socket: Socket, peer: FakePeer) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    socket.on('end', () => {
      this.ended = true;
      // Answer a graceful close the way Netty does: close our side too.
      if (peer.closeOnEnd) socket.end();
    });
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.#reader.push(chunk)) {
        const command = decodeFrame(frame);
        this.received.push(command);
        const waiter = this.#waiters.shift();
        if (waiter !== undefined) waiter(command);
        else this.#inbox.push(command);
        if (!isResponse(command)) {
          const reply = peer.respond(command, this);
          if (reply !== undefined) this.reply(command, reply);
        }
      }
    });
  }

  /** The next frame from the client not yet taken by an earlier `next()`. */
  next(): Promise<RemotingCommand> {
    const command = this.#inbox.shift();
    if (command !== undefined) return Promise.resolve(command);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Takes the next `count` frames. */
  async take(count: number): Promise<RemotingCommand[]> {
    const commands: RemotingCommand[] = [];
    for (let i = 0; i < count; i++) commands.push(await this.next());
    return commands;
  }

  /** Frames received but not yet taken. */
  get unread(): number {
    return this.#inbox.length;
  }

  reply(request: RemotingCommand, reply: PeerReply): void {
    this.send({
      code: reply.code,
      language: 'JAVA',
      version: 479,
      opaque: request.opaque,
      flag: FLAG_RESPONSE,
      remark: reply.remark,
      extFields: reply.extFields,
      body: reply.body,
    });
  }

  /** Sends a server-initiated request; returns its opaque. */
  request(code: number, options: { oneway?: boolean; extFields?: Record<string, string> } = {}): number {
    const opaque = this.#nextOpaque++;
    this.send({
      code,
      language: 'JAVA',
      version: 479,
      opaque,
      flag: options.oneway ? FLAG_ONEWAY : 0,
      extFields: options.extFields,
    });
    return opaque;
  }

  send(command: RemotingCommand): void {
    this.socket.write(encodeFrame(command, 'JSON'));
  }

  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }
}

export class FakePeer {
  /** How requests are answered; tests replace it at will. */
  respond: Responder;
  /** End our side when the client ends its side (as a real server does). */
  closeOnEnd = true;
  readonly connections: PeerConnection[] = [];
  readonly #server: Server;
  readonly #arrivals: ((connection: PeerConnection) => void)[] = [];

  /** Listens on `port` (default: an ephemeral one) of 127.0.0.1. */
  static async start(respond: Responder = echo, port = 0): Promise<FakePeer> {
    const peer = new FakePeer(respond);
    await new Promise<void>((resolve, reject) => {
      peer.#server.once('error', reject);
      peer.#server.listen({ host: '127.0.0.1', port }, () => resolve());
    });
    return peer;
  }

  private constructor(respond: Responder) {
    this.respond = respond;
    // Half-open allowed so that `closeOnEnd` alone decides whether our FIN is answered.
    this.#server = createServer({ allowHalfOpen: true }, (socket) => {
      const connection = new PeerConnection(socket, this);
      this.connections.push(connection);
      for (const arrived of this.#arrivals.splice(0)) arrived(connection);
    });
  }

  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('peer is not listening');
    return address.port;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The index-th accepted connection, waiting for it if needed. */
  async connection(index = 0): Promise<PeerConnection> {
    while (this.connections.length <= index) {
      await new Promise<PeerConnection>((resolve) => this.#arrivals.push(resolve));
    }
    return this.connections[index]!;
  }

  /** Stops listening; existing connections stay up. */
  async stopListening(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** Stops listening and destroys every connection. */
  async stop(): Promise<void> {
    const closing = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const connection of this.connections) connection.socket.destroy();
    await closing;
  }
}

/** A port on 127.0.0.1 with nothing listening (refuses connects). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * An address whose connects hang, as with a peer behind a firewall that drops SYNs: a listener in
 * a child process whose event loop is blocked (so it never accepts) and whose accept queue we
 * fill first; the kernel then drops further SYNs. Call `stop()` when done.
 */
export async function blackHole(): Promise<{ address: string; stop: () => void }> {
  const script =
    "const s=require('node:net').createServer().listen({host:'127.0.0.1',port:0,backlog:1},()=>{" +
    "process.stdout.write(s.address().port+'\\n');Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0)})";
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (data: Buffer) => resolve(Number(String(data).trim())));
  });
  const fillers: Socket[] = [];
  const stop = (): void => {
    for (const socket of fillers) socket.destroy();
    child.kill('SIGKILL');
  };
  // Fill the accept queue until a connect no longer completes.
  for (let i = 0; i < 32; i++) {
    const socket = connect({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    fillers.push(socket);
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 100);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!connected) return { address: `127.0.0.1:${port}`, stop };
  }
  stop();
  throw new Error('could not fill the accept queue of the black-hole listener');
}
