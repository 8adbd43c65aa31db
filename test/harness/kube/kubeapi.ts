/**
 * The few raw API calls the harness itself needs (readiness, the fake Node, waiting for controllers),
 * over node:https, so starting a control plane does not depend on the client library under test.
 */
import { request } from 'node:https';

export interface KubeResponse {
  status: number;
  body: string;
}

export interface KubeEndpoint {
  /** https://127.0.0.1:<port> */
  server: string;
  token: string;
  /** PEM bundle to trust; undefined skips verification (only before the serving cert exists). */
  ca?: string | undefined;
}

export function kubeRequest(
  endpoint: KubeEndpoint,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 5000,
): Promise<KubeResponse> {
  const url = new URL(path, endpoint.server);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolvePromise, reject) => {
    const req = request(
      url,
      {
        method,
        headers: {
          Authorization: `Bearer ${endpoint.token}`,
          Accept: 'application/json',
          ...(payload === undefined
            ? {}
            : { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) }),
        },
        ...(endpoint.ca === undefined ? { rejectUnauthorized: false } : { ca: endpoint.ca }),
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/** GET that returns the parsed object on 200 and undefined on 404; anything else throws. */
export async function kubeGet(endpoint: KubeEndpoint, path: string): Promise<unknown> {
  const response = await kubeRequest(endpoint, 'GET', path);
  if (response.status === 404) return undefined;
  if (response.status !== 200)
    throw new Error(`GET ${path}: HTTP ${response.status} ${response.body.slice(0, 300)}`);
  return JSON.parse(response.body) as unknown;
}

/** True when the object's status.conditions has `type` with status "True". */
export function hasTrueCondition(object: unknown, type: string): boolean {
  const conditions = (object as { status?: { conditions?: unknown } } | undefined)?.status?.conditions;
  return (
    Array.isArray(conditions) &&
    conditions.some(
      (condition: unknown) =>
        typeof condition === 'object' &&
        condition !== null &&
        (condition as { type?: unknown }).type === type &&
        (condition as { status?: unknown }).status === 'True',
    )
  );
}
