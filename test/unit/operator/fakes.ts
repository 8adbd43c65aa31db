/** Fakes the operator's unit tests share: a clock with timers, a cached kind, an Event recorder. */

import type { EventRecorder } from '../../../operator/src/runtime/events.ts';
import type { ChangeType, Handler, KubeObject } from '../../../operator/src/runtime/informer.ts';
import { CoreKinds, type Kind } from '../../../operator/src/runtime/kinds.ts';
import type { Timers } from '../../../operator/src/runtime/queue.ts';
import type { CachedKind } from '../../../operator/src/runtime/source.ts';

export class FakeTimers implements Timers {
  time = 0;
  #timers: { at: number; callback: () => void; id: number }[] = [];
  #next = 0;
  now(): number {
    return this.time;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.#next;
    this.#timers.push({ at: this.time + ms, callback, id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }
  advance(ms: number): void {
    this.time += ms;
    const due = this.#timers.filter((t) => t.at <= this.time).sort((a, b) => a.at - b.at);
    this.#timers = this.#timers.filter((t) => t.at > this.time);
    for (const t of due) t.callback();
  }
}

/** A cache of one kind that the test fills and changes by hand. */
export class FakeCachedKind<T extends KubeObject = KubeObject> implements CachedKind<T> {
  readonly kind: Kind;
  available = true;
  readonly objects = new Map<string, T>();
  readonly #handlers: Handler<T>[] = [];
  readonly #presence: ((available: boolean) => void)[] = [];

  constructor(kind: Kind = CoreKinds.ConfigMap, objects: T[] = []) {
    this.kind = kind;
    for (const object of objects)
      this.objects.set(`${object.metadata.namespace}/${object.metadata.name}`, object);
  }
  get(namespace: string | undefined, name: string): T | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }
  list(): T[] {
    return [...this.objects.values()];
  }
  on(handler: Handler<T>): void {
    this.#handlers.push(handler);
  }
  onPresenceChange(listener: (available: boolean) => void): void {
    this.#presence.push(listener);
  }
  emit(type: ChangeType, object: T): void {
    for (const handler of this.#handlers) handler(type, object);
  }
  setAvailable(available: boolean): void {
    this.available = available;
    for (const listener of this.#presence) listener(available);
  }
}

export class RecordingEvents implements EventRecorder {
  readonly recorded: { type: string; reason: string; note: string }[] = [];
  record(
    _regarding: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    _action: string,
    note: string,
  ): void {
    this.recorded.push({ type, reason, note });
  }
}
