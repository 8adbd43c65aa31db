/**
 * events.k8s.io/v1 Events about the objects a controller reconciles (failures, issued certificates, …).
 * Identical events (same object, reason and note) are sent once per 10 minutes, so a retry loop cannot
 * flood etcd; failures to record an event are logged and never fail a reconcile.
 */
import type { KubeClient } from './client.ts';
import type { KubeObject } from './informer.ts';
import { CoreKinds, resourcePath } from './kinds.ts';

export interface EventRecorder {
  record(
    regarding: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    action: string,
    note: string,
  ): void;
}

const REPEAT_WINDOW_MS = 10 * 60_000;

export class KubeEventRecorder implements EventRecorder {
  readonly #client: KubeClient;
  readonly #controller: string;
  readonly #instance: string;
  readonly #recent = new Map<string, number>();
  readonly #log: (message: string) => void;

  constructor(client: KubeClient, controller: string, instance: string, log: (message: string) => void) {
    this.#client = client;
    this.#controller = controller;
    this.#instance = instance;
    this.#log = log;
  }

  record(
    regarding: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    action: string,
    note: string,
  ): void {
    const key = `${regarding.metadata.uid}|${reason}|${note}`;
    const now = Date.now();
    const last = this.#recent.get(key);
    if (last !== undefined && now - last < REPEAT_WINDOW_MS) return;
    this.#recent.set(key, now);
    if (this.#recent.size > 5000) this.#recent.clear();
    const namespace = regarding.metadata.namespace ?? 'default';
    const body = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      // client-go style name: <object>.<hex nanoseconds-ish>, unique per event.
      metadata: {
        name: `${regarding.metadata.name}.${(now * 1000 + Math.floor(Math.random() * 1000)).toString(16)}`,
        namespace,
      },
      eventTime: new Date(now).toISOString().replace('Z', '000Z'),
      reportingController: this.#controller,
      reportingInstance: this.#instance,
      action,
      reason,
      type,
      note: note.slice(0, 1000),
      regarding: {
        apiVersion: regarding.apiVersion,
        kind: regarding.kind,
        name: regarding.metadata.name,
        namespace,
        uid: regarding.metadata.uid,
        resourceVersion: regarding.metadata.resourceVersion,
      },
    };
    this.#client
      .request('POST', resourcePath(CoreKinds.Event, namespace), { body })
      .catch((error: unknown) => this.#log(`recording event ${reason}: ${String(error)}`));
  }
}
