/* eslint-disable svelte/prefer-svelte-reactivity -- the buffer and listener list are private bookkeeping; what the UI
   reads is $state. */
import type { ServerToClientEvents } from '$contracts/realtime.ts';
import type { ChatSocket } from './ack.ts';

/** The tab's socket as the live stores use it (typed from the contracts; unit tests hand in a small fake). */
export type LiveSocket = ChatSocket;

/** Registers a handler for one server event; the base removes it again on detach. */
export type Listen = <E extends keyof ServerToClientEvents>(event: E, handler: ServerToClientEvents[E]) => void;

type Listener = [string, (...args: never[]) => void];

/**
 * The lifecycle every live store shares: attach to the tab's one socket, subscribe when it is connected and again
 * after every reconnect (a socket that reconnects has left its rooms on the server and may have missed events), catch
 * up once subscribed, detach (removing every handler it added), and a `live` flag that says the subscription is in
 * place. Subclasses say which events they listen to, how they subscribe and unsubscribe, and how they catch up; the
 * order in which their events apply is theirs (see `InOrder` for stores whose events carry a server version).
 */
export abstract class LiveStore {
  /** The subscription is in place: changes arrive by themselves. False while detached or disconnected. */
  live = $state(false);

  #socket: LiveSocket | null = null;
  #listeners: Listener[] = [];
  /** Identifies the latest (re)subscription; an older one that finishes late changes nothing. */
  #run = 0;
  #destroyed = false;

  /** The socket this store follows, or null while detached. */
  protected get socket(): LiveSocket | null {
    return this.#socket;
  }

  /** The store was destroyed: it ignores events and attaches no more. */
  protected get destroyed(): boolean {
    return this.#destroyed;
  }

