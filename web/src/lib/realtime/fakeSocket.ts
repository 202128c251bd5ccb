/**
 * Test double for the live stores' unit tests: just enough of a Socket.IO client socket (listeners, acked emits
 * answered by the test, connects and drops). Never imported by the app.
 */
import type { AckResult } from '$contracts/errors.ts';
import type { LiveSocket } from './liveStore.svelte.ts';

type Handler = (...args: any[]) => void;
type Answer = (payload: any) => AckResult<unknown> | null | undefined;

export class FakeSocket {
  connected = true;
  emitted: { event: string; payload: any }[] = [];
  /** The server's answer per event; none (or null): `fallback`'s. */
  answers: Record<string, Answer> = {};
  #fallback: (event: string, payload: any) => AckResult<unknown>;
  #handlers = new Map<string, Set<Handler>>();

  /** `fallback` answers events without an entry in `answers` (default: ok, echoing the payload). */
  constructor(fallback: (event: string, payload: any) => AckResult<unknown> = (_event, payload) => ({ ok: true, data: payload })) {
    this.#fallback = fallback;
  }

  get socket(): LiveSocket {
    return this as unknown as LiveSocket;
  }

  on(event: string, handler: Handler) {
    if (!this.#handlers.has(event)) this.#handlers.set(event, new Set());
    this.#handlers.get(event)!.add(handler);
    return this;
  }

  off(event: string, handler: Handler) {
    this.#handlers.get(event)?.delete(handler);
    return this;
  }

  emit(event: string, payload: any, ack?: (result: AckResult<unknown>) => void) {
    this.emitted.push({ event, payload });
    const answer = this.answers[event]?.(payload) ?? this.#fallback(event, payload);
    queueMicrotask(() => ack?.(answer));
    return this;
  }

  /** The server sends an event. */
  push(event: string, payload?: unknown) {
    for (const handler of [...(this.#handlers.get(event) ?? [])]) handler(payload);
  }

  /** The connection drops. */
  drop() {
    this.connected = false;
    this.push('disconnect', 'transport close');
  }

  /** The connection comes back. */
  reconnect() {
    this.connected = true;
    this.push('connect');
  }

  count(event: string) {
    return this.emitted.filter((e) => e.event === event).length;
  }

  /** Handlers registered for `event`, or for every event. */
  listeners(event?: string) {
    if (event !== undefined) return this.#handlers.get(event)?.size ?? 0;
    return [...this.#handlers.values()].reduce((n, set) => n + set.size, 0);
  }
}
