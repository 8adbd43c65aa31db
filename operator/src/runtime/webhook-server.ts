/**
 * The manager's admission webhook server: HTTPS (the API server calls webhooks over TLS only), handlers
 * registered by path, AdmissionReview v1 in and out. The serving certificate can be swapped while
 * running — new connections get the new one, open ones finish on the old — so a renewed certificate
 * needs no restart. Runs on every replica, leader or not: the API server calls whichever the Service picks.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import { createSecureContext } from 'node:tls';
import { type AdmissionHandler, InvalidReviewError, parseReview, review } from './admission.ts';
import { closeServer, listen } from './listen.ts';
import type { LogLevel } from './log.ts';

/** PEM serving certificate (chain) and its private key. */
export interface ServingCertificate {
  cert: string | Buffer;
  key: string | Buffer;
}

export interface WebhookServerOptions {
  port: number;
  host?: string;
  certificate: ServingCertificate;
  log?: (level: LogLevel, message: string) => void;
  /** Larger bodies get 413; the API server's own limit on objects is 3 MiB, a review can hold two. */
  maxBodyBytes?: number;
}

const DEFAULT_MAX_BODY_BYTES = 7 * 1024 * 1024;
const TLS_FLOOR = { minVersion: 'TLSv1.2' } as const;

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export class WebhookServer {
  readonly #o: WebhookServerOptions;
  readonly #handlers = new Map<string, AdmissionHandler>();
  #certificate: ServingCertificate;
  #server: Server | undefined;
  #port: number | undefined;

  constructor(options: WebhookServerOptions) {
    this.#o = options;
    createSecureContext({ ...options.certificate, ...TLS_FLOOR });
    this.#certificate = options.certificate;
  }

  /** Serves `handler` at `path` (e.g. /mutate-pods); the API server's clientConfig names the same path. */
  register(path: string, handler: AdmissionHandler): void {
    if (!path.startsWith('/')) throw new Error(`webhook path must start with /: ${path}`);
    if (this.#handlers.has(path)) throw new Error(`a webhook is already registered at ${path}`);
    this.#handlers.set(path, handler);
  }

  /** Replaces the serving certificate for new connections; a certificate that does not match its key throws. */
  setCertificate(certificate: ServingCertificate): void {
    createSecureContext({ ...certificate, ...TLS_FLOOR });
    this.#certificate = certificate;
    this.#server?.setSecureContext({ ...certificate, ...TLS_FLOOR });
  }

  /** The bound port once started. */
  get port(): number | undefined {
    return this.#port;
  }

  async start(): Promise<number> {
    if (this.#server) throw new Error('the webhook server is already started');
    const server = createServer({ ...this.#certificate, ...TLS_FLOOR }, (req, res) => {
      void this.#serve(req, res);
    });
    // The API server gives a webhook at most 30 s; a request still open after that is abandoned.
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    this.#server = server;
    this.#port = await listen(server, this.#o.port, this.#o.host ?? '0.0.0.0');
    return this.#port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (server) await closeServer(server);
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const handler = this.#handlers.get(new URL(req.url ?? '/', 'https://webhook').pathname);
      if (!handler) throw new HttpError(404, `no webhook at ${req.url}`);
      if (req.method !== 'POST') throw new HttpError(405, 'webhooks take POST');
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
      if (type !== 'application/json') throw new HttpError(415, `expected application/json, got ${type}`);
      const request = parseReview(await this.#readJson(req));
      const answer = JSON.stringify(await review(request, handler));
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(answer);
    } catch (error) {
      const status =
        error instanceof HttpError ? error.status : error instanceof InvalidReviewError ? 400 : 500;
      if (status === 500) this.#o.log?.('error', `webhook ${req.url}: ${String(error)}`);
      res
        .writeHead(status, { 'Content-Type': 'text/plain', Connection: 'close' })
        .end(`${(error as Error).message}\n`);
    }
  }

  async #readJson(req: IncomingMessage): Promise<unknown> {
    const max = this.#o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    if (Number(req.headers['content-length'] ?? 0) > max) throw new HttpError(413, `body over ${max} bytes`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) throw new HttpError(413, `body over ${max} bytes`);
      chunks.push(chunk);
    }
    try {
      return JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch (error) {
      throw new InvalidReviewError(`the body is not JSON: ${(error as Error).message}`);
    }
  }
}