  /** Starts following the store's rooms on the tab's socket (browser only). Attaching the same socket again is a no-op. */
  attach(socket: LiveSocket): void {
    if (this.#socket === socket || this.#destroyed) return;
    this.detach();
    this.#socket = socket;
    const on: Listen = (event, handler) => {
      socket.on(event as never, handler as never);
      this.#listeners.push([event, handler as never]);
    };
    on('connect' as never, (() => void this.#subscribe(socket, true)) as never);
    on('disconnect' as never, (() => this.#disconnected()) as never);
    this.listen(on);
    if (socket.connected) void this.#subscribe(socket, false);
  }

  /** Stops following: handlers removed, rooms left (when still connected), `live` off. */
  detach(): void {
    const socket = this.#socket;
    this.#run += 1;
    if (socket) {
      for (const [event, listener] of this.#listeners) socket.off(event as never, listener as never);
      if (socket.connected) this.unsubscribe(socket);
    }
    this.#listeners = [];
    this.#socket = null;
    this.live = false;
  }

  /** Detaches for good (the page is going away). */
  destroy(): void {
    this.detach();
    this.#destroyed = true;
  }

  /** Whether work started on `socket` still matters: the store follows it and was not destroyed meanwhile. */
  protected following(socket: LiveSocket): boolean {
    return this.#socket === socket && !this.#destroyed;
  }

  /** Registers the store's server events with `on`. */
  protected abstract listen(on: Listen): void;

  /**
   * Joins the store's rooms on a connected socket. `reconnected`: the socket has just (re)connected, so any earlier
   * subscription and any request still waiting for an answer died with the old connection. Returns whether the store
   * is now live.
   */
  protected abstract subscribe(socket: LiveSocket, reconnected: boolean): Promise<boolean> | boolean;

  /** Brings the state up to date with what happened before the subscription took hold (after each subscribe). */
  protected catchUp(): Promise<void> | void {}

  /** Leaves the store's rooms (on detach, while the socket is still connected). */
  protected unsubscribe(_socket: LiveSocket): void {}

  /** The connection dropped; a reconnect will subscribe again. */
  protected disconnected(): void {}

  async #subscribe(socket: LiveSocket, reconnected: boolean): Promise<void> {
    if (!this.following(socket)) return;
    const run = ++this.#run;
    const ok = await this.subscribe(socket, reconnected);
    if (run !== this.#run || !this.following(socket)) return;
    this.live = ok;
    if (ok) await this.catchUp();
  }

  #disconnected(): void {
    this.#run += 1;
    this.live = false;
    this.disconnected();
  }
}

export type Outcome = 'applied' | 'stale' | 'held';

export interface InOrderOptions<E> {
  /** Everything up to this version is already reflected in the state; null: nothing yet, events wait for `advanceTo`. */
  start: number | null;
  versionOf: (event: E) => number;
  /** Applies one event; called exactly once per version, in version order. */
  apply: (event: E) => void;
  /**
   * A gap outlived the grace period: bring the state up to date (replayed events, a snapshot), then call `settled()`.
   * Asked once per gap: not again until then.
   */
  catchUp: () => void;
  /** How long an early event may wait for the ones before it (broadcasts from several nodes can overtake each other). */
  gapGraceMs: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/**
 * Applies events strictly in the order of a server-given version, each exactly once. An event at or below the last
 * applied version is a duplicate or a replay and is ignored; the next version applies at once; a later one waits, and
 * unless the missing ones arrive within the grace period the store's catch-up is asked for, once per gap.
 */
export class InOrder<E> {
  /** The last version applied (-1 until the first snapshot when the stream started without one). */
  version = $state(-1);

  #opts: Required<InOrderOptions<E>>;
  #started: boolean;
  #held = new Map<number, E>();
  #timer: unknown = null;
  #catchingUp = false;
  #stopped = false;

  constructor(options: InOrderOptions<E>) {
    this.#opts = {
      setTimer: (fn, ms) => setTimeout(fn, ms),
      clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
      ...options,
    };
    this.#started = options.start !== null;
    this.version = options.start ?? -1;
  }

  /** Versions that arrived early and wait for the ones before them. */
  get held(): number[] {
    return [...this.#held.keys()].sort((a, b) => a - b);
  }

  /** A live (or replayed) event. */
  receive(event: E): Outcome {
    const version = this.#opts.versionOf(event);
    // Before the first snapshot every event waits: the snapshot decides which of them are news.
    if (this.#started && version <= this.version) return 'stale';
    if (this.#stopped) return 'stale';
    if (!this.#started || version > this.version + 1) {
      this.#held.set(version, event);
      this.#settle();
      return 'held';
    }
    this.#applyOne(event);
    this.#settle();
    return 'applied';
  }

  /**
   * The state now reflects everything up to `version` (a snapshot, a refresh over REST). An older version changes
   * nothing; held events after it apply.
   */
  advanceTo(version: number): void {
    if (!this.#started || version > this.version) this.version = version;
    this.#started = true;
    this.#settle();
  }

  /** A catch-up is under way (for a gap or a reconnect): no gap timer until it has `settled`. */
  catchingUp(): void {
    this.#catchingUp = true;
    this.#disarm();
  }

  /** The catch-up finished, or failed: a gap that is still there is timed again. */
  settled(): void {
    this.#catchingUp = false;
    this.#settle();
  }

  /** No more events (the store is going away or lost access). */
  stop(): void {
    this.#stopped = true;
    this.#disarm();
    this.#held.clear();
  }

  /** Drops held events already covered, applies the ones that became contiguous, and times a remaining gap. */
  #settle(): void {
    if (this.#started) {
      for (const version of this.#held.keys()) if (version <= this.version) this.#held.delete(version);
      for (let next = this.#held.get(this.version + 1); next !== undefined; next = this.#held.get(this.version + 1)) {
        this.#held.delete(this.version + 1);
        this.#applyOne(next);
      }
    }
    if (this.#held.size === 0) this.#disarm();
    else if (this.#started) this.#arm();
  }

  #applyOne(event: E): void {
    this.#opts.apply(event);
    this.version = this.#opts.versionOf(event);
  }

  #arm(): void {
    if (this.#timer !== null || this.#catchingUp || this.#stopped) return;
    this.#timer = this.#opts.setTimer(() => {
      this.#timer = null;
      if (this.#held.size === 0 || this.#stopped) return;
      this.#catchingUp = true;
      this.#opts.catchUp();
    }, this.#opts.gapGraceMs);
  }

  #disarm(): void {
    if (this.#timer !== null) this.#opts.clearTimer(this.#timer);
    this.#timer = null;
  }
}

/**
 * The per-key variant of `InOrder`, for stores whose items each carry their own server version (a counter the server
 * moves on with every change to that item) instead of one sequence for the whole stream. Changes the reader may not
 * see also move an item's version on, so gaps are normal and nothing waits for them: an item's event applies when its
 * version is newer than the one held for that item, and a snapshot (a REST answer) when it is at least as new (it may
 * add what a broadcast cannot carry, such as the reader's own poll vote). Removals are versions too: a removed item
 * keeps the version that removed it, so a change from before the removal that arrives late cannot bring it back while
 * a restore, newer still, can.
 */
export class NewestByKey<K> {
  #versions = new Map<K, number>();
  #removed = new Set<K>();

  /** The version held for `key` (of the item, or of its removal); undefined when nothing is known. */
  version(key: K): number | undefined {
    return this.#versions.get(key);
  }

  /** The item was removed (and nothing newer has arrived since). */
  removed(key: K): boolean {
    return this.#removed.has(key);
  }

  /** A live event at `version`: true, and recorded, when it is newer than what is held; a removal is then over. */
  event(key: K, version: number): boolean {
    return this.#accept(key, version, false);
  }

  /** A snapshot at `version`: true, and recorded, when it is at least as new as what is held. */
  snapshot(key: K, version: number): boolean {
    return this.#accept(key, version, true);
  }

  /**
   * The item was removed by the change that produced `version`: true, and recorded, when that is newer than what is
   * held, or as new while the item is still there (a removal inferred from a snapshot, at the version last seen).
   * Infinity: removed for good (the reader's own deletion, which answers no version); nothing brings it back.
   */
  remove(key: K, version: number): boolean {
    const held = this.#versions.get(key);
    if (held !== undefined && (version < held || (version === held && this.#removed.has(key)))) return false;
    this.#versions.set(key, version);
    this.#removed.add(key);
    return true;
  }

  #accept(key: K, version: number, orEqual: boolean): boolean {
    const held = this.#versions.get(key);
    if (held !== undefined && (orEqual ? version < held : version <= held)) return false;
    // A snapshot at the removal's own version is the item as it was before it went.
    if (held !== undefined && version === held && this.#removed.has(key)) return false;
    this.#versions.set(key, version);
    this.#removed.delete(key);
    return true;
  }
}
