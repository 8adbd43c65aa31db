/**
 * One-shot Remoting calls for the harness (readiness probes, topology set-up), over our own
 * RemotingConnection so the harness exercises the same client code the proxy uses.
 */
import type { RemotingCommand, RequestSpec } from '../../proxy/src/remoting/command.ts';
import { RemotingConnection } from '../../proxy/src/remoting/connection.ts';

export interface CallOptions {
  timeoutMs?: number | undefined;
}

/** Opens a connection, runs `use`, and always closes the connection. */
export async function withConnection<T>(
  address: string,
  use: (connection: RemotingConnection) => Promise<T>,
  options: CallOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const connection = await RemotingConnection.connect(address, {
    connectTimeoutMs: timeoutMs,
    requestTimeoutMs: timeoutMs,
    closeTimeoutMs: 1000,
  });
  try {
    return await use(connection);
  } finally {
    await connection.close();
  }
}

/** Sends one request on a fresh connection and parses the response. */
export function call<T>(
  address: string,
  spec: RequestSpec,
  parse: (response: RemotingCommand) => T,
  options: CallOptions = {},
): Promise<T> {
  return withConnection(address, async (connection) => parse(await connection.request(spec)), options);
}
