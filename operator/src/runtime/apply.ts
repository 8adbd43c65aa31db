/**
 * Writes with one field manager: server-side apply (of objects and subresources), merge patches, deletes
 * of owned objects, and a retry on conflict. The field manager is the operator's identity in
 * managedFields, so every write it makes must carry the same one.
 */
import { ContentType, isConflict, isNotFound, type KubeClient } from './client.ts';
import type { KubeObject } from './informer.ts';
import { type Kind, type KindRegistry, resourcePath } from './kinds.ts';

export interface Applyable {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

export class Applier {
  readonly #client: KubeClient;
  readonly #kinds: KindRegistry;
  readonly fieldManager: string;

  constructor(client: KubeClient, kinds: KindRegistry, fieldManager: string) {
    this.#client = client;
    this.#kinds = kinds;
    this.fieldManager = fieldManager;
  }

  #pathOf(object: Applyable): string {
    const kind =
      object.apiVersion && object.kind ? this.#kinds.lookup(object.apiVersion, object.kind) : undefined;
    if (!kind || !object.metadata?.name)
      throw new Error(`cannot address ${object.apiVersion}/${object.kind}: kind not registered or no name`);
    return resourcePath(kind, object.metadata.namespace, object.metadata.name);
  }

  /**
   * Server-side apply of a complete desired object. `force` takes over fields another manager set
   * (e.g. someone `kubectl edit`ed our Deployment): the operator's spec is the source of truth.
   */
  async apply<T extends KubeObject>(object: Applyable): Promise<T> {
    return this.#client.request<T>('PATCH', this.#pathOf(object), {
      body: object,
      contentType: ContentType.APPLY_PATCH,
      query: { fieldManager: this.fieldManager, force: true },
    });
  }

  /** Server-side apply to a subresource (e.g. `scale`): its fields get a managedFields entry of their own. */
  applySubresource<T>(
    kind: Kind,
    namespace: string,
    name: string,
    subresource: string,
    body: object,
  ): Promise<T> {
    return this.#client.request<T>('PATCH', `${resourcePath(kind, namespace, name)}/${subresource}`, {
      body,
      contentType: ContentType.APPLY_PATCH,
      query: { fieldManager: this.fieldManager, force: true },
    });
  }

  /** A JSON merge patch, e.g. of the status subresource with a resourceVersion precondition. */
  mergePatch<T>(kind: Kind, namespace: string, name: string, body: object, subresource?: string): Promise<T> {
    const path = resourcePath(kind, namespace, name);
    return this.#client.request<T>('PATCH', subresource ? `${path}/${subresource}` : path, {
      body,
      contentType: ContentType.MERGE_PATCH,
      query: { fieldManager: this.fieldManager },
    });
  }

  /** Deletes an object only if our owner (by uid) controls it; a 404 counts as done. */
  async deleteOwned(kind: Kind, existing: KubeObject | undefined, ownerUid: string): Promise<boolean> {
    if (!existing) return false;
    const controller = existing.metadata.ownerReferences?.find((ref) => ref.controller);
    if (controller?.uid !== ownerUid) return false;
    try {
      await this.#client.request(
        'DELETE',
        resourcePath(kind, existing.metadata.namespace, existing.metadata.name),
        { body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: existing.metadata.uid } } },
      );
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }
}

/**
 * Runs `attempt` and, on 409 Conflict, again (up to `attempts` times) — each attempt must re-read what it
 * writes, so the retry is based on the current object rather than the stale one.
 */
export async function retryOnConflict<T>(
  attempt: (n: number) => Promise<T>,
  options: { attempts?: number; onConflict?: () => void } = {},
): Promise<T> {
  const attempts = options.attempts ?? 5;
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      if (!isConflict(error) || n >= attempts) throw error;
      options.onConflict?.();
      await new Promise((resolvePromise) => setTimeout(resolvePromise, 20 * n + Math.random() * 30));
    }
  }
}
