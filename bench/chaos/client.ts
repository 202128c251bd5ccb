/**
 * One member of a room as the web client behaves (web/src/lib/realtime: connection, seqStream, sendQueue), minus the
 * UI: it applies channel events strictly by seq (an event at or below the last applied one is ignored, an early one
 * waits for its predecessor and, if the gap lasts past the grace period, triggers a catch-up), re-joins with
 * `afterSeq` after every reconnect, and sends each message with one clientId until it is acked — again after an ack
 * timeout, after a disconnect, and (queued) once reconnected. It knows both nodes' URLs: when its connection drops it
 * reconnects to the other node, alternating on every failed attempt, with socket.io-client's backoff (500 ms doubling
 * to 5 s, ±50% jitter).
 */
import { io, type Socket } from 'socket.io-client';
import type { ChannelEvent, JoinResult } from '../../contracts/chat.ts';
import type { AckResult } from '../../contracts/errors.ts';
import type { ClientToServerEvents, ServerToClientEvents } from '../../contracts/realtime.ts';
import { decodeBody, encodeBody, nowMs, type ConnSpec } from '../chat/protocol.ts';
import type { Ledger, SendState } from './ledger.ts';
import { clientIdOf, type DeliveryPath, type Recovery, type SyncReason } from './protocol.ts';

type ChatSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export interface ClientEnv {
  urls: string[];
  ackTimeoutMs: number;
  gapGraceMs: number;
  ledger: Ledger;
  /** Epoch ms after which unacked sends fail instead of being sent again. */
  giveUpAt(): number;
}

/** Failures worth sending again with the same clientId; anything else is the server's final answer. */
const RETRIABLE = new Set(['ack_timeout', 'disconnected', 'unavailable', 'internal', 'rate_limited']);
const MAX_JOIN_ROUNDS = 40;

interface Held {
  m: number | null;
  sender: number;
  receivedAt: number;
  path: DeliveryPath;
}

/** An ack error from socket.io-client: the timeout, or the connection closing under a pending ack. */
const ackErrorCode = (err: Error) => (/disconnected/.test(err.message) ? 'disconnected' : 'ack_timeout');

export class ChaosClient {
  readonly spec: ConnSpec;
  readonly #env: ClientEnv;
  #socket: ChatSocket | null = null;
  #node: number;
  connected = false;
  lastApplied = 0;
  #maxSeen = 0;
  readonly held = new Map<number, Held>();
  #gapTimer: NodeJS.Timeout | null = null;
  syncing = false;
  #syncRun = 0;
  #syncAgain: SyncReason | null = null;
  #syncFailures = 0;
  #joinedOnce = false;
  #reconnectTimer: NodeJS.Timeout | null = null;
  #reconnectAttempts = 0;
  /** Sends of this member not acked yet, in the order they were scheduled. */
  readonly unacked = new Map<number, SendState>();
  /** The latest loss of connection (null before any). */
  recovery: Recovery | null = null;
  /** The seq the rejoin after the latest loss proved; caught up once lastApplied reaches it. */
  #caughtUpTarget = Infinity;
  #closed = false;

  constructor(spec: ConnSpec, env: ClientEnv) {
    this.spec = spec;
    this.#env = env;
    this.#node = spec.node;
  }

  /** First connection and join; rejects if either fails (the drill then stops: it needs every client in). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = this.#open();
      socket.once('connect_error', (err) => {
        socket.close();
        reject(new Error(`connect ${this.spec.index}: ${err.message}`));
      });
      socket.once('connect', () => {
        this.sync('initial').then(() => (this.#joinedOnce ? resolve() : reject(new Error(`join ${this.spec.index} failed`))), reject);
      });
    });
  }

  get recovering(): boolean {
    return this.recovery !== null && Number.isNaN(this.recovery.caughtUpAt);
  }

  /** A scheduled message of this member: sent now if connected, otherwise as soon as it is. */
  send(s: SendState) {
    this.unacked.set(s.m, s);
    this.#emitSend(s);
  }

  /** The give-up time has passed: what is still unacked fails (a late ok ack still counts). */
  giveUp() {
    for (const s of this.unacked.values()) {
      clearTimeout(s.retryTimer);
      s.failure ??= 'gave_up';
    }
    this.unacked.clear();
  }

