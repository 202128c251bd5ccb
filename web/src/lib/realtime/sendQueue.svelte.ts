/* eslint-disable svelte/prefer-svelte-reactivity -- the maps, sets and dates here are private bookkeeping (timers,
   buffers, ids); what the UI renders is published through $state fields. */
import type { MessageDto } from '$contracts/chat.ts';
import type { UserRef } from '$contracts/communities.ts';
import { chatErrorMessage, NO_ANSWER, type ChatSocket } from './ack.ts';

/** A message typed here that the server has not acknowledged yet. */
export interface PendingMessage {
  /** Chosen once; every retry reuses it, so the server stores the message at most once. */
  clientId: string;
  body: string;
  replyToId: string | null;
  author: UserRef;
  status: 'pending' | 'failed';
  error: string | null;
  createdAt: string;
}

export interface SendQueueOptions {
  channelId: string;
  socket: () => ChatSocket | null;
  now: () => number;
  newClientId: () => string;
  ackTimeoutMs: number;
  /** The stored message from a `message:send` ack. */
  onStored: (message: MessageDto) => void;
}

/**
 * Optimistic sends of one channel, keyed by clientId: pending until the ack (or the `message:created` event of the
 * same clientId, whichever comes first) settles them, failed when the server refuses or does not answer in time.
 */
export class SendQueue {
  items = $state.raw<PendingMessage[]>([]);

  #opts: SendQueueOptions;
  #attempts = new Map<string, number>();
  #timers = new Map<string, ReturnType<typeof setTimeout>>();
  /** Emitted while connected: if the connection drops before the ack, socket.io-client forgets the ack. */
  #onWire = new Set<string>();
  #disposed = false;

  constructor(options: SendQueueOptions) {
    this.#opts = options;
  }

  send(body: string, replyToId: string | null, author: UserRef): string {
    const clientId = this.#opts.newClientId();
    const item: PendingMessage = {
      clientId,
      body,
      replyToId,
      author,
      status: 'pending',
      error: null,
      createdAt: new Date(this.#opts.now()).toISOString(),
    };
    this.items = [...this.items, item];
    this.#emit(clientId);
    return clientId;
  }

  /** Sends a failed message again with the same clientId. */
  retry(clientId: string): void {
    const item = this.items.find((p) => p.clientId === clientId);
    if (!item || item.status !== 'failed') return;
    this.#update(clientId, { status: 'pending', error: null });
    this.#emit(clientId);
  }

  /** Gives up on a failed message. */
  discard(clientId: string): void {
    const item = this.items.find((p) => p.clientId === clientId);
    if (item?.status === 'failed') this.#forget(clientId);
  }

  /** The server has this message: drop our optimistic copy of it. */
  settle(message: MessageDto, myId: string): void {
    if (message.author.id !== myId || !this.#attempts.has(message.clientId)) return;
    this.#forget(message.clientId);
  }

  /** After a reconnect: sends that were on the wire when the connection dropped go again (same clientId). */
  resendLost(): void {
    for (const item of this.items) {
      if (item.status === 'pending' && this.#onWire.has(item.clientId)) this.#emit(item.clientId);
    }
  }

  dispose(): void {
    this.#disposed = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  #emit(clientId: string): void {
    const item = this.items.find((p) => p.clientId === clientId);
    if (!item) return;
    const socket = this.#opts.socket();
    const attempt = (this.#attempts.get(clientId) ?? 0) + 1;
    this.#attempts.set(clientId, attempt);
    this.#clearTimer(clientId);
    if (!socket) {
      this.#fail(clientId, attempt, chatErrorMessage(NO_ANSWER));
      return;
    }
    // While disconnected socket.io-client buffers the packet and its ack until it reconnects.
    if (socket.connected) this.#onWire.add(clientId);
    else this.#onWire.delete(clientId);
    this.#timers.set(
      clientId,
      setTimeout(() => this.#fail(clientId, attempt, chatErrorMessage(NO_ANSWER)), this.#opts.ackTimeoutMs),
    );
    const input = {
      channelId: this.#opts.channelId,
      clientId,
      body: item.body,
      ...(item.replyToId ? { replyToId: item.replyToId } : {}),
    };
    socket.emit('message:send', input, (result) => {
      if (this.#disposed) return;
      if (result?.ok) {
        // Even a late ack (after we showed "failed") means the message is stored.
        this.#opts.onStored(result.data);
        if (this.#attempts.has(clientId)) this.#forget(clientId);
      } else {
        this.#fail(clientId, attempt, chatErrorMessage(result?.error ?? NO_ANSWER));
      }
    });
  }

  /** Marks the send failed unless a newer attempt has started or it already settled. */
  #fail(clientId: string, attempt: number, error: string): void {
    if (this.#disposed || this.#attempts.get(clientId) !== attempt) return;
    this.#clearTimer(clientId);
    this.#onWire.delete(clientId);
    this.#update(clientId, { status: 'failed', error });
  }

  #forget(clientId: string): void {
    this.#clearTimer(clientId);
    this.#attempts.delete(clientId);
    this.#onWire.delete(clientId);
    this.items = this.items.filter((p) => p.clientId !== clientId);
  }

  #update(clientId: string, patch: Partial<PendingMessage>): void {
    this.items = this.items.map((p) => (p.clientId === clientId ? { ...p, ...patch } : p));
  }

  #clearTimer(clientId: string): void {
    const timer = this.#timers.get(clientId);
    if (timer) clearTimeout(timer);
    this.#timers.delete(clientId);
  }
}
