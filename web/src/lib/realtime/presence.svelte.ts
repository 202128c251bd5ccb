/* eslint-disable svelte/prefer-svelte-reactivity -- the sets and maps here are private bookkeeping (who to load, what
   was heard when); what the UI renders is the SvelteMap of statuses. */
import { SvelteMap } from 'svelte/reactivity';
import type { PresenceList, PresenceStatus } from '$contracts/chat.ts';
import type { AckResult } from '$contracts/errors.ts';
import { callApi } from './restClient.ts';

/** The REST call the store makes to learn statuses (unit tests hand in a fake). */
export type FetchPresence = (userIds: readonly string[]) => Promise<AckResult<PresenceList>>;
const fetchPresence: FetchPresence = (userIds) => callApi<PresenceList>('GET', `presence?userIds=${userIds.join(',')}`);

/** The API answers for at most this many people at once. */
const LOAD_CHUNK = 100;

/**
 * Online status of the people this tab shows. Live changes arrive as `presence:updated` only when they happen, so a
 * dot for someone whose status was announced before the tab listened would stay "offline": whoever a page asks about
 * is loaded from the API (once the socket is connected, so no change after the load is missed) and loaded again after
 * every reconnect, since changes sent while disconnected are lost. The person's own status comes from the server on
 * connect instead.
 */
export class PresenceStore {
  #statuses = new SvelteMap<string, PresenceStatus>();
  #fetch: FetchPresence;
  #self: string | null;
  /** Everyone a page has shown: loaded again on each reconnect. */
  #tracked = new Set<string>();
  /** Shown but not loaded since the last (re)connect. */
  #pending = new Set<string>();
  #flushQueued = false;
  #connected = false;
  /** Bumped by each live change; `#heardAt` keeps its value per person, so a load older than a change loses to it. */
  #clock = 0;
  #heardAt = new Map<string, number>();

  constructor(options: { fetch?: FetchPresence; self?: string } = {}) {
    this.#fetch = options.fetch ?? fetchPresence;
    this.#self = options.self ?? null;
  }

  /** The person's status; asking about someone new loads theirs (safe inside `$derived` and during SSR). */
  status(userId: string): PresenceStatus {
    this.#track(userId);
    return this.#statuses.get(userId) ?? 'offline';
  }

  /** A live change (or the person's own choice): it wins over any load still in flight. */
  set(userId: string, status: PresenceStatus): void {
    this.#heardAt.set(userId, ++this.#clock);
    this.#put(userId, status);
  }

  /**
   * A fresh listing from the API replaces what we had for those people; `among` names everyone the listing covers,
   * so those of them it leaves out are offline.
   */
  seed(entries: readonly { userId: string; status: PresenceStatus }[], among: readonly string[] = []): void {
    const listed = new Map(entries.map((e) => [e.userId, e.status]));
    for (const userId of new Set([...listed.keys(), ...among])) {
      if (userId === this.#self) continue;
      this.#tracked.add(userId);
      this.#pending.delete(userId);
      this.#put(userId, listed.get(userId) ?? 'offline');
    }
  }

  /** The socket is (again) connected and in the presence rooms: load everyone shown. */
  connected(): void {
    this.#connected = true;
    for (const userId of this.#tracked) this.#pending.add(userId);
    this.#queueFlush();
  }

  disconnected(): void {
    this.#connected = false;
  }

  #put(userId: string, status: PresenceStatus): void {
    if (this.#statuses.get(userId) !== status) this.#statuses.set(userId, status);
  }

  #track(userId: string): void {
    if (userId === this.#self || this.#tracked.has(userId)) return;
    this.#tracked.add(userId);
    this.#pending.add(userId);
    this.#queueFlush();
  }

  /** Loads on a microtask, so everyone one render asks about goes in one request. */
  #queueFlush(): void {
    if (this.#flushQueued || !this.#connected) return;
    this.#flushQueued = true;
    queueMicrotask(() => {
      this.#flushQueued = false;
      if (!this.#connected || this.#pending.size === 0) return;
      const userIds = [...this.#pending];
      this.#pending.clear();
      for (let i = 0; i < userIds.length; i += LOAD_CHUNK) void this.#load(userIds.slice(i, i + LOAD_CHUNK));
    });
  }

  async #load(userIds: string[]): Promise<void> {
    const startedAt = this.#clock;
    const result = await this.#fetch(userIds);
    if (!result.ok) {
      // Presence is a nicety: live updates still arrive, and the next reconnect tries again.
      return;
    }
    const listed = new Map(result.data.data.map((e) => [e.userId, e.status]));
    for (const userId of userIds) {
      if ((this.#heardAt.get(userId) ?? 0) > startedAt) continue;
      this.#put(userId, listed.get(userId) ?? 'offline');
    }
  }
}
