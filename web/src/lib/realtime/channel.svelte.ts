/* eslint-disable svelte/prefer-svelte-reactivity -- the set here is private bookkeeping; what the UI renders is
   published through $state fields. */
import type { ChannelEvent, MessageDto, MessagePage, ReactionDto, ReadState } from '$contracts/chat.ts';
import { EDIT_WINDOW_SECONDS, MESSAGE_MAX_LENGTH } from '$contracts/values/chat.ts';
import type { ChannelDto, UserRef } from '$contracts/communities.ts';
import type { AckResult } from '$contracts/errors.ts';
import { ackOf, chatErrorMessage, DEFAULT_ACK_TIMEOUT_MS, NO_ANSWER, type ChatSocket } from './ack.ts';
import { MessageLog } from './messageLog.ts';
import { ReadTracker } from './readTracker.svelte.ts';
import { SendQueue } from './sendQueue.svelte.ts';
import { SeqStream } from './seqStream.svelte.ts';
import { TypingState } from './typing.svelte.ts';

export type { PendingMessage } from './sendQueue.svelte.ts';

export interface HistoryQuery {
  afterSeq?: number;
  beforeSeq?: number;
  limit?: number;
}
/** A page of `GET /channels/:id/messages`. */
export type HistoryPage = MessagePage;

export interface ChannelStateOptions {
  me: UserRef;
  /** The tab's socket, or null before it exists. */
  socket: () => ChatSocket | null;
  fetchHistory: (channelId: string, query: HistoryQuery) => Promise<HistoryPage>;
  fetchThread: (messageId: string) => Promise<MessageDto[]>;
  now?: () => number;
  newClientId?: () => string;
  ackTimeoutMs?: number;
  /** How long an out-of-order event may wait for the missing ones (broadcasts from several nodes can overtake each other). */
  gapGraceMs?: number;
}

const HISTORY_PAGE = 50;
const REST_PAGE = 100;
const REMOVED = 'You no longer have access to this conversation.';

/**
 * One open channel: its messages, optimistic sends, typing, read state and unread badges, kept in step with the server
 * by channel events that the SeqStream applies strictly in seq order, each exactly once, catching up over
 * `channel:join` on gaps and reconnects.
 */
export class ChannelState {
  readonly id: string;
  info = $state.raw<ChannelDto>() as ChannelDto;
  /** Every known message (roots and thread replies), ordered by seq. */
  messages = $state.raw<MessageDto[]>([]);
  /** The server took us out of this channel (removed from it or from the community). */
  removed = $state(false);
  history = $state<'idle' | 'loading' | 'loaded' | 'error'>('idle');
  hasOlder = $state(false);
  /** DM read receipts: member id → seq read up to. */
  receipts = $state.raw<Record<string, number>>({});
  /** The caller may delete other people's messages (community moderators). */
  canModerate = $state(false);

  readonly stream: SeqStream;
  readonly sends: SendQueue;
  readonly typing: TypingState;
  readonly reads: ReadTracker;

  #opts: Required<Omit<ChannelStateOptions, 'me' | 'socket' | 'fetchHistory' | 'fetchThread'>> & ChannelStateOptions;
  #log: MessageLog;
  /** The seq the state started from: history before it comes from REST, everything after as events. */
  #baseSeq: number;
  #threads = new Set<string>();
  #disposed = false;

