/** Writes with the operator's single field manager: server-side apply, deletes of owned objects, conflict retry. */
import { FIELD_MANAGER } from '../api/constants.ts';
import { ContentType, isConflict, isNotFound, type KubeClient } from './client.ts';
import type { KubeObject } from './informer.ts';
import { kindOf, resourcePath } from './kinds.ts';

interface Applyable {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string };
}

function pathOf(object: Applyable): string {
  const kind = object.apiVersion && object.kind ? kindOf(object.apiVersion, object.kind) : undefined;
  if (!kind || !object.metadata?.name) throw new Error(`cannot address ${object.apiVersion}/${object.kind}`);
  return resourcePath(kind, object.metadata.namespace, object.metadata.name);
}

/**
 * Server-side apply of a complete desired object. `force` takes over fields another manager set
 * (e.g. someone `kubectl edit`ed our Deployment): the operator's spec is the source of truth.
 */
export function apply<T extends KubeObject>(client: KubeClient, object: Applyable): Promise<T> {
  return client.request<T>('PATCH', pathOf(object), {
    body: object,
    contentType: ContentType.APPLY_PATCH,
    query: { fieldManager: FIELD_MANAGER, force: true },
  });
}

/** Deletes a child only if our owner (by uid) controls it; a 404 counts as done. */
export async function deleteOwned(
  client: KubeClient,
  existing: KubeObject | undefined,
  ownerUid: string,
  apiVersion: string,
  kind: string,
): Promise<boolean> {
  if (!existing) return false;
  const controller = existing.metadata.ownerReferences?.find((ref) => ref.controller);
  if (controller?.uid !== ownerUid) return false;
  try {
    await client.request('DELETE', pathOf({ apiVersion, kind, metadata: existing.metadata }), {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: existing.metadata.uid } },
    });
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
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
