import type { AckResult } from '$contracts/errors.ts';
import type { ChannelDto, ChannelList } from '$contracts/communities.ts';
import { LiveStore, type Listen } from './liveStore.svelte.ts';
import { callApi } from './restClient.ts';

/** The REST call the inbox makes to catch up (unit tests hand in a fake). */
export type FetchDms = () => Promise<AckResult<ChannelList>>;
const fetchDms: FetchDms = () => callApi<ChannelList>('GET', 'dms');

/**
 * Unread direct messages for the "Messages" badge, on every page, without joining every DM's room: the server tells
 * the other members of a DM `dm:activity` in their own rooms (one more unread), and `read:updated` (also in the
 * user's room, from any of their devices) sets a DM's count. Each (re)connect fetches the DM list again, since events
 * sent while disconnected are lost.
 */
export class DmInbox extends LiveStore {
  /** Unread messages per DM channel id. */
  unread = $state<Record<string, number>>({});
  #fetch: FetchDms;
  /** Events since the last fetch started: one that raced the fetch makes it run again. */
  #events = 0;

  constructor(options: { fetch?: FetchDms } = {}) {
    super();
    this.#fetch = options.fetch ?? fetchDms;
  }

  /** Counts as the page rendered them (the first paint), until the socket has caught up. */
  seed(dms: readonly ChannelDto[]): void {
    this.unread = Object.fromEntries(dms.map((dm) => [dm.id, dm.unreadCount]));
  }

  /** Unread messages over all DMs, leaving out the one on screen (`openChannelId`), which is read as it arrives. */
  total(openChannelId: string | null = null): number {
    let sum = 0;
    for (const [id, count] of Object.entries(this.unread)) if (id !== openChannelId) sum += count;
    return sum;
  }

  protected listen(on: Listen): void {
    on('dm:activity', ({ channelId }) => {
      if (this.destroyed) return;
      this.#events += 1;
      this.unread = { ...this.unread, [channelId]: (this.unread[channelId] ?? 0) + 1 };
    });
    on('read:updated', ({ channelId, unreadCount }) => {
      if (this.destroyed || !(channelId in this.unread)) return;
      this.#events += 1;
      this.unread = { ...this.unread, [channelId]: unreadCount };
    });
  }

  /** The server put the socket in the user's room on connect: nothing to join. */
  protected subscribe(): boolean {
    return true;
  }

  protected override async catchUp(): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      this.#events = 0;
      const result = await this.#fetch();
      if (this.destroyed || !result.ok) return;
      // Counted twice or not at all if an event crossed the answer: ask again.
      if (this.#events > 0) continue;
      this.seed(result.data.data);
      return;
    }
  }
}
