/* eslint-disable svelte/prefer-svelte-reactivity -- the set here is private bookkeeping; the counts are $state. */
import type { MessageDto, ReadState } from '$contracts/chat.ts';
import type { ChannelDto } from '$contracts/communities.ts';
import { ackOf, type ChatSocket } from './ack.ts';

export interface ReadTrackerOptions {
  socket: () => ChatSocket | null;
  ackTimeoutMs: number;
}

/**
 * Unread and mention badges of one channel and the `read:mark` calls that clear them. Starts from the counts the
 * server listed with the channel (which cover everything up to its `lastSeq` then) and counts each newer message
 * from someone else exactly once: the caller reports a message only when its channel event is first applied.
 */
export class ReadTracker {
  unreadCount = $state(0);
  mentionCount = $state(0);
  /** The seq we have read up to, as far as this tab knows. */
  readSeq = $state(0);

  #channelId: string;
  #baseSeq: number;
  #options: ReadTrackerOptions;
  #markedSeq = 0;
  #mentioned = new Set<string>();

  constructor(channel: ChannelDto, options: ReadTrackerOptions) {
    this.#channelId = channel.id;
    this.#baseSeq = channel.lastSeq;
    this.unreadCount = channel.unreadCount;
    this.mentionCount = channel.mentionCount;
    this.#options = options;
  }

  /** A message from someone else was just applied at `seq`. */
  counted(message: MessageDto, seq: number, myId: string): void {
    if (seq <= this.readSeq) return;
    this.unreadCount += 1;
    if (message.mentions.includes(myId)) this.#countMention(message.id);
  }

  handleReadUpdated(read: ReadState): void {
    if (read.channelId !== this.#channelId || read.seq < this.readSeq) return;
    this.readSeq = read.seq;
    this.#markedSeq = Math.max(this.#markedSeq, read.seq);
    this.unreadCount = read.unreadCount;
    this.mentionCount = read.mentionCount;
  }

  /** `mention:created` reaches us even for messages we also see as channel events: counted once per message. */
  handleMention(payload: { messageId: string; seq: number }): void {
    if (payload.seq <= this.#baseSeq || payload.seq <= this.readSeq) return;
    this.#countMention(payload.messageId);
  }

  /** Marks everything up to `seq` read: badges clear at once and come back if the server does not store it. */
  markRead(seq: number): void {
    const socket = this.#options.socket();
    if (seq <= this.#markedSeq || !socket?.connected) return;
    const previous = { marked: this.#markedSeq, readSeq: this.readSeq, unread: this.unreadCount, mentions: this.mentionCount };
    this.#markedSeq = seq;
    this.readSeq = seq;
    this.unreadCount = 0;
    this.mentionCount = 0;
    void ackOf<ReadState>((ack) => socket.emit('read:mark', { channelId: this.#channelId, seq }, ack), this.#options.ackTimeoutMs).then(
      (result) => {
        if (result.ok) {
          this.handleReadUpdated(result.data);
        } else if (this.#markedSeq === seq) {
          this.#markedSeq = previous.marked;
          this.readSeq = previous.readSeq;
          this.unreadCount = previous.unread;
          this.mentionCount = previous.mentions;
        }
      },
    );
  }

  #countMention(messageId: string): void {
    if (this.#mentioned.has(messageId)) return;
    this.#mentioned.add(messageId);
    this.mentionCount += 1;
  }
}
