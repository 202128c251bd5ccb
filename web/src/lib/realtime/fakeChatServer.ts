/**
 * Test double for the browser side only: an in-memory stand-in for the chat socket protocol (channel events with
 * gapless seqs, idempotent sends, join catch-up capped per call, presence told to the sockets that follow a person) and
 * sockets that implement just connected/emit/on/off.
 * Used by the unit tests of the chat state; never imported by the app.
 */
import type { ChannelEvent, MessageDto, PresenceStatus, ReactionDto } from '$contracts/chat.ts';
import type { ChannelDto, UserRef } from '$contracts/communities.ts';
import type { AckResult } from '$contracts/errors.ts';
import type { ChatSocket } from './ack.ts';
import { ChatClient, type ChannelState } from './chat.svelte.ts';
import type { HistoryPage, HistoryQuery } from './channel.svelte.ts';

type Handler = (...args: any[]) => void;

let ids = 0;
export function uuid(): string {
  ids += 1;
  return `00000000-0000-4000-8000-${ids.toString(16).padStart(12, '0')}`;
}

interface ChannelRecord {
  dto: ChannelDto;
  events: ChannelEvent[];
  messages: Map<string, MessageDto>;
}

export class FakeChatServer {
  channels = new Map<string, ChannelRecord>();
  sockets = new Set<FakeSocket>();
  /** Events returned per channel:join (the real server caps at ~500). */
  joinLimit = 500;
  /** Which end of a long catch-up channel:join hands over (a server could prefer the newest events). */
  joinKeeps: 'oldest' | 'newest' = 'oldest';
  /** REST history calls, for assertions. */
  historyCalls: HistoryQuery[] = [];
  /** Calls seen, for assertions. */
  calls: { event: string; payload: any; socket: FakeSocket }[] = [];
  /** Store the next sends but never answer them (a dropped ack). */
  dropSendAcks = 0;
  /** Refuse the next sends with this error. */
  refuseSends: AckResult<never>[] = [];
  /** Delay acks by this long (0: next microtask), so events can overtake them. */
  ackDelayMs = 0;
  clock = Date.parse('2026-01-01T10:00:00.000Z');
  /** Everyone's status (absent: offline). */
  statuses = new Map<string, PresenceStatus>();

  createChannel(name = 'general'): ChannelDto {
    const dto: ChannelDto = {
      id: uuid(),
      communityId: uuid(),
      kind: 'channel',
      name,
      topic: '',
      visibility: 'public',
      archived: false,
      lastSeq: 0,
      unreadCount: 0,
      mentionCount: 0,
      members: [],
    };
    this.channels.set(dto.id, { dto, events: [], messages: new Map() });
    return dto;
  }

  /** The channel as GET /communities/:id/channels would list it now. */
  channelDto(channelId: string): ChannelDto {
    const record = this.#channel(channelId);
    return { ...record.dto, lastSeq: record.events.length };
  }

  connect(user: UserRef): FakeSocket {
    const socket = new FakeSocket(this, user);
    this.sockets.add(socket);
    return socket;
  }

