/* eslint-disable svelte/prefer-svelte-reactivity -- the maps, sets and dates here are private bookkeeping (timers,
   buffers, ids); what the UI renders is published through $state fields. */
import { createContext } from 'svelte';
import { SvelteMap } from 'svelte/reactivity';
import type { ChannelEvent, PresenceStatus } from '$contracts/chat.ts';
import type { ChannelDto } from '$contracts/communities.ts';
import type { ServerToClientEvents } from '$contracts/realtime.ts';
import { ackOf, chatErrorMessage, type ChatSocket } from './ack.ts';
import { ChannelState, type ChannelStateOptions } from './channel.svelte.ts';

export { ChannelState } from './channel.svelte.ts';
export type { ChatSocket } from './ack.ts';

export type ChatClientOptions = Omit<ChannelStateOptions, 'socket'>;

/** Online status of the people this tab has heard about. */
export class PresenceStore {
  #statuses = new SvelteMap<string, PresenceStatus>();

  status(userId: string): PresenceStatus {
    return this.#statuses.get(userId) ?? 'offline';
  }

  set(userId: string, status: PresenceStatus): void {
    if (this.#statuses.get(userId) !== status) this.#statuses.set(userId, status);
  }

  /** A fresh listing from the API replaces what we had for those people. */
  seed(entries: readonly { userId: string; status: PresenceStatus }[]): void {
    for (const { userId, status } of entries) this.set(userId, status);
  }
}

type Listener = [keyof ServerToClientEvents | 'connect' | 'disconnect', (...args: never[]) => void];

/**
 * The tab's chat: one ChannelState per channel it has opened, fed by the tab's one socket. Channel events are routed
 * by channelId; every (re)connect re-joins each open channel from its last applied seq, so whatever happened while
 * the tab was offline is replayed exactly once.
 */
export class ChatClient {
  readonly presence = new PresenceStore();
  /** The socket has been connected at least once (a later loss of connection is worth a banner). */
  everConnected = $state(false);
  /** The status this person picked; shown as theirs while connected. */
  myStatus = $state<Exclude<PresenceStatus, 'offline'>>('online');

  #options: ChatClientOptions;
  #socket: ChatSocket | null = null;
  #channels = new Map<string, ChannelState>();
  #listeners: Listener[] = [];

  constructor(options: ChatClientOptions) {
    this.#options = options;
  }

  get me() {
    return this.#options.me;
  }

  /** Starts listening on the tab's socket (call once it exists, in the browser only). */
  attach(socket: ChatSocket): void {
    if (this.#socket === socket) return;
    this.detach();
    this.#socket = socket;
    const route = <T extends ChannelEvent['type']>(type: T) =>
      ((event: Extract<ChannelEvent, { type: T }>) =>
        this.#channels.get(event.channelId)?.handleEvent({ ...event, type } as ChannelEvent)) as never;
    this.#listen('connect', () => this.#onConnect());
    this.#listen('disconnect', () => this.presence.set(this.me.id, 'offline'));
    this.#listen('message:created', route('message:created'));
    this.#listen('message:updated', route('message:updated'));
    this.#listen('message:deleted', route('message:deleted'));
    this.#listen('reaction:updated', route('reaction:updated'));
    this.#listen('typing', (p) => this.#channels.get(p.channelId)?.handleTyping(p));
    this.#listen('read:updated', (p) => this.#channels.get(p.channelId)?.handleReadUpdated(p));
    this.#listen('receipt:updated', (p) => this.#channels.get(p.channelId)?.handleReceipt(p));
    this.#listen('mention:created', (p) => this.#channels.get(p.channelId)?.handleMention(p));
    this.#listen('presence:updated', (p) => this.presence.set(p.userId, p.status));
    this.#listen('channel:removed', (p) => this.#channels.get(p.channelId)?.handleRemoved());
    if (socket.connected) this.#onConnect();
  }

  detach(): void {
    const socket = this.#socket;
    if (socket) {
      for (const [event, listener] of this.#listeners) socket.off(event as never, listener as never);
    }
    this.#listeners = [];
    this.#socket = null;
  }

  /**
   * The state of a channel, created on first use. Safe inside `$derived` and during SSR: joining happens later, on a
   * microtask (or when the socket connects).
   */
  open(channel: ChannelDto): ChannelState {
    const existing = this.#channels.get(channel.id);
    if (existing && !existing.removed) return existing;
    existing?.dispose();
    const state = new ChannelState(channel, { ...this.#options, socket: () => this.#socket });
    this.#channels.set(channel.id, state);
    if (this.#socket?.connected) queueMicrotask(() => void state.catchUp());
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
    if (this.#socket?.connected) this.#socket.emit('channel:leave', { channelId }, () => {});
  }

  destroy(): void {
    this.detach();
    for (const state of this.#channels.values()) state.dispose();
    this.#channels.clear();
  }

  /** Sets how others see us (online, away, do not disturb); returns an error message or null. */
  async setPresence(status: Exclude<PresenceStatus, 'offline'>): Promise<string | null> {
    const socket = this.#socket;
    if (!socket?.connected) return 'Not connected right now.';
    const result = await ackOf<{ status: PresenceStatus }>((ack) => socket.emit('presence:set', { status }, ack));
    if (!result.ok) return chatErrorMessage(result.error);
    this.myStatus = status;
    this.presence.set(this.me.id, status);
    return null;
  }

  #onConnect(): void {
    this.everConnected = true;
    this.presence.set(this.me.id, this.myStatus);
    // A new connection may start as plain "online" on the server: repeat a status the person picked.
    if (this.myStatus !== 'online') void this.setPresence(this.myStatus);
    for (const state of this.#channels.values()) state.onReconnect();
  }

  #listen<E extends Listener[0]>(event: E, listener: E extends keyof ServerToClientEvents ? ServerToClientEvents[E] : () => void) {
    this.#socket?.on(event as never, listener as never);
    this.#listeners.push([event, listener as never]);
  }
}

/** Lets pages under /app reach the tab's chat without prop drilling. */
export const [getChatClient, setChatClient] = createContext<ChatClient>();