  close() {
    this.#closed = true;
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    if (this.#gapTimer) clearTimeout(this.#gapTimer);
    this.#socket?.close();
  }

  #open(): ChatSocket {
    const socket: ChatSocket = io(this.#env.urls[this.#node]!, {
      transports: ['websocket'],
      auth: { token: this.spec.token },
      reconnection: false,
      // One engine (one WebSocket) per client: without it socket.io-client multiplexes every client on one connection.
      forceNew: true,
    });
    this.#socket = socket;
    if (this.recovery && Number.isNaN(this.recovery.reconnectedAt)) {
      this.recovery.connectAttempts++;
      this.recovery.attemptAt = nowMs();
    }
    socket.on('message:created', (event) => {
      if (socket === this.#socket) this.#receive(event, nowMs(), 'live');
    });
    socket.on('connect', () => this.#onConnect(socket));
    socket.on('disconnect', () => this.#onDisconnect(socket));
    socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      this.#env.ledger.connectError(err.data?.code ?? err.message);
      // The first connection's failure is start()'s to report.
      if (socket !== this.#socket || this.#closed || !this.#joinedOnce) return;
      socket.removeAllListeners();
      socket.close();
      this.#socket = null;
      // The other node next: a refused connection at a dead node costs one round of backoff.
      this.#node = (this.#node + 1) % this.#env.urls.length;
      this.#scheduleReconnect();
    });
    return socket;
  }

  #onConnect(socket: ChatSocket) {
    if (socket !== this.#socket) return;
    this.connected = true;
    this.#reconnectAttempts = 0;
    if (!this.#joinedOnce) return; // start() joins
    if (this.recovery && Number.isNaN(this.recovery.reconnectedAt)) this.recovery.reconnectedAt = nowMs();
    // What was lost on the wire or queued while disconnected goes first, then the catch-up (as the web client does).
    for (const s of this.unacked.values()) this.#emitSend(s);
    void this.sync('reconnect');
  }

  #onDisconnect(socket: ChatSocket) {
    if (socket !== this.#socket || this.#closed) return;
    socket.removeAllListeners();
    socket.close();
    this.#socket = null;
    this.connected = false;
    for (const s of this.unacked.values()) {
      s.onWire = 0;
      clearTimeout(s.retryTimer);
    }
    // A join in flight died with the connection; the reconnect joins again.
    this.#syncRun++;
    this.syncing = false;
    this.#syncAgain = null;
    this.#disarmGap();
    this.#caughtUpTarget = Infinity;
    this.recovery = {
      conn: this.spec.index,
      fromNode: this.#node,
      lostAt: nowMs(),
      attemptAt: NaN,
      reconnectedAt: NaN,
      rejoinedAt: NaN,
      caughtUpAt: NaN,
      connectAttempts: 0,
    };
    this.#env.ledger.recoveries.push(this.recovery);
    this.#node = (this.#node + 1) % this.#env.urls.length;
    this.#scheduleReconnect();
  }

  #scheduleReconnect() {
    const base = Math.min(5000, 500 * 2 ** this.#reconnectAttempts++);
    const delay = base * (1 + 0.5 * (2 * Math.random() - 1));
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      if (!this.#closed) this.#open();
    }, delay);
  }

  #emitSend(s: SendState) {
    const socket = this.#socket;
    if (!this.connected || !socket || s.onWire || s.failure || !Number.isNaN(s.ackedAt)) return;
    if (nowMs() > this.#env.giveUpAt()) {
      s.failure = 'gave_up';
      this.unacked.delete(s.m);
      return;
    }
    const attempt = ++s.attempts;
    s.onWire = attempt;
    socket
      .timeout(this.#env.ackTimeoutMs)
      .emit(
        'message:send',
        { channelId: this.spec.channelId!, clientId: clientIdOf(s.m), body: encodeBody(0, s.m, s.conn, s.at) },
        (err: Error | null, res?: AckResult<{ id: string; seq: number }>) => this.#onAck(s, attempt, err, res),
      );
  }

  #onAck(s: SendState, attempt: number, err: Error | null, res?: AckResult<{ id: string; seq: number }>) {
    const { ledger } = this.#env;
    if (res?.ok) {
      if (!Number.isNaN(s.ackedAt)) {
        if (res.data.id !== s.messageId) ledger.ackIdMismatches++;
        return;
      }
      s.ackedAt = nowMs();
      s.messageId = res.data.id;
      s.seq = res.data.seq;
      s.failure = null;
      if (s.onWire === attempt) s.onWire = 0;
      clearTimeout(s.retryTimer);
      this.unacked.delete(s.m);
      return;
    }
    const code = err ? ackErrorCode(err) : (res?.error.code ?? 'refused');
    ledger.sendError(code);
    // Only the attempt on the wire decides; an older one (from before a reconnect) is already superseded.
    if (s.onWire !== attempt || !Number.isNaN(s.ackedAt) || s.failure) return;
    s.onWire = 0;
    if (!RETRIABLE.has(code)) {
      s.failure = code;
      this.unacked.delete(s.m);
      return;
    }
    // A disconnect resends on reconnect; a timeout at once; a refusal to try later after a pause.
    if (code === 'disconnected') return;
    s.retryTimer = setTimeout(() => this.#emitSend(s), code === 'ack_timeout' ? 0 : 250);
  }

  /**
   * `channel:join` (with afterSeq once the client has state), applying the catch-up in seq order, repeated while the
   * server has more. Calls made while one runs coalesce into one more run; a disconnect abandons it.
   */
  async sync(reason: SyncReason): Promise<void> {
    const socket = this.#socket;
    if (!this.connected || !socket || this.#closed) return;
    if (this.syncing) {
      this.#syncAgain ??= reason;
      return;
    }
    const run = ++this.#syncRun;
    this.syncing = true;
    this.#disarmGap();
    this.#env.ledger.syncs[reason]++;
    let failed: string | null = null;
    let proven = 0;
    try {
      for (let round = 0; round < MAX_JOIN_ROUNDS; round++) {
        const from = this.lastApplied;
        const input = this.#joinedOnce ? { channelId: this.spec.channelId!, afterSeq: from } : { channelId: this.spec.channelId! };
        if (reason === 'reconnect' || reason === 'gap') this.#env.ledger.catchUpJoinsAt.push(nowMs());
        const res = await this.#join(socket, input);
        if (run !== this.#syncRun) return;
        if (!res.ok) {
          failed = res.error.code;
          break;
        }
        const receivedAt = nowMs();
        if (!this.#joinedOnce) {
          // No state yet: the channel so far is history (loaded over REST by the web client), live events go on top.
          this.#joinedOnce = true;
          this.lastApplied = res.data.lastSeq;
          this.#maxSeen = Math.max(this.#maxSeen, res.data.lastSeq);
          for (const seq of this.held.keys()) if (seq <= this.lastApplied) this.held.delete(seq);
        }
        for (const event of [...res.data.events].sort((a, b) => a.seq - b.seq)) this.#receive(event, receivedAt, reason);
        proven = Math.max(proven, res.data.lastSeq);
        if (this.lastApplied >= res.data.lastSeq) break;
        if (res.data.hasMore && this.lastApplied > from) continue;
        this.#env.ledger.syncShortfalls++;
        break;
      }
    } catch (err) {
      if (run !== this.#syncRun) return;
      failed = ackErrorCode(err as Error);
    }
    this.syncing = false;
    if (failed) {
      this.#env.ledger.syncFailure(`${reason}:${failed}`);
      const delay = Math.min(30_000, 1000 * 2 ** this.#syncFailures++);
      setTimeout(() => {
        if (socket === this.#socket && this.connected) void this.sync(reason);
      }, delay);
      return;
    }
    this.#syncFailures = 0;
    const recovery = this.recovery;
    if (recovery && !Number.isNaN(recovery.reconnectedAt) && Number.isNaN(recovery.rejoinedAt)) {
      recovery.rejoinedAt = nowMs();
      // Caught up once everything the rejoin proved exists, and any live event seen meanwhile, is applied.
      proven = Math.max(proven, this.#maxSeen);
      this.#caughtUpTarget = proven;
    }
    this.#settle();
    const again = this.#syncAgain;
    this.#syncAgain = null;
    if (again) void this.sync(again);
  }

  #join(socket: ChatSocket, input: { channelId: string; afterSeq?: number }): Promise<AckResult<JoinResult>> {
    return new Promise((resolve, reject) => {
      socket.timeout(this.#env.ackTimeoutMs).emit('channel:join', input, (err: Error | null, res?: AckResult<JoinResult>) => {
        if (err) reject(err);
        else resolve(res ?? { ok: false, error: { code: 'internal', message: 'empty ack' } });
      });
    });
  }

  #receive(event: ChannelEvent, receivedAt: number, path: DeliveryPath) {
    const { ledger } = this.#env;
    const { seq } = event;
    if (seq > this.#maxSeen) this.#maxSeen = seq;
    else if (path === 'live' && seq < this.#maxSeen) ledger.outOfOrder++;
    if ((this.#joinedOnce && seq <= this.lastApplied) || this.held.has(seq)) {
      ledger.overlaps++;
      return;
    }
    const decoded = event.type === 'message:created' ? decodeBody(event.message.body) : null;
    this.held.set(seq, { m: decoded?.m ?? null, sender: decoded?.senderConn ?? -1, receivedAt, path });
    // Before the first join every event waits: the join's lastSeq decides which of them are news.
    if (this.#joinedOnce) this.#settle();
  }

  /** Applies what became contiguous; times a gap that remains (not while a catch-up is under way). */
  #settle() {
    const { ledger } = this.#env;
    for (let next = this.held.get(this.lastApplied + 1); next; next = this.held.get(this.lastApplied + 1)) {
      this.held.delete(this.lastApplied + 1);
      this.lastApplied++;
      ledger.applied++;
      if (next.m === null) continue;
      if (next.sender === this.spec.index) ledger.echoes++;
      else ledger.deliver(next.m, this.spec.position, next.receivedAt, nowMs(), next.path);
    }
    const recovery = this.recovery;
    if (recovery && Number.isNaN(recovery.caughtUpAt) && this.lastApplied >= this.#caughtUpTarget) {
      recovery.caughtUpAt = nowMs();
      this.#caughtUpTarget = Infinity;
    }
    if (this.held.size === 0) this.#disarmGap();
    else if (!this.#gapTimer && !this.syncing) {
      this.#gapTimer = setTimeout(() => {
        this.#gapTimer = null;
        if (this.held.size && !this.held.has(this.lastApplied + 1)) void this.sync('gap');
      }, this.#env.gapGraceMs);
    }
  }

  #disarmGap() {
    if (this.#gapTimer) clearTimeout(this.#gapTimer);
    this.#gapTimer = null;
  }
}