  /** Current messages of a channel, as a replica that never missed anything would hold them. */
  messages(channelId: string): MessageDto[] {
    return [...this.#channel(channelId).messages.values()].sort((a, b) => a.seq - b.seq);
  }

  history(channelId: string, query: HistoryQuery): HistoryPage {
    this.historyCalls.push(query);
    const limit = query.limit ?? 50;
    let list = this.messages(channelId);
    if (query.afterSeq !== undefined) list = list.filter((m) => m.seq > query.afterSeq!);
    if (query.beforeSeq !== undefined) {
      list = list.filter((m) => m.seq < query.beforeSeq!);
      const page = list.slice(-limit);
      return { data: page, hasMore: list.length > page.length };
    }
    const page = list.slice(0, limit);
    return { data: page, hasMore: list.length > page.length };
  }

  thread(messageId: string): MessageDto[] {
    for (const record of this.channels.values()) {
      const root = record.messages.get(messageId);
      if (root) return [root, ...[...record.messages.values()].filter((m) => m.replyToId === messageId).sort((a, b) => a.seq - b.seq)];
    }
    throw new Error('not found');
  }

  /** A change made by someone through another path (e.g. another node): stored and broadcast. */
  send(author: UserRef, channelId: string, body: string, options: { replyToId?: string; mentions?: string[] } = {}): MessageDto {
    return this.#store(author, { channelId, clientId: uuid(), body, replyToId: options.replyToId }, options.mentions ?? []);
  }

  edit(messageId: string, body: string): MessageDto {
    return this.#update(messageId, 'message:updated', (m) => ({ ...m, body, editedAt: this.#now() }));
  }

  delete(messageId: string): MessageDto {
    return this.#update(messageId, 'message:deleted', (m) => ({ ...m, body: '', deletedAt: this.#now() }));
  }

  toggleReaction(user: UserRef, messageId: string, emoji: string): ReactionDto[] {
    const record = this.#recordOf(messageId);
    const message = record.messages.get(messageId)!;
    const reactions = message.reactions.map((r) => ({ ...r, userIds: [...r.userIds] }));
    const existing = reactions.find((r) => r.emoji === emoji);
    if (existing?.userIds.includes(user.id)) existing.userIds = existing.userIds.filter((id) => id !== user.id);
    else if (existing) existing.userIds.push(user.id);
    else reactions.push({ emoji, count: 0, userIds: [user.id] });
    const next = reactions.map((r) => ({ ...r, count: r.userIds.length })).filter((r) => r.count > 0);
    record.messages.set(messageId, { ...message, reactions: next });
    this.#append(record, { type: 'reaction:updated', channelId: record.dto.id, seq: 0, messageId, reactions: next });
    return next;
  }

  /** Someone's status changes: told to them and to the sockets that follow them. */
  setStatus(userId: string, status: PresenceStatus): void {
    if (status === 'offline') this.statuses.delete(userId);
    else this.statuses.set(userId, status);
    for (const socket of this.sockets) {
      if (socket.connected && (socket.user.id === userId || socket.watching.has(userId))) socket.deliver('presence:updated', { userId, status });
    }
  }

  /** The server stops following these people (null: everyone) for a socket and tells it so. */
  dropWatches(socket: FakeSocket, userIds: string[] | null): void {
    if (userIds === null) socket.watching.clear();
    else for (const userId of userIds) socket.watching.delete(userId);
    socket.deliver('presence:rewatch', { userIds });
  }

  handle(socket: FakeSocket, event: string, payload: any, ack?: (result: AckResult<unknown>) => void): void {
    this.calls.push({ event, payload, socket });
    const answer = (result: AckResult<unknown>) => () => socket.connected && ack?.(result);
    const reply = (result: AckResult<unknown>): void => {
      if (this.ackDelayMs > 0) setTimeout(answer(result), this.ackDelayMs);
      else queueMicrotask(answer(result));
    };
    switch (event) {
      case 'channel:join': {
        const record = this.channels.get(payload.channelId);
        if (!record) return reply({ ok: false, error: { code: 'not_found', message: 'No such channel.' } });
        socket.rooms.add(payload.channelId);
        const after = payload.afterSeq ?? record.events.length;
        const missed = record.events.filter((e) => e.seq > after);
        const events = this.joinKeeps === 'oldest' ? missed.slice(0, this.joinLimit) : missed.slice(-this.joinLimit);
        reply({ ok: true, data: { channelId: payload.channelId, lastSeq: record.events.length, events, hasMore: missed.length > events.length } });
        return;
      }
      case 'message:send': {
        const refusal = this.refuseSends.shift();
        if (refusal) return reply(refusal);
        const message = this.#store(socket.user, payload, []);
        if (this.dropSendAcks > 0) {
          this.dropSendAcks -= 1;
          return;
        }
        return reply({ ok: true, data: message });
      }
      case 'message:edit':
        return reply({ ok: true, data: this.edit(payload.messageId, payload.body) });
      case 'message:delete':
        return reply({ ok: true, data: this.delete(payload.messageId) });
      case 'reaction:toggle':
        return reply({ ok: true, data: { messageId: payload.messageId, reactions: this.toggleReaction(socket.user, payload.messageId, payload.emoji) } });
      case 'read:mark':
        return reply({ ok: true, data: { channelId: payload.channelId, seq: payload.seq, unreadCount: 0, mentionCount: 0 } });
      case 'typing:start':
        for (const other of this.sockets) {
          if (other !== socket && other.connected && other.rooms.has(payload.channelId)) {
            other.deliver('typing', { channelId: payload.channelId, userId: socket.user.id, displayName: socket.user.displayName });
          }
        }
        return;
      case 'presence:set':
        this.setStatus(socket.user.id, payload.status);
        return reply({ ok: true, data: { status: payload.status } });
      case 'presence:watch': {
        const add: string[] = payload.add ?? [];
        for (const userId of payload.remove ?? []) socket.watching.delete(userId);
        for (const userId of add) socket.watching.add(userId);
        const data = add.flatMap((userId) => {
          const status = this.statuses.get(userId);
          return status ? [{ userId, status }] : [];
        });
        return reply({ ok: true, data: { data } });
      }
      case 'channel:leave':
        socket.rooms.delete(payload.channelId);
        return reply({ ok: true, data: { channelId: payload.channelId } });
    }
  }

  #store(author: UserRef, input: { channelId: string; clientId: string; body: string; replyToId?: string }, mentions: string[]): MessageDto {
    const record = this.#channel(input.channelId);
    const duplicate = [...record.messages.values()].find((m) => m.author.id === author.id && m.clientId === input.clientId);
    if (duplicate) return duplicate;
    const message: MessageDto = {
      id: uuid(),
      channelId: input.channelId,
      seq: record.events.length + 1,
      clientId: input.clientId,
      author,
      body: input.body,
      replyToId: input.replyToId ?? null,
      threadCount: 0,
      reactions: [],
      mentions,
      pinned: false,
      createdAt: this.#now(),
      editedAt: null,
      deletedAt: null,
      hidden: false,
    };
    record.messages.set(message.id, message);
    let thread: { parentId: string; threadCount: number } | null = null;
    if (message.replyToId) {
      const parent = record.messages.get(message.replyToId)!;
      const threadCount = parent.threadCount + 1;
      record.messages.set(parent.id, { ...parent, threadCount });
      thread = { parentId: parent.id, threadCount };
    }
    this.#append(record, { type: 'message:created', channelId: record.dto.id, seq: 0, message, thread });
    return message;
  }

