/* eslint-disable svelte/prefer-svelte-reactivity -- the maps here are private bookkeeping (who is shown, whom the
   server follows, what was heard when); what the UI renders is the SvelteMap of statuses. */
import { untrack } from 'svelte';
import { SvelteMap } from 'svelte/reactivity';
import type { PresenceList, PresenceStatus } from '$contracts/chat.ts';
import type { AckResult } from '$contracts/errors.ts';
import { PRESENCE_WATCH_ADD_MAX, PRESENCE_WATCH_LIMIT } from '$contracts/values/chat.ts';

/** One `presence:watch` request: start following `add`, stop following `remove`. */
export interface WatchChange {
  add: string[];
  remove: string[];
}
/** Sends a `presence:watch` on the tab's socket and resolves with its ack (unit tests hand in a fake). */
export type SendWatch = (change: WatchChange) => Promise<AckResult<PresenceList>>;

/**
 * How long someone stays followed after their last dot left the screen: a navigation that shows them again right
 * away (another channel of the same community, the DM list and a DM) costs no request.
 */
export const RELEASE_DELAY_MS = 3000;

export interface PresenceStoreOptions {
  send: SendWatch;
  /** The signed-in person: never followed, their own status comes from the server on connect. */
  self?: string;
  releaseDelayMs?: number;
  /** How many people the server follows for one socket at most. */
  limit?: number;
}

/**
 * Online status of the people this tab shows. The server tells a socket only about the people it follows
 * (`presence:watch`), so the store follows exactly those with a dot on screen: each dot `watch`es its person while it
 * is mounted, all changes of one moment go out as one request, and the answer carries the statuses of the newly
 * followed. What the server follows belongs to the connection: after every reconnect, and when the server drops some
 * (`presence:rewatch`), everyone still shown is asked for again.
 */
export class PresenceStore {
  #statuses = new SvelteMap<string, PresenceStatus>();
  #send: SendWatch;
  #self: string | null;
  #releaseDelayMs: number;
  #limit: number;
  /** Dots on screen per person; 0 while someone whose dots are gone is still followed until their release is due. */
  #dots = new Map<string, number>();
  /** People without a dot → when they stop being followed. */
  #releaseDue = new Map<string, number>();
  #releaseTimer: ReturnType<typeof setTimeout> | null = null;
  /** Whom the server follows for this connection (asked for, not refused) → the request that asked. */
  #following = new Map<string, number>();
  #requests = 0;
  #connected = false;
  /** Changes on every connect and disconnect: an answer meant for an earlier connection changes nothing. */
  #connection = 0;
  #flushQueued = false;
  /** Bumped by each live change; `#heardAt` keeps its value per person, so an answer older than a change loses to it. */
  #clock = 0;
  #heardAt = new Map<string, number>();

  constructor(options: PresenceStoreOptions) {
    this.#send = options.send;
    this.#self = options.self ?? null;
    this.#releaseDelayMs = options.releaseDelayMs ?? RELEASE_DELAY_MS;
    this.#limit = options.limit ?? PRESENCE_WATCH_LIMIT;
  }

  /** The person's status as last heard (a plain read: safe inside `$derived` and during SSR). */
  status(userId: string): PresenceStatus {
    return this.#statuses.get(userId) ?? 'offline';
  }

