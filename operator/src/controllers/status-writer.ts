/**
 * Writes the status subresource of a RocketMQProxy, only when it changed. The patch carries the
 * resourceVersion it was computed from (optimistic concurrency); on 409 it re-reads: same generation →
 * retry with the fresh version, new generation → drop the write (the watch has queued another pass for
 * the new spec, which will compute its own status).
 */
import type { ResolvedRocketMQProxy, RocketMQProxy, RocketMQProxyStatus } from '../api/types.ts';
import { type Applier, retryOnConflict } from '../runtime/apply.ts';
import { isNotFound, KubeApiError, type KubeClient } from '../runtime/client.ts';
import { resourcePath } from '../runtime/kinds.ts';
import { Kinds } from './kinds.ts';
import { sameStatus } from './status.ts';

export class StatusWriter {
  readonly #client: KubeClient;
  readonly #applier: Applier;
  readonly #onConflict: () => void;

  constructor(client: KubeClient, applier: Applier, onConflict: () => void) {
    this.#client = client;
    this.#applier = applier;
    this.#onConflict = onConflict;
  }

  async write(proxy: ResolvedRocketMQProxy | RocketMQProxy, status: RocketMQProxyStatus): Promise<void> {
    const { namespace, name, generation } = proxy.metadata;
    let resourceVersion = proxy.metadata.resourceVersion;
    let current: RocketMQProxyStatus | undefined = proxy.status;
    await retryOnConflict(
      async (attempt) => {
        if (attempt > 1) {
          const fresh = await this.#client.request<RocketMQProxy>(
            'GET',
            resourcePath(Kinds.RocketMQProxy, namespace, name),
          );
          if (fresh.metadata.generation !== generation) return;
          resourceVersion = fresh.metadata.resourceVersion;
          current = fresh.status;
        }
        if (sameStatus(current ?? {}, status)) return;
        await this.#applier.mergePatch(
          Kinds.RocketMQProxy,
          namespace,
          name,
          { metadata: { resourceVersion }, status },
          'status',
        );
      },
      { onConflict: this.#onConflict },
    ).catch((error: unknown) => {
      if (isNotFound(error)) return;
      throw error instanceof KubeApiError ? error : new Error(String(error));
    });
  }
}