  #update(messageId: string, type: 'message:updated' | 'message:deleted', change: (m: MessageDto) => MessageDto): MessageDto {
    const record = this.#recordOf(messageId);
    const next = change(record.messages.get(messageId)!);
    record.messages.set(messageId, next);
    this.#append(record, { type, channelId: record.dto.id, seq: 0, message: next });
    return next;
  }

  #append(record: ChannelRecord, event: ChannelEvent): void {
    const stored = { ...event, seq: record.events.length + 1 } as ChannelEvent;
    record.events.push(stored);
    for (const socket of this.sockets) {
      if (socket.connected && socket.rooms.has(record.dto.id)) socket.deliver(stored.type, stored);
    }
  }

  #channel(channelId: string): ChannelRecord {
    const record = this.channels.get(channelId);
    if (!record) throw new Error(`no channel ${channelId}`);
    return record;
  }

  #recordOf(messageId: string): ChannelRecord {
    for (const record of this.channels.values()) if (record.messages.has(messageId)) return record;
    throw new Error(`no message ${messageId}`);
  }

  #now(): string {
    this.clock += 1000;
    return new Date(this.clock).toISOString();
  }
}

/** Just `connected`, `emit`, `on` and `off`, like the slice of socket.io-client's Socket the chat state uses. */
export class FakeSocket {
  connected = false;
  rooms = new Set<string>();
  /** The people whose presence the server tells this socket about. */
  watching = new Set<string>();
  /** While set, deliveries are held back (to reorder or drop them). */
  held: [string, unknown][] | null = null;
  #handlers = new Map<string, Set<Handler>>();
  /** Emits made while disconnected, sent on connect like socket.io-client's send buffer. */
  #sendBuffer: [string, unknown, Handler | undefined][] = [];

