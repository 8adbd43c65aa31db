/**
 * Requests to the NameServers: one address is used until it fails at the transport level, then the
 * next one is tried (a NameServer answering with an error code is an answer, not a failure).
 */
import type { RemotingCommand, RequestSpec } from '../remoting/command.ts';
import { RemotingError, RemotingResponseError } from '../remoting/errors.ts';
import type { RemotingPool } from '../remoting/pool.ts';

export interface NameServerOptions {
  pool: RemotingPool;
  addresses: readonly string[];
  timeoutMs: number;
}

export class NameServerClient {
  readonly #options: NameServerOptions;
  #current = 0;

  constructor(options: NameServerOptions) {
    if (options.addresses.length === 0) throw new Error('at least one NameServer address is required');
    this.#options = options;
  }

  get addresses(): readonly string[] {
    return this.#options.addresses;
  }

  async request(spec: RequestSpec): Promise<RemotingCommand> {
    const { addresses, pool, timeoutMs } = this.#options;
    let lastError: unknown;
    for (let attempt = 0; attempt < addresses.length; attempt++) {
      const index = (this.#current + attempt) % addresses.length;
      try {
        const response = await pool.request(addresses[index]!, spec, { timeoutMs });
        this.#current = index;
        return response;
      } catch (error) {
        if (!(error instanceof RemotingError) || error instanceof RemotingResponseError) throw error;
        lastError = error;
      }
    }
    throw lastError;
  }
}
