/* eslint-disable svelte/prefer-svelte-reactivity -- the sets here are throwaway lookups; what the UI reads is $state. */
import { createContext } from 'svelte';
import type { AckResult } from '$contracts/errors.ts';
import type {
  MarkNotificationsReadInput,
  NotificationDto,
  NotificationList,
  NotificationReadEvent,
  NotificationRemovedEvent,
  UnreadNotificationCount,
} from '$contracts/notifications.ts';
import { chatErrorMessage } from './ack.ts';
import { LiveStore, type Listen } from './liveStore.svelte.ts';
import { callApi } from './restClient.ts';

/** The REST calls the centre makes (unit tests hand in fakes). */
export interface NotificationApi {
  page(cursor: string | null, limit: number): Promise<AckResult<NotificationList>>;
  markRead(input: MarkNotificationsReadInput): Promise<AckResult<UnreadNotificationCount>>;
}

export const notificationApi: NotificationApi = {
  page: (cursor, limit) =>
    callApi<NotificationList>('GET', `notifications?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`),
  markRead: (input) => callApi<UnreadNotificationCount>('POST', 'notifications/read', input),
};

export interface NotificationCentreOptions {
  api?: NotificationApi;
  pageSize?: number;
  now?: () => Date;
}

/** Newest first: by creation time, then id (the API's order). */
function newerFirst(a: NotificationDto, b: NotificationDto): number {
  if (a.createdAt !== b.createdAt) return Date.parse(b.createdAt) - Date.parse(a.createdAt);
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

/**
 * The signed-in person's notifications, kept live (a LiveStore on the user's own room, which the server joins on
 * connect): new ones arrive at the top with the unread count, read state follows from every device, and on each
 * (re)connect page one and the count are fetched again, since events sent while disconnected are lost. The bell, its
 * dropdown and the full page all read this one store.
 */
export class NotificationCentre extends LiveStore {
  /** Newest first; page one and whatever older pages were loaded. */
  items = $state.raw<NotificationDto[]>([]);
  unreadCount = $state(0);
  /** Where older notifications continue (null: all loaded). */
  nextCursor = $state<string | null>(null);
  /** Page one has arrived at least once. */
  loaded = $state(false);
  loadingMore = $state(false);
  error = $state<string | null>(null);

  #api: NotificationApi;
  #pageSize: number;
  #now: () => Date;
  /** Orders the answers that carry a count: a late answer must not overwrite a newer count. */
  #countStamp = 0;

  constructor(options: NotificationCentreOptions = {}) {
    super();
    this.#api = options.api ?? notificationApi;
    this.#pageSize = options.pageSize ?? 20;
    this.#now = options.now ?? (() => new Date());
  }

  protected listen(on: Listen): void {
    on('notification:created', (event) => {
      if (this.destroyed) return;
      this.#countStamp += 1;
      this.unreadCount = event.unreadCount;
      // An id already held is an aggregated notification that was updated ("Ana and 4 others reacted"): the new
      // version replaces the old one and sorts by its new time, which puts it on top.
      const others = this.items.filter((n) => n.id !== event.notification.id);
      this.items = [...others, event.notification].sort(newerFirst);
    });
    on('notification:removed', (event) => {
      if (this.destroyed) return;
      this.#countStamp += 1;
      this.unreadCount = event.unreadCount;
      this.#applyRemoved(event);
    });
    on('notification:read', (event) => {
      if (this.destroyed) return;
      this.#countStamp += 1;
      this.unreadCount = event.unreadCount;
      this.#applyRead(event);
    });
  }

  /** The server put the socket in the user's room on connect: nothing to join. */
  protected subscribe(): boolean {
    return true;
  }

  protected override async catchUp(): Promise<void> {
    await this.refresh();
  }

  /**
   * The unread count the page was rendered with (the shell's server load), so the badge and the tab title are right
   * before the socket connects. Anything the store has heard since wins.
   */
  seed(unreadCount: number | null): void {
    if (unreadCount === null || this.loaded || this.#countStamp > 0) return;
    this.unreadCount = unreadCount;
  }

  /** Page one and the unread count again; older pages already loaded stay below it. */
  async refresh(): Promise<void> {
    const stamp = ++this.#countStamp;
    const result = await this.#api.page(null, this.#pageSize);
    if (this.destroyed) return;
    if (!result.ok) {
      this.error = chatErrorMessage(result.error);
      return;
    }
    this.error = null;
    const head = result.data.data;
    const oldestOfHead = head.at(-1);
    const headIds = new Set(head.map((n) => n.id));
    const hadMore = this.loaded && this.items.length > this.#pageSize;
    const older = oldestOfHead ? this.items.filter((n) => !headIds.has(n.id) && newerFirst(oldestOfHead, n) < 0) : [];
    this.items = [...head, ...(hadMore ? older : [])];
    if (!hadMore) this.nextCursor = result.data.nextCursor;
    if (stamp === this.#countStamp) this.unreadCount = result.data.unreadCount;
    this.loaded = true;
  }

  async loadMore(): Promise<void> {
    if (!this.nextCursor || this.loadingMore) return;
    this.loadingMore = true;
    const result = await this.#api.page(this.nextCursor, this.#pageSize);
    this.loadingMore = false;
    if (this.destroyed) return;
    if (!result.ok) {
      this.error = chatErrorMessage(result.error);
      return;
    }
    this.error = null;
    const known = new Set(this.items.map((n) => n.id));
    this.items = [...this.items, ...result.data.data.filter((n) => !known.has(n.id))].sort(newerFirst);
    this.nextCursor = result.data.nextCursor;
  }

  /** Marks one notification read (clicking it); the count drops at once. */
  async markRead(id: string): Promise<void> {
    const item = this.items.find((n) => n.id === id);
    if (!item || item.readAt) return;
    this.#applyRead({ ids: [id], upTo: null, unreadCount: 0 });
    this.unreadCount = Math.max(0, this.unreadCount - 1);
    await this.#send({ ids: [id] });
  }

  /** Marks everything up to the newest notification shown read (one arriving meanwhile stays unread). */
  async markAllRead(): Promise<void> {
    const newest = this.items[0];
    const upTo = newest?.createdAt ?? this.#now().toISOString();
    this.#applyRead({ ids: null, upTo, unreadCount: 0 });
    this.unreadCount = this.items.filter((n) => !n.readAt).length;
    await this.#send({ upTo });
  }

  async #send(input: MarkNotificationsReadInput): Promise<void> {
    const stamp = ++this.#countStamp;
    const result = await this.#api.markRead(input);
    if (this.destroyed) return;
    if (!result.ok) {
      this.error = chatErrorMessage(result.error);
      return;
    }
    this.error = null;
    if (stamp === this.#countStamp) this.unreadCount = result.data.unreadCount;
  }

  /** Notifications the person may no longer see (the message was hidden, they left the community…) leave the list. */
  #applyRemoved(event: NotificationRemovedEvent): void {
    const gone = new Set(event.ids);
    if (this.items.some((n) => gone.has(n.id))) this.items = this.items.filter((n) => !gone.has(n.id));
  }

  #applyRead(event: NotificationReadEvent): void {
    const readAt = this.#now().toISOString();
    const ids = event.ids ? new Set(event.ids) : null;
    const upTo = event.upTo ? Date.parse(event.upTo) : null;
    let changed = false;
    const next = this.items.map((n) => {
      if (n.readAt) return n;
      const hit = ids ? ids.has(n.id) : upTo !== null && Date.parse(n.createdAt) <= upTo;
      if (!hit) return n;
      changed = true;
      return { ...n, readAt };
    });
    if (changed) this.items = next;
  }
}

/** Lets the bell and the notifications page share the layout's one centre. */
export const [getNotificationCentre, setNotificationCentre] = createContext<NotificationCentre>();