  constructor(channel: ChannelDto, options: ChannelStateOptions) {
    this.#opts = {
      now: () => Date.now(),
      newClientId: () => crypto.randomUUID(),
      ackTimeoutMs: DEFAULT_ACK_TIMEOUT_MS,
      gapGraceMs: 250,
      ...options,
    };
    this.id = channel.id;
    this.info = channel;
    this.#baseSeq = channel.lastSeq;
    this.#log = new MessageLog(channel.lastSeq + 1);
    this.stream = new SeqStream({
      channelId: channel.id,
      startSeq: channel.lastSeq,
      socket: options.socket,
      ackTimeoutMs: this.#opts.ackTimeoutMs,
      gapGraceMs: this.#opts.gapGraceMs,
      apply: (event) => this.#apply(event),
      applied: () => this.#publish(),
      refresh: (_target, current) => this.#refreshOverRest(current),
      lost: () => this.handleRemoved(),
    });
    this.sends = new SendQueue({
      channelId: channel.id,
      socket: options.socket,
      now: this.#opts.now,
      newClientId: this.#opts.newClientId,
      ackTimeoutMs: this.#opts.ackTimeoutMs,
      onStored: (message) => {
        if (this.#log.insertIfAbsent(message)) this.#publish();
      },
    });
    this.typing = new TypingState({ me: options.me, now: this.#opts.now });
    this.reads = new ReadTracker(channel, { socket: options.socket, ackTimeoutMs: this.#opts.ackTimeoutMs });
  }

  /** Seq of the last channel event applied: the state reflects every event up to it. */
  get lastSeq(): number {
    return this.stream.lastSeq;
  }

  get syncing(): boolean {
    return this.stream.syncing;
  }

  get joined(): boolean {
    return this.stream.joined;
  }

  get syncError(): string | null {
    return this.removed ? REMOVED : this.stream.error;
  }

  get unreadCount(): number {
    return this.reads.unreadCount;
  }

  get mentionCount(): number {
    return this.reads.mentionCount;
  }

  get me(): UserRef {
    return this.#opts.me;
  }

  /** Top-level messages (thread replies live in the thread panel). */
  get roots(): MessageDto[] {
    return this.messages.filter((m) => m.replyToId === null);
  }

  message(id: string): MessageDto | undefined {
    // Reading the published list makes callers inside $derived/templates update when the message changes.
    void this.messages;
    return this.#log.get(id);
  }

  /** A thread: its root followed by the replies we know of, oldest first. */
  thread(rootId: string): MessageDto[] {
    const root = this.message(rootId);
    const replies = this.messages.filter((m) => m.replyToId === rootId);
    return root ? [root, ...replies] : replies;
  }

  // ---- server events -------------------------------------------------------------------------------------------

  handleEvent(event: ChannelEvent): void {
    if (!this.#disposed && event.channelId === this.id) this.stream.push(event);
  }

  handleTyping(payload: { userId: string; displayName: string }): void {
    if (!this.#disposed) this.typing.heard(payload);
  }

  handleReadUpdated(read: ReadState): void {
    this.reads.handleReadUpdated(read);
  }

  handleMention(payload: { messageId: string; seq: number }): void {
    this.reads.handleMention(payload);
  }

  handleReceipt(payload: { userId: string; seq: number }): void {
    if ((this.receipts[payload.userId] ?? -1) >= payload.seq) return;
    this.receipts = { ...this.receipts, [payload.userId]: payload.seq };
  }

  handleRemoved(): void {
    this.removed = true;
    this.stream.stop();
  }

  /** Joins the room and applies everything after the last applied seq (see SeqStream.catchUp). */
  catchUp(restart = false): Promise<void> {
    if (this.#disposed || this.removed) return Promise.resolve();
    return this.stream.catchUp(restart);
  }

  /** After a reconnect: resend what may have been lost on the wire, then catch up from the last applied seq. */
  onReconnect(): void {
    if (this.#disposed || this.removed) return;
    this.sends.resendLost();
    void this.stream.catchUp(true);
  }

  #apply(event: ChannelEvent): void {
    const created = this.#log.applyEvent(event);
    if (!created) return;
    this.sends.settle(created, this.me.id);
    if (created.author.id === this.me.id) return;
    this.typing.stopped(created.author.id);
    this.reads.counted(created, event.seq, this.me.id);
  }

  /** Fallback when the server cannot replay events in order: the newer messages as they are now. */
  async #refreshOverRest(current: () => boolean): Promise<void> {
    let after = this.lastSeq;
    for (let page = 0; page < 1_000; page++) {
      const result = await this.#opts.fetchHistory(this.id, { afterSeq: after, limit: REST_PAGE });
      if (!current()) return;
      for (const message of result.data) {
        this.#log.overwrite(message);
        this.sends.settle(message, this.me.id);
        after = Math.max(after, message.seq);
      }
      if (!result.hasMore || result.data.length === 0) break;
    }
    this.#publish();
  }

  // ---- history and threads -------------------------------------------------------------------------------------

  /** The newest page of messages from before this state started; later ones arrive as events. */
  async loadLatest(): Promise<void> {
    if (this.history === 'loading' || this.history === 'loaded') return;
    if (this.#baseSeq === 0) {
      this.#log.windowStart = 0;
      this.history = 'loaded';
      return;
    }
    await this.#loadBefore(this.#baseSeq + 1);
  }

  async loadOlder(): Promise<void> {
    if (this.history === 'loading' || !this.hasOlder) return;
    await this.#loadBefore(this.#log.windowStart);
  }

  async #loadBefore(beforeSeq: number): Promise<void> {
    this.history = 'loading';
    this.#log.beginSnapshot();
    let page: HistoryPage | null = null;
    try {
      page = await this.#opts.fetchHistory(this.id, { beforeSeq, limit: HISTORY_PAGE });
    } catch {
      // Reported through `history`; the view offers to try again.
    }
    if (this.#disposed) return;
    const added = this.#log.finishSnapshot(page?.data ?? null);
    if (!page) {
      this.history = 'error';
      return;
    }
    for (const message of added) this.sends.settle(message, this.me.id);
    const oldest = Math.min(beforeSeq, ...page.data.map((m) => m.seq));
    this.hasOlder = page.hasMore && page.data.length > 0;
    this.#log.windowStart = this.hasOlder ? oldest : 0;
    this.history = 'loaded';
    this.#publish();
  }

  /** Loads a thread's replies once; later replies arrive as channel events. Returns an error message or null. */
  async loadThread(rootId: string): Promise<string | null> {
    if (this.#threads.has(rootId)) return null;
    this.#log.beginSnapshot();
    let messages: MessageDto[] | null = null;
    let error: string | null = null;
    try {
      messages = await this.#opts.fetchThread(rootId);
    } catch (err) {
      error = err instanceof Error ? err.message : 'The thread could not be loaded.';
    }
    if (this.#disposed) return error;
    this.#log.finishSnapshot(messages);
    if (messages) this.#threads.add(rootId);
    this.#publish();
    return error;
  }

  // ---- actions -------------------------------------------------------------------------------------------------

  /** Sends optimistically; returns a validation error, or null once the message is on its way. */
  send(body: string, replyToId: string | null = null): string | null {
    const text = body.trim();
    if (!text) return 'Write something first.';
    if (text.length > MESSAGE_MAX_LENGTH) return `Messages can be at most ${MESSAGE_MAX_LENGTH} characters.`;
    if (this.removed) return REMOVED;
    this.sends.send(text, replyToId, this.me);
    this.typing.sent();
    return null;
  }

  canEdit(message: MessageDto): boolean {
    if (message.author.id !== this.me.id || message.deletedAt) return false;
    return this.#opts.now() - Date.parse(message.createdAt) < EDIT_WINDOW_SECONDS * 1000;
  }

  canDelete(message: MessageDto): boolean {
    return !message.deletedAt && (message.author.id === this.me.id || this.canModerate);
  }

  /** Returns an error message, or null when the server accepted the edit. */
  async edit(messageId: string, body: string): Promise<string | null> {
    const text = body.trim();
    if (!text) return 'Write something first.';
    if (text.length > MESSAGE_MAX_LENGTH) return `Messages can be at most ${MESSAGE_MAX_LENGTH} characters.`;
    return this.#change<MessageDto>(messageId, (socket, ack) => socket.emit('message:edit', { messageId, body: text }, ack), (m) => m);
  }

  async remove(messageId: string): Promise<string | null> {
    return this.#change<MessageDto>(messageId, (socket, ack) => socket.emit('message:delete', { messageId }, ack), (m) => m);
  }

  async toggleReaction(messageId: string, emoji: string): Promise<string | null> {
    return this.#change<{ messageId: string; reactions: ReactionDto[] }>(
      messageId,
      (socket, ack) => socket.emit('reaction:toggle', { messageId, emoji }, ack),
      (data, current) => ({ ...current, reactions: data.reactions }),
    );
  }

  async #change<T>(
    messageId: string,
    emit: (socket: ChatSocket, ack: (result: AckResult<T>) => void) => void,
    toMessage: (data: T, current: MessageDto) => MessageDto,
  ): Promise<string | null> {
    const socket = this.#opts.socket();
    if (!socket) return chatErrorMessage(NO_ANSWER);
    const seqAtRequest = this.lastSeq;
    const result = await ackOf<T>((ack) => emit(socket, ack), this.#opts.ackTimeoutMs);
    if (!result.ok) return chatErrorMessage(result.error);
    if (this.#log.applyAck(messageId, seqAtRequest, (current) => toMessage(result.data, current))) this.#publish();
    return null;
  }

  /** Tells the others we are typing, at most once per TYPING_THROTTLE_MS. */
  notifyTyping(): void {
    const socket = this.#opts.socket();
    if (!socket?.connected || this.removed) return;
    if (this.typing.shouldAnnounce()) socket.emit('typing:start', { channelId: this.id });
  }

  /** Marks everything applied so far as read (call when the newest message is on screen). */
  markRead(): void {
    if (!this.removed) this.reads.markRead(this.lastSeq);
  }

  dispose(): void {
    this.#disposed = true;
    this.stream.stop();
    this.sends.dispose();
    this.typing.dispose();
  }

  #publish(): void {
    this.messages = this.#log.sorted();
  }
}
