/**
 * A small JSON client for the Kubernetes API. @kubernetes/client-node supplies the kubeconfig handling
 * (in-cluster service-account token with periodic re-read, client certificates, exec plugins) through
 * KubeConfig.applyToHTTPSOptions; requests themselves are raw JSON over node:https so that:
 *  - every patch states its content type explicitly (apply-patch+yaml for server-side apply, merge-patch
 *    for the rare update), instead of the generated clients picking the first one they know;
 *  - objects are never round-tripped through the typed models, which silently drop fields they do not
 *    know (e.g. `x-kubernetes-validations` in CRDs) — what we build is exactly what the server receives;
 *  - watches are plain line-delimited streams we can abort, time out and resume from a resourceVersion.
 */

import type { IncomingMessage } from 'node:http';
import { Agent, request as httpsRequest, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface Status {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

/** A non-2xx answer of the API server, with its Status reason (Conflict, NotFound, Invalid, Expired…). */
export class KubeApiError extends Error {
  readonly code: number;
  readonly reason: string;
  constructor(method: string, path: string, code: number, status: Status | undefined, raw: string) {
    super(
      `${method} ${path}: HTTP ${code} ${status?.reason ?? ''} ${status?.message ?? raw.slice(0, 300)}`.trim(),
    );
    this.name = 'KubeApiError';
    this.code = code;
    this.reason = status?.reason ?? '';
  }
}

export const isNotFound = (error: unknown): boolean => error instanceof KubeApiError && error.code === 404;
export const isConflict = (error: unknown): boolean => error instanceof KubeApiError && error.code === 409;
export const isGone = (error: unknown): boolean => error instanceof KubeApiError && error.code === 410;
/** 400/422: the request itself is wrong; retrying the same request cannot help. */
export const isInvalid = (error: unknown): boolean =>
  error instanceof KubeApiError && (error.code === 422 || error.code === 400);

export const ContentType = {
  JSON: 'application/json',
  MERGE_PATCH: 'application/merge-patch+json',
  APPLY_PATCH: 'application/apply-patch+yaml',
} as const;
export type ContentType = (typeof ContentType)[keyof typeof ContentType];

export interface RequestInit {
  body?: unknown;
  contentType?: ContentType;
  query?: Record<string, string | number | boolean | undefined>;
  timeoutMs?: number;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: Record<string, unknown>;
}

export interface KubeClient {
  request<T>(method: string, path: string, init?: RequestInit): Promise<T>;
  /**
   * Streams watch events until the server closes the stream, `signal` aborts (resolves), or an error
   * (rejects). Callback exceptions abort the watch and reject — they are never swallowed.
   */
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void>;
}

function withQuery(path: string, query: RequestInit['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {}))
    if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text ? `${path}${path.includes('?') ? '&' : '?'}${text}` : path;
}

function parseStatus(raw: string): Status | undefined {
  try {
    return JSON.parse(raw) as Status;
  } catch {
    return undefined;
  }
}

export class HttpsKubeClient implements KubeClient {
  readonly #config: KubeConfig;
  readonly #server: URL;
  readonly #viaProxy: boolean;
  #keepAlive: { material: string; agent: Agent } | undefined;

  constructor(config: KubeConfig) {
    const cluster = config.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    this.#config = config;
    this.#server = new URL(cluster.server);
    this.#viaProxy = Boolean(cluster.proxyUrl);
  }

  /**
   * client-node's agent does not keep connections alive, so every request would pay a TLS handshake
   * (most of the operator's CPU when it reconciles hundreds of objects). Use a keep-alive agent with the
   * same TLS material instead — a new one if the material changes (rotated client certificates).
   */
  #keepAliveAgent(options: RequestOptions): Agent {
    const material = JSON.stringify([options.ca, options.cert, options.key, options.rejectUnauthorized]);
    if (this.#keepAlive?.material !== material) {
      this.#keepAlive?.agent.destroy();
      this.#keepAlive = {
        material,
        agent: new Agent({
          keepAlive: true,
          maxFreeSockets: 16,
          ...(options.ca !== undefined ? { ca: options.ca } : {}),
          ...(options.cert !== undefined ? { cert: options.cert } : {}),
          ...(options.key !== undefined ? { key: options.key } : {}),
          ...(options.rejectUnauthorized !== undefined
            ? { rejectUnauthorized: options.rejectUnauthorized }
            : {}),
        }),
      };
    }
    return this.#keepAlive.agent;
  }

  async #options(method: string, path: string, headers: Record<string, string>): Promise<RequestOptions> {
    const url = new URL(path, this.#server);
    const options: RequestOptions = {
      method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      path: `${url.pathname}${url.search}`,
      headers: { Accept: 'application/json', ...headers },
    };
    await this.#config.applyToHTTPSOptions(options);
    if (!this.#viaProxy && this.#server.protocol === 'https:') options.agent = this.#keepAliveAgent(options);
    return options;
  }

  async request<T>(method: string, path: string, init: RequestInit = {}): Promise<T> {
    const fullPath = withQuery(path, init.query);
    const payload = init.body === undefined ? undefined : JSON.stringify(init.body);
    const headers: Record<string, string> =
      payload === undefined
        ? {}
        : {
            'Content-Type': init.contentType ?? ContentType.JSON,
            'Content-Length': String(Buffer.byteLength(payload)),
          };
    const options = await this.#options(method, fullPath, headers);
    const timeoutMs = init.timeoutMs ?? 30_000;
    const { status, body } = await new Promise<{ status: number; body: string }>((resolvePromise, reject) => {
      const req = httpsRequest(options, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      });
      req.setTimeout(timeoutMs, () =>
        req.destroy(new Error(`${method} ${fullPath}: no answer within ${timeoutMs} ms`)),
      );
      req.on('error', reject);
      req.end(payload);
    });
    if (status < 200 || status >= 300)
      throw new KubeApiError(method, fullPath, status, parseStatus(body), body);
    return (body ? JSON.parse(body) : undefined) as T;
  }

  async watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (event: WatchEvent) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const fullPath = withQuery(path, { ...query, watch: true });
    const options = await this.#options('GET', fullPath, {});
    if (signal.aborted) return;
    await new Promise<void>((resolvePromise, reject) => {
      const req = httpsRequest(options, (res: IncomingMessage) => {
        if ((res.statusCode ?? 0) !== 200) {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const raw = Buffer.concat(chunks).toString('utf8');
            reject(new KubeApiError('WATCH', fullPath, res.statusCode ?? 0, parseStatus(raw), raw));
          });
          return;
        }
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let newline = buffered.indexOf('\n');
          while (newline >= 0) {
            const line = buffered.slice(0, newline).trim();
            buffered = buffered.slice(newline + 1);
            newline = buffered.indexOf('\n');
            if (!line) continue;
            try {
              onEvent(JSON.parse(line) as WatchEvent);
            } catch (error) {
              req.destroy();
              reject(error);
              return;
            }
          }
        });
        res.on('end', () => resolvePromise());
        res.on('error', (error) => (signal.aborted ? resolvePromise() : reject(error)));
        res.on('aborted', () =>
          signal.aborted ? resolvePromise() : reject(new Error(`watch ${path} aborted`)),
        );
      });
      const onAbort = (): void => {
        req.destroy();
        resolvePromise();
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('close', () => signal.removeEventListener('abort', onAbort));
      req.on('error', (error) => (signal.aborted ? resolvePromise() : reject(error)));
      req.end();
    });
  }
}
