import type { ChannelEvent, MessageDto } from '$contracts/chat.ts';

/**
 * The messages of one channel as a plain map, plus the bookkeeping that makes applying channel events idempotent and
 * merging REST snapshots safe. No reactivity here: ChannelState publishes a sorted copy after each batch.
 *
 * Sources of truth, strongest first:
 *   1. channel events, applied strictly in seq order (each carries the message as it is after that change);
 *   2. REST snapshots (history pages, threads) for messages no event has told us about yet;
 *   3. acks of our own edits/deletes/reactions, only while no newer event for that message has been applied.
 */
export class MessageLog {
  #byId = new Map<string, MessageDto>();
  /** Seq of the last channel event applied to each message. */
  #eventSeq = new Map<string, number>();
  /** Every message created at or after this seq is known (events cover the rest). */
  windowStart: number;
  /**
   * Events about messages outside the window, kept while a snapshot request is in flight: the snapshot may have been
   * read before they happened, so they are replayed onto it when it lands.
   */
  #outside = new Map<string, { seq: number; apply: (m: MessageDto) => MessageDto }[]>();
  #snapshotsInFlight = 0;

  constructor(windowStart: number) {
    this.windowStart = windowStart;
  }

  get(id: string): MessageDto | undefined {
    return this.#byId.get(id);
  }

  has(id: string): boolean {
    return this.#byId.has(id);
  }

  get size(): number {
    return this.#byId.size;
  }

  /** All messages ordered by their creation seq. */
  sorted(): MessageDto[] {
    return [...this.#byId.values()].sort((a, b) => a.seq - b.seq);
  }

  /**
   * Applies one channel event (the caller guarantees seq order). Returns the created message for
   * `message:created`, so the caller can settle its optimistic copy and count unread.
   */
  applyEvent(event: ChannelEvent): MessageDto | null {
    switch (event.type) {
      case 'message:created': {
        this.#put(event.message, event.seq);
        if (event.thread) {
          const { parentId, threadCount } = event.thread;
          this.#change(parentId, event.seq, (m) => (m.threadCount === threadCount ? m : { ...m, threadCount }));
        }
        return event.message;
      }
      case 'message:updated':
      case 'message:deleted': {
        const next = event.message;
        if (this.#byId.has(next.id) || next.seq >= this.windowStart) this.#put(next, event.seq);
        else this.#remember(next.id, event.seq, () => next);
        return null;
      }
      case 'reaction:updated': {
        const { reactions } = event;
        this.#change(event.messageId, event.seq, (m) => ({ ...m, reactions }));
        return null;
      }
    }
  }

  /** Called when a REST request for messages starts; pair with `finishSnapshot`. */
  beginSnapshot(): void {
    this.#snapshotsInFlight += 1;
  }

  /** Merges a REST snapshot: only messages no event has described yet, with out-of-window events replayed on top. */
  finishSnapshot(messages: readonly MessageDto[] | null): MessageDto[] {
    const added: MessageDto[] = [];
    for (const snapshot of messages ?? []) {
      if (this.#byId.has(snapshot.id)) continue;
      let current = snapshot;
      let seq = 0;
      for (const change of this.#outside.get(snapshot.id) ?? []) {
        current = change.apply(current);
        seq = change.seq;
      }
      this.#byId.set(current.id, current);
      if (seq > 0) this.#eventSeq.set(current.id, seq);
      added.push(current);
    }
    this.#snapshotsInFlight = Math.max(0, this.#snapshotsInFlight - 1);
    if (this.#snapshotsInFlight === 0) this.#outside.clear();
    return added;
  }

  /** Inserts a message we learnt of outside the event stream (the ack of our own send) unless already known. */
  insertIfAbsent(message: MessageDto): boolean {
    if (this.#byId.has(message.id)) return false;
    this.#byId.set(message.id, message);
    return true;
  }

  /**
   * Applies the ack of one of our own changes, requested when `seqAtRequest` was the last applied seq. An event for
   * that message applied since then is at least as new as the ack, so the ack is dropped.
   */
  applyAck(messageId: string, seqAtRequest: number, apply: (m: MessageDto) => MessageDto): boolean {
    const current = this.#byId.get(messageId);
    if (!current || (this.#eventSeq.get(messageId) ?? 0) > seqAtRequest) return false;
    this.#byId.set(messageId, apply(current));
    return true;
  }

  /** Overwrites with a snapshot known to be current (REST catch-up fallback). */
  overwrite(message: MessageDto): void {
    this.#byId.set(message.id, message);
  }

  #put(message: MessageDto, seq: number): void {
    this.#byId.set(message.id, message);
    this.#eventSeq.set(message.id, seq);
  }

  /** A change to a message we may not hold (reactions, a parent's thread count): replayed onto its snapshot if not. */
  #change(id: string, seq: number, apply: (m: MessageDto) => MessageDto): void {
    const current = this.#byId.get(id);
    if (!current) {
      this.#remember(id, seq, apply);
      return;
    }
    this.#byId.set(id, apply(current));
    this.#eventSeq.set(id, seq);
  }

  #remember(id: string, seq: number, apply: (m: MessageDto) => MessageDto): void {
    if (this.#snapshotsInFlight === 0) return;
    const list = this.#outside.get(id) ?? [];
    list.push({ seq, apply });
    this.#outside.set(id, list);
  }
}