  /**
   * Follows the person while something shows them; call the returned function when it no longer does. Every dot
   * counts: the person stays followed until the last one is released, and a little longer (`releaseDelayMs`).
   */
  watch(userId: string): () => void {
    if (userId === this.#self) return () => {};
    const dots = this.#dots.get(userId) ?? 0;
    this.#dots.set(userId, dots + 1);
    this.#releaseDue.delete(userId);
    if (dots === 0 && !this.#following.has(userId)) this.#queueFlush();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#release(userId);
    };
  }

  /** A live change (or the person's own choice): it wins over any answer still on its way. */
  set(userId: string, status: PresenceStatus): void {
    this.#heardAt.set(userId, ++this.#clock);
    this.#put(userId, status);
  }

  /**
   * A listing loaded with a page (a community's members who are not offline) as the starting point; `among` names
   * everyone it covers, so those it leaves out are offline. People the server follows for this connection are kept
   * up to date by it and keep what it said. Seeding follows nobody.
   */
  seed(entries: readonly { userId: string; status: PresenceStatus }[], among: readonly string[] = []): void {
    const listed = new Map(entries.map((e) => [e.userId, e.status]));
    for (const userId of new Set([...listed.keys(), ...among])) {
      if (userId === this.#self || this.#following.has(userId)) continue;
      this.#put(userId, listed.get(userId) ?? 'offline');
    }
  }

  /** The socket is (again) connected: the server follows nobody for it yet, so everyone shown is asked for. */
  connected(): void {
    this.#connected = true;
    this.#connection += 1;
    this.#following.clear();
    this.#queueFlush();
  }

  /** The connection is gone, and with it whatever the server followed for it; nothing is sent. */
  disconnected(): void {
    this.#connected = false;
    this.#connection += 1;
    this.#following.clear();
  }

  /** The server stopped following these people (null: everyone): those still shown are asked for again. */
  rewatch(userIds: readonly string[] | null): void {
    if (userIds === null) this.#following.clear();
    else for (const userId of userIds) this.#following.delete(userId);
    this.#queueFlush();
  }

  /** No more requests or timers (the tab's chat is going away). */
  dispose(): void {
    this.disconnected();
    if (this.#releaseTimer !== null) clearTimeout(this.#releaseTimer);
    this.#releaseTimer = null;
  }

  #put(userId: string, status: PresenceStatus): void {
    // Writes never make the caller depend on the status (a seeding effect would otherwise run again on each change).
    untrack(() => {
      if (this.#statuses.get(userId) !== status) this.#statuses.set(userId, status);
    });
  }

  #release(userId: string): void {
    const dots = this.#dots.get(userId);
    if (dots === undefined || dots === 0) return;
    if (dots > 1) {
      this.#dots.set(userId, dots - 1);
      return;
    }
    this.#dots.set(userId, 0);
    this.#releaseDue.set(userId, Date.now() + this.#releaseDelayMs);
    this.#armReleaseTimer();
  }

  #armReleaseTimer(): void {
    if (this.#releaseTimer !== null || this.#releaseDue.size === 0) return;
    let next = Infinity;
    for (const due of this.#releaseDue.values()) next = Math.min(next, due);
    this.#releaseTimer = setTimeout(
      () => {
        this.#releaseTimer = null;
        this.#releaseDueNow();
      },
      Math.max(0, next - Date.now()),
    );
  }

  #releaseDueNow(): void {
    const now = Date.now();
    let released = false;
    for (const [userId, due] of this.#releaseDue) {
      if (due > now) continue;
      this.#releaseDue.delete(userId);
      this.#dots.delete(userId);
      released = true;
    }
    if (released) this.#queueFlush();
    this.#armReleaseTimer();
  }

  /** On a microtask, so everything one render mounts and unmounts goes out as one request. */
  #queueFlush(): void {
    if (this.#flushQueued || !this.#connected) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      this.#flush();
    });
  }

  #flush(): void {
    if (!this.#connected) return;
    const remove = [...this.#following.keys()].filter((userId) => !this.#dots.has(userId));
    for (const userId of remove) this.#following.delete(userId);
    const add = [...this.#dots].filter(([userId, dots]) => dots > 0 && !this.#following.has(userId)).map(([userId]) => userId);
    let room = this.#limit - this.#following.size;
    // Short of room: people whose dots are gone stop being followed before their time.
    for (const [userId] of this.#releaseDue) {
      if (add.length <= room) break;
      this.#releaseDue.delete(userId);
      this.#dots.delete(userId);
      if (this.#following.delete(userId)) {
        remove.push(userId);
        room += 1;
      }
    }
    // Whoever still does not fit waits until someone else is released (each release asks again).
    add.splice(Math.max(0, room));
    if (add.length === 0 && remove.length === 0) return;
    for (let i = 0; i === 0 || i < add.length; i += PRESENCE_WATCH_ADD_MAX) {
      void this.#request(add.slice(i, i + PRESENCE_WATCH_ADD_MAX), i === 0 ? remove : []);
    }
  }

  async #request(add: string[], remove: string[]): Promise<void> {
    const request = ++this.#requests;
    const connection = this.#connection;
    const startedAt = this.#clock;
    for (const userId of add) this.#following.set(userId, request);
    const result = await this.#send({ add, remove });
    if (connection !== this.#connection) return;
    if (!result.ok) {
      // Presence is a nicety: live updates about the others still arrive, and whoever is still shown is asked for
      // again with the next change of what is on screen, or after the next reconnect.
      for (const userId of add) if (this.#following.get(userId) === request) this.#following.delete(userId);
      return;
    }
    const listed = new Map(result.data.data.map((e) => [e.userId, e.status]));
    for (const userId of add) {
      if ((this.#heardAt.get(userId) ?? 0) > startedAt) continue;
      this.#put(userId, listed.get(userId) ?? 'offline');
    }
  }
}
