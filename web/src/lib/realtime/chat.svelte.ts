/* eslint-disable svelte/prefer-svelte-reactivity -- the maps, sets and dates here are private bookkeeping (timers,
   buffers, ids); what the UI renders is published through $state fields. */
import { createContext } from 'svelte';
import type { ChannelEvent, PresenceList, PresenceStatus } from '$contracts/chat.ts';
import type { ChannelDto } from '$contracts/communities.ts';
import type { AckResult } from '$contracts/errors.ts';
import { ackOf, chatErrorMessage, NO_ANSWER } from './ack.ts';
import { ChannelState, type ChannelStateOptions } from './channel.svelte.ts';
import { LiveStore, type Listen } from './liveStore.svelte.ts';
import { PresenceStore, type WatchChange } from './presence.svelte.ts';

export { ChannelState } from './channel.svelte.ts';
export { PresenceStore } from './presence.svelte.ts';
export type { ChatSocket } from './ack.ts';

export type ChatClientOptions = Omit<ChannelStateOptions, 'socket'>;

/**
 * The tab's chat: one ChannelState per channel it has opened, fed by the tab's one socket (a LiveStore). Channel
 * events are routed by channelId; every (re)connect re-joins each open channel from its last applied seq, so whatever
 * happened while the tab was offline is replayed exactly once.
 */
export class ChatClient extends LiveStore {
  readonly presence: PresenceStore;
  /** The socket has been connected at least once (a later loss of connection is worth a banner). */
  everConnected = $state(false);
  /** The status this person picked; shown as theirs while connected. */
  myStatus = $state<Exclude<PresenceStatus, 'offline'>>('online');

  #options: ChatClientOptions;
  #channels = new Map<string, ChannelState>();

  constructor(options: ChatClientOptions) {
    super();
    this.#options = options;
    this.presence = new PresenceStore({ self: options.me.id, send: (change) => this.#watchPresence(change) });
  }

  get me() {
    return this.#options.me;
  }

  protected listen(on: Listen): void {
    const route = <T extends ChannelEvent['type']>(type: T) =>
      ((event: Extract<ChannelEvent, { type: T }>) =>
        this.#channels.get(event.channelId)?.handleEvent({ ...event, type } as ChannelEvent)) as never;
    on('message:created', route('message:created'));
    on('message:updated', route('message:updated'));
    on('message:deleted', route('message:deleted'));
    on('reaction:updated', route('reaction:updated'));
    on('typing', (p) => this.#channels.get(p.channelId)?.handleTyping(p));
    on('read:updated', (p) => this.#channels.get(p.channelId)?.handleReadUpdated(p));
    on('receipt:updated', (p) => this.#channels.get(p.channelId)?.handleReceipt(p));
    on('mention:created', (p) => this.#channels.get(p.channelId)?.handleMention(p));
    on('presence:updated', (p) => {
      this.presence.set(p.userId, p.status);
      // Our own status, chosen on another device or kept from before we signed in again: the picker shows it too.
      if (p.userId === this.me.id && p.status !== 'offline') this.myStatus = p.status;
    });
    on('presence:rewatch', (p) => this.presence.rewatch(p.userIds));
    on('channel:removed', (p) => this.#channels.get(p.channelId)?.handleRemoved());
  }

  /**
   * Every (re)connect: our status again, the people on screen followed again, and each open channel re-joined and
   * caught up from its last applied seq.
   */
  protected subscribe(): boolean {
    this.everConnected = true;
    this.presence.set(this.me.id, this.myStatus);
    // A new connection may start as plain "online" on the server: repeat a status the person picked.
    if (this.myStatus !== 'online') void this.setPresence(this.myStatus);
    this.presence.connected();
    for (const state of this.#channels.values()) state.onReconnect();
    return true;
  }

  protected override disconnected(): void {
    this.presence.set(this.me.id, 'offline');
    this.presence.disconnected();
  }

  /**
   * The state of a channel, created on first use. Safe inside `$derived` and during SSR: joining happens later, on a
   * microtask (or when the socket connects).
   */
  open(channel: ChannelDto): ChannelState {
    const existing = this.#channels.get(channel.id);
    if (existing && !existing.removed) return existing;
    existing?.dispose();
    const state = new ChannelState(channel, { ...this.#options, socket: () => this.socket });
    this.#channels.set(channel.id, state);
    if (this.socket?.connected) queueMicrotask(() => void state.catchUp());
    return state;
  }

  get(channelId: string): ChannelState | undefined {
    return this.#channels.get(channelId);
  }

  /**
   * The person was removed from a community: its channels stop at once (the server's `channel:removed` for each one
   * follows, and finds them stopped already).
   */
  communityRemoved(communityId: string): void {
    for (const state of this.#channels.values()) if (state.info.communityId === communityId) state.handleRemoved();
  }

  /** Leaves a channel's room and forgets it. */
  close(channelId: string): void {
    const state = this.#channels.get(channelId);
    if (!state) return;
    state.dispose();
    this.#channels.delete(channelId);
    if (this.socket?.connected) this.socket.emit('channel:leave', { channelId }, () => {});
  }

  /** Whom the server followed belonged to the socket left behind: the next attach asks for everyone shown again. */
  override detach(): void {
    super.detach();
    this.presence.disconnected();
  }

  override destroy(): void {
    super.destroy();
    this.presence.dispose();
    for (const state of this.#channels.values()) state.dispose();
    this.#channels.clear();
  }

  /** One `presence:watch` request on the tab's socket (not buffered for a later connection: a reconnect asks anew). */
  #watchPresence(change: WatchChange): Promise<AckResult<PresenceList>> {
    const socket = this.socket;
    if (!socket?.connected) return Promise.resolve({ ok: false, error: NO_ANSWER });
    return ackOf<PresenceList>((ack) => socket.emit('presence:watch', change, ack), this.#options.ackTimeoutMs);
  }

  /** Sets how others see us (online, away, do not disturb); returns an error message or null. */
  async setPresence(status: Exclude<PresenceStatus, 'offline'>): Promise<string | null> {
    const socket = this.socket;
    if (!socket?.connected) return 'Not connected right now.';
    const result = await ackOf<{ status: PresenceStatus }>((ack) => socket.emit('presence:set', { status }, ack));
    if (!result.ok) return chatErrorMessage(result.error);
    this.myStatus = status;
    this.presence.set(this.me.id, status);
    return null;
  }
}

/** Lets pages under /app reach the tab's chat without prop drilling. */
export const [getChatClient, setChatClient] = createContext<ChatClient>();
