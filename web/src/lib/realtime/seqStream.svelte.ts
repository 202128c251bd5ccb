/* eslint-disable svelte/prefer-svelte-reactivity -- the buffer is private bookkeeping; what the UI reads is $state. */
import type { ChannelEvent, JoinResult } from '$contracts/chat.ts';
import type { ErrorBody } from '$contracts/errors.ts';
import { ackOf, chatErrorMessage, type ChatSocket } from './ack.ts';

/** channel:join returns at most ~500 events; this many rounds covers a long absence. */
const MAX_JOIN_ROUNDS = 40;
const MAX_RETRY_DELAY_MS = 30_000;

export interface SeqStreamOptions {
  channelId: string;
  /** Everything up to this seq is already reflected in the state. */
  startSeq: number;
  socket: () => ChatSocket | null;
  ackTimeoutMs: number;
  /** How long an out-of-order event may wait for the missing ones (broadcasts from several nodes can overtake). */
  gapGraceMs: number;
  /** Applies one event; called exactly once per seq, in seq order. */
  apply: (event: ChannelEvent) => void;
  /** After a batch of events was applied (publish the state once, not per event). */
  applied: () => void;
  /**
   * The server reports events up to `targetSeq` that it did not hand over in order: bring the state up to date some
   * other way (REST). Return false when superseded.
   */
  refresh: (targetSeq: number, stillCurrent: () => boolean) => Promise<void>;
  /** channel:join was refused: the caller lost access. */
  lost: (error: ErrorBody) => void;
}

/**
 * Applies one channel's events strictly in seq order, each exactly once. An event at or below `lastSeq` is a duplicate
 * and ignored; one beyond `lastSeq + 1` waits in a buffer and, unless the missing events show up within the grace
 * period, triggers a catch-up: `channel:join` from `lastSeq`, repeated while the server has more.
 */
export class SeqStream {
  /** Seq of the last event applied. */
  lastSeq = $state(0);
  /** A join or catch-up is in flight. */
  syncing = $state(false);
  /** Set once the first join succeeded. */
  joined = $state(false);
  error = $state<string | null>(null);

  #opts: SeqStreamOptions;
  #buffer = new Map<number, ChannelEvent>();
  #catchingUp = false;
  #again = false;
  /** Identifies the latest catch-up run; older runs stop touching the state. */
  #run = 0;
  #failures = 0;
  #gapTimer: ReturnType<typeof setTimeout> | null = null;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;

  constructor(options: SeqStreamOptions) {
    this.#opts = options;
    this.lastSeq = options.startSeq;
  }

  /** A live event from the socket. */
  push(event: ChannelEvent): void {
    if (this.#stopped) return;
    this.#ingest(event);
    this.#opts.applied();
    if (this.#buffer.size > 0 && !this.#catchingUp) this.#scheduleGapCatchUp();
  }

  /**
   * (Re)joins the channel room and applies every event after `lastSeq`. Calls made while one is running coalesce into
   * one more run; `restart` abandons a run whose acks died with the previous connection.
   */
  async catchUp(restart = false): Promise<void> {
    if (this.#stopped) return;
    if (this.#catchingUp && !restart) {
      this.#again = true;
      return;
    }
    const socket = this.#opts.socket();
    if (!socket) return;
    const run = ++this.#run;
    const current = () => run === this.#run && !this.#stopped;
    this.#catchingUp = true;
    this.#again = false;
    this.syncing = true;
    this.#clearTimers();
    let failed: ErrorBody | null = null;
    try {
      for (let round = 0; round < MAX_JOIN_ROUNDS; round++) {
        const from = this.lastSeq;
        const result = await ackOf<JoinResult>(
          (ack) => socket.emit('channel:join', { channelId: this.#opts.channelId, afterSeq: from }, ack),
          this.#opts.ackTimeoutMs,
        );
        if (!current()) return;
        if (!result.ok) {
          failed = result.error;
          break;
        }
        for (const event of [...result.data.events].sort((a, b) => a.seq - b.seq)) this.#ingest(event);
        this.#opts.applied();
        if (this.lastSeq >= result.data.lastSeq) break;
        if (result.data.hasMore && this.lastSeq > from) continue;
        await this.#opts.refresh(result.data.lastSeq, current);
        if (!current()) return;
        this.lastSeq = Math.max(this.lastSeq, result.data.lastSeq);
        break;
      }
    } catch (err) {
      failed = { code: 'unavailable', message: err instanceof Error ? err.message : 'Catching up failed.' };
    } finally {
      if (run === this.#run) this.#catchingUp = false;
    }
    if (!current()) return;
    this.syncing = false;
    if (failed) this.#failed(failed);
    else this.#succeeded();
  }

  stop(): void {
    this.#stopped = true;
    this.#run += 1;
    this.#catchingUp = false;
    this.syncing = false;
    this.#clearTimers();
  }

  #succeeded(): void {
    this.#failures = 0;
    this.error = null;
    this.joined = true;
    this.#drain();
    this.#opts.applied();
    if (this.#again) {
      this.#again = false;
      void this.catchUp();
    } else if (this.#buffer.size > 0) {
      this.#scheduleGapCatchUp();
    }
  }

  #failed(error: ErrorBody): void {
    if (error.code === 'forbidden' || error.code === 'not_found') {
      this.stop();
      this.#opts.lost(error);
      return;
    }
    this.#failures += 1;
    this.error = `Could not catch up: ${chatErrorMessage(error)}`;
    const delay = Math.min(MAX_RETRY_DELAY_MS, 1_000 * 2 ** (this.#failures - 1));
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      // While disconnected the reconnect will catch up anyway.
      if (this.#opts.socket()?.connected) void this.catchUp();
    }, delay);
  }

  #ingest(event: ChannelEvent): void {
    if (event.seq <= this.lastSeq) return;
    if (event.seq > this.lastSeq + 1) {
      this.#buffer.set(event.seq, event);
      return;
    }
    this.#applyOne(event);
    this.#drain();
  }

  /** Applies buffered events that have become contiguous and drops the ones already covered. */
  #drain(): void {
    for (const seq of this.#buffer.keys()) if (seq <= this.lastSeq) this.#buffer.delete(seq);
    for (let next = this.#buffer.get(this.lastSeq + 1); next; next = this.#buffer.get(this.lastSeq + 1)) {
      this.#buffer.delete(next.seq);
      this.#applyOne(next);
    }
  }

  #applyOne(event: ChannelEvent): void {
    this.#opts.apply(event);
    this.lastSeq = event.seq;
  }

  #scheduleGapCatchUp(): void {
    if (this.#gapTimer) return;
    this.#gapTimer = setTimeout(() => {
      this.#gapTimer = null;
      if (this.#buffer.size > 0) void this.catchUp();
    }, this.#opts.gapGraceMs);
  }

  #clearTimers(): void {
    if (this.#gapTimer) clearTimeout(this.#gapTimer);
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#gapTimer = null;
    this.#retryTimer = null;
  }
}
