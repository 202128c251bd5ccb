/** What one load-client process records about its clients' deliveries, sends and recoveries (reported at the end). */
import type { DeliveryPath, Recovery, SyncReason } from './protocol.ts';

/** A growable typed array: hundreds of thousands of samples without boxing them. */
export class Column<T extends Float64Array | Int32Array> {
  #data: T;
  #length = 0;
  readonly #make: (n: number) => T;
  constructor(make: (n: number) => T) {
    this.#make = make;
    this.#data = make(1024);
  }
  push(value: number) {
    if (this.#length === this.#data.length) {
      const bigger = this.#make(this.#data.length * 2);
      bigger.set(this.#data);
      this.#data = bigger;
    }
    this.#data[this.#length++] = value;
  }
  toArray(): T {
    return this.#data.slice(0, this.#length) as T;
  }
}

/** One scheduled message of one of this process's clients, from the schedule to its ack (or giving up). */
export interface SendState {
  m: number;
  conn: number;
  /** Scheduled send time, epoch ms. */
  at: number;
  attempts: number;
  /** The attempt whose ack is awaited on the current connection; 0 when none is on the wire. */
  onWire: number;
  ackedAt: number;
  messageId: string | null;
  seq: number;
  failure: string | null;
  retryTimer?: NodeJS.Timeout;
}

const bump = (counts: Record<string, number>, key: string) => void (counts[key] = (counts[key] ?? 0) + 1);

export class Ledger {
  readonly roomSize: number;
  seen = new Uint8Array(0);
  readonly deliveries = {
    m: new Column((n) => new Int32Array(n)),
    position: new Column((n) => new Int32Array(n)),
    receivedAt: new Column((n) => new Float64Array(n)),
    appliedAt: new Column((n) => new Float64Array(n)),
  };
  readonly deliveriesByPath: Record<DeliveryPath, number> = { live: 0, initial: 0, reconnect: 0, gap: 0, final: 0 };
  /** Final catch-up deliveries, kept apart: they mean a gap went unnoticed until the end. */
  finalDelivered: number[] = [];
  applied = 0;
  echoes = 0;
  overlaps = 0;
  outOfOrder = 0;
  ackIdMismatches = 0;
  readonly sendErrors: Record<string, number> = {};
  readonly syncs: Record<SyncReason, number> = { initial: 0, reconnect: 0, gap: 0, final: 0 };
  /** When each catch-up join (reconnect or gap) was sent, to count those of a time window. */
  readonly catchUpJoinsAt = new Column((n) => new Float64Array(n));
  readonly syncFailures: Record<string, number> = {};
  syncShortfalls = 0;
  readonly connectErrors: Record<string, number> = {};
  readonly recoveries: Recovery[] = [];

  constructor(roomSize: number) {
    this.roomSize = roomSize;
  }

  sized(totalMessages: number) {
    this.seen = new Uint8Array(totalMessages * this.roomSize);
  }

  /** A member applied message `m` (at a seq it had not applied before). */
  deliver(m: number, position: number, receivedAt: number, appliedAt: number, path: DeliveryPath) {
    this.deliveriesByPath[path]++;
    const key = m * this.roomSize + position;
    if (key >= this.seen.length) return;
    if (this.seen[key]! < 255) this.seen[key]!++;
    this.deliveries.m.push(m);
    this.deliveries.position.push(position);
    this.deliveries.receivedAt.push(receivedAt);
    this.deliveries.appliedAt.push(appliedAt);
    if (path === 'final') this.finalDelivered.push(m);
  }

  sendError(code: string) {
    bump(this.sendErrors, code);
  }
  syncFailure(code: string) {
    bump(this.syncFailures, code);
  }
  connectError(code: string) {
    bump(this.connectErrors, code);
  }
}
