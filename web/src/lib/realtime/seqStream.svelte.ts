import type { ChannelEvent, JoinResult } from '$contracts/chat.ts';
import type { ErrorBody } from '$contracts/errors.ts';
import { ackOf, chatErrorMessage, type ChatSocket } from './ack.ts';
import { InOrder } from './liveStore.svelte.ts';

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
 * Applies one channel's events strictly in seq order, each exactly once (InOrder, by seq). An event at or below
 * `lastSeq` is a duplicate and ignored; one beyond `lastSeq + 1` waits and, unless the missing events show up within
 * the grace period, triggers a catch-up: `channel:join` from `lastSeq`, repeated while the server has more.
 */
export class SeqStream {
  /** A join or catch-up is in flight. */
  syncing = $state(false);
  /** Set once the first join succeeded. */
  joined = $state(false);
  error = $state<string | null>(null);

  #opts: SeqStreamOptions;
  #order: InOrder<ChannelEvent>;
  #catchingUp = false;
  #again = false;
  /** Identifies the latest catch-up run; older runs stop touching the state. */
  #run = 0;
  #failures = 0;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;

  constructor(options: SeqStreamOptions) {
    this.#opts = options;
    this.#order = new InOrder<ChannelEvent>({
      start: options.startSeq,
      versionOf: (event) => event.seq,
      apply: options.apply,
      catchUp: () => void this.catchUp(),
      gapGraceMs: options.gapGraceMs,
    });
  }

  /** Seq of the last event applied. */
  get lastSeq(): number {
    return this.#order.version;
  }

  /** A live event from the socket. */
  push(event: ChannelEvent): void {
    if (this.#stopped) return;
    this.#order.receive(event);
    this.#opts.applied();
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
    this.#order.catchingUp();
    this.#clearRetry();
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
        for (const event of [...result.data.events].sort((a, b) => a.seq - b.seq)) this.#order.receive(event);
        this.#opts.applied();
        if (this.lastSeq >= result.data.lastSeq) break;
        if (result.data.hasMore && this.lastSeq > from) continue;
        await this.#opts.refresh(result.data.lastSeq, current);
        if (!current()) return;
        this.#order.advanceTo(result.data.lastSeq);
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
    this.#order.stop();
    this.#clearRetry();
  }

  #succeeded(): void {
    this.#failures = 0;
    this.error = null;
    this.joined = true;
    this.#order.settled();
    this.#opts.applied();
    if (this.#again) {
      this.#again = false;
      void this.catchUp();
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

  #clearRetry(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }
}
