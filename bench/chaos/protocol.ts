/**
 * What the kill drill's orchestrator (bench/chaos.ts) and its load clients (loadClient.ts) say to each other over
 * Node's IPC channel (advanced serialization, so typed arrays travel as they are). Connections and scheduled sends
 * have the chat bench's shapes; message bodies are the chat bench's too (bench/chat/protocol.ts).
 */
import type { ConnSpec, ScheduledSend } from '../chat/protocol.ts';

export type { ConnSpec, ScheduledSend };

/** Why a client sent `channel:join`: its first join, after a reconnect, for a gap that did not close, or at the end. */
export type SyncReason = 'initial' | 'reconnect' | 'gap' | 'final';
/** How an applied event reached the client: live broadcast, or the catch-up of a join made for that reason. */
export type DeliveryPath = 'live' | SyncReason;

/** The clientId of scheduled message `m`: every retry of it reuses this, so the server must store it once. */
export const clientIdOf = (m: number) => `chaos-m${String(m).padStart(7, '0')}`;

export type ToChaosClient =
  | {
      type: 'init';
      urls: string[];
      conns: ConnSpec[];
      roomSize: number;
      connectConcurrency: number;
      ackTimeoutMs: number;
      gapGraceMs: number;
    }
  /** The whole run's sends of this process's clients; sends not acked by `giveUpAt` (epoch ms) fail. */
  | { type: 'schedule'; totalMessages: number; sends: ScheduledSend[]; giveUpAt: number }
  | { type: 'progress'; id: number }
  | { type: 'collect' }
  | { type: 'finalSync' }
  | { type: 'close' };

export interface ChaosReady {
  type: 'ready';
  connected: number;
  joined: number;
  failures: string[];
  connectMs: number;
}

export interface ChaosProgress {
  type: 'progress';
  id: number;
  connected: number;
  sent: number;
  acked: number;
  /** Sends given up on or refused for good. */
  failed: number;
  /** Scheduled sends that are neither acked nor failed yet (waiting, on the wire, or queued while disconnected). */
  unsettled: number;
  /** Clients that lost their connection at least once. */
  lostConnection: number;
  /** Clients whose latest loss is not yet followed by reconnect, rejoin and catch-up. */
  recovering: number;
  /** Events waiting for a predecessor, over all clients. */
  held: number;
  /** Clients with a `channel:join` in flight. */
  syncing: number;
  /** Events applied so far, over all clients (to see when deliveries have stopped). */
  applied: number;
  /** The longest event-loop delay of the load process since its previous progress report: is it keeping up? */
  loopDelayMaxMs: number;
}

/** One loss of connection and what followed; times are epoch ms, NaN until they happen. */
export interface Recovery {
  conn: number;
  /** The node the client was on when the connection dropped. */
  fromNode: number;
  lostAt: number;
  /** When the latest connection attempt was opened (the one that succeeded, once reconnected). */
  attemptAt: number;
  reconnectedAt: number;
  /** The first successful `channel:join` with afterSeq after the reconnect. */
  rejoinedAt: number;
  /** lastApplied reached the seq the rejoin proved (its lastSeq, or a higher live event already seen). */
  caughtUpAt: number;
  /** Connection attempts it took (refused ones at the dead node included). */
  connectAttempts: number;
}

export interface ChaosReport {
  type: 'collected';
  /** Per (message, room position): at how many distinct seqs the member applied that message (2+ is a duplicate). */
  seen: Uint8Array;
  /** One entry per applied delivery to a member other than the sender: message, member, first receipt, apply time. */
  deliveries: { m: Int32Array; position: Int32Array; receivedAt: Float64Array; appliedAt: Float64Array };
  deliveriesByPath: Record<DeliveryPath, number>;
  /** The sender's own message, applied like any other event; not counted in reach. */
  echoes: number;
  /** Events at or below lastApplied (catch-up overlapping live events): ignored, as the client must. */
  overlaps: number;
  /** Live events that arrived after a higher seq of the same channel. */
  outOfOrder: number;
  /** This process's sends, one entry each; ackedAt NaN when never acked. */
  sends: {
    m: Int32Array;
    attempts: Int32Array;
    ackedAt: Float64Array;
    seq: Int32Array;
    messageIds: (string | null)[];
    failures: (string | null)[];
  };
  /** A second ack for a send named a different message id than the first: stored twice. */
  ackIdMismatches: number;
  /** Why attempts did not get an ok ack (each then retried or given up): ack_timeout, disconnected, codes… */
  sendErrors: Record<string, number>;
  clients: { conn: Int32Array; lastApplied: Int32Array; held: Int32Array };
  recoveries: Recovery[];
  syncs: Record<SyncReason, number>;
  /** Epoch ms of every catch-up join (after a reconnect or for a gap), retries and extra rounds included. */
  catchUpJoinsAt: Float64Array;
  syncFailures: Record<string, number>;
  /** A join whose catch-up ended below its own lastSeq without `hasMore` (the web client would page over REST). */
  syncShortfalls: number;
  connectErrors: Record<string, number>;
  cpuMs: number;
}

export interface ChaosFinalSync {
  type: 'finalSynced';
  /** Events applied by the final catch-up: a gap nothing had revealed to the client. */
  applied: number;
  /** Messages (m) delivered to members by the final catch-up. */
  deliveredMessages: Int32Array;
  clients: { conn: Int32Array; lastApplied: Int32Array; held: Int32Array };
  failures: number;
}

export type FromChaosClient = ChaosReady | ChaosProgress | ChaosReport | ChaosFinalSync | { type: 'scheduled' } | { type: 'error'; message: string };