  readonly server: FakeChatServer;
  readonly user: UserRef;

  constructor(server: FakeChatServer, user: UserRef) {
    this.server = server;
    this.user = user;
  }

  asChatSocket(): ChatSocket {
    return this as unknown as ChatSocket;
  }

  on(event: string, handler: Handler): this {
    const set = this.#handlers.get(event) ?? new Set();
    set.add(handler);
    this.#handlers.set(event, set);
    return this;
  }

  off(event: string, handler: Handler): this {
    this.#handlers.get(event)?.delete(handler);
    return this;
  }

  emit(event: string, payload: unknown, ack?: Handler): this {
    if (!this.connected) this.#sendBuffer.push([event, payload, ack]);
    // On the wire: the server handles it a moment later, even if the connection drops meanwhile.
    else queueMicrotask(() => this.server.handle(this, event, payload, ack));
    return this;
  }

  deliver(event: string, payload: unknown): void {
    if (this.held) {
      this.held.push([event, payload]);
      return;
    }
    for (const handler of [...(this.#handlers.get(event) ?? [])]) handler(payload);
  }

  connect(): void {
    this.connected = true;
    const buffered = this.#sendBuffer;
    this.#sendBuffer = [];
    // Like socket.io-client: the send buffer goes out before the `connect` listeners run.
    for (const [event, payload, ack] of buffered) this.server.handle(this, event, payload, ack);
    for (const handler of [...(this.#handlers.get('connect') ?? [])]) handler();
  }

  /** The network drops: the server forgets our rooms and whom we followed; pending acks are never answered. */
  drop(): void {
    this.connected = false;
    this.rooms.clear();
    this.watching.clear();
    for (const handler of [...(this.#handlers.get('disconnect') ?? [])]) handler('transport close');
  }

  /** Delivers held events in the given order (default: as held) and stops holding. */
  release(order?: (held: [string, unknown][]) => [string, unknown][]): void {
    const held = this.held ?? [];
    this.held = null;
    for (const [event, payload] of order ? order(held) : held) this.deliver(event, payload);
  }
}

// ---- helpers for the tests ------------------------------------------------------------------------------------

/** Lets acks (microtasks) and zero-delay timers run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 30; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

export async function microtasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

export interface Client {
  socket: FakeSocket;
  chat: ChatClient;
  open(channelId: string): ChannelState;
}

export function connectClient(server: FakeChatServer, user: UserRef, options: { ackTimeoutMs?: number; gapGraceMs?: number } = {}): Client {
  const socket = server.connect(user);
  const chat = new ChatClient({
    me: user,
    fetchHistory: async (channelId, query) => server.history(channelId, query),
    fetchThread: async (messageId) => server.thread(messageId),
    gapGraceMs: options.gapGraceMs ?? 0,
    ackTimeoutMs: options.ackTimeoutMs ?? 1_000,
  });
  chat.attach(socket.asChatSocket());
  socket.connect();
  return { socket, chat, open: (channelId) => chat.open(server.channelDto(channelId)) };
}

export const joinsOf = (server: FakeChatServer, socket: FakeSocket) =>
  server.calls.filter((c) => c.socket === socket && c.event === 'channel:join').map((c) => c.payload.afterSeq as number);

export function created(channelId: string, seq: number, author: UserRef, body: string): ChannelEvent {
  const message: MessageDto = {
    id: uuid(),
    channelId,
    seq,
    clientId: `client-${seq}`,
    author,
    body,
    replyToId: null,
    threadCount: 0,
    reactions: [],
    mentions: [],
    pinned: false,
    createdAt: new Date(Date.UTC(2026, 0, 1, 10, 0, seq)).toISOString(),
    editedAt: null,
    deletedAt: null,
    hidden: false,
  };
  return { type: 'message:created', channelId, seq, message, thread: null };
}
