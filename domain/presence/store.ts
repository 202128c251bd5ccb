import type { PresenceStatus } from '../../contracts/chat.ts';

/** What a user may choose with `presence:set`; it shows while at least one of their devices is connected. */
export type ChosenStatus = Exclude<PresenceStatus, 'offline'>;

/** One connected device (a socket) of a user, on one node. */
export interface PresenceConnection {
  userId: string;
  connectionId: string;
}

export interface PresenceChange {
  userId: string;
  status: PresenceStatus;
}

/** The read side, for REST and other domain code (`deps.presence`). */
export interface PresenceReader {
  /** The current status of each user: offline unless a device is connected, else their chosen status. */
  statusOf(userIds: readonly string[]): Promise<Map<string, PresenceStatus>>;
  /** Which of these users have a connected device whose tab is focused (`presence:focus`): they are looking. */
  focusedUsers(userIds: readonly string[]): Promise<Set<string>>;
}

/**
 * Presence state shared by every node: connections per user (with the node holding them and a heartbeat), the
 * status each user chose, the status last announced to observers, and which nodes are alive.
 *
 * Writes never announce anything themselves. They answer whether the user's status may have changed; the node then
 * coalesces such users and calls `settle`, which compares the current status with the last announced one and records
 * the new one atomically. So a disconnect and a reconnect inside one window announce nothing, and two nodes settling
 * the same user never announce the same change twice.
 */
export interface PresenceStore extends PresenceReader {
  /** Resolves true when this is the user's first connection (their status may have changed). */
  connect(nodeId: string, connection: PresenceConnection): Promise<boolean>;
  /** Resolves true when that was the user's last connection. */
  disconnect(nodeId: string, connection: PresenceConnection): Promise<boolean>;
  /** Records whether the device's tab is focused; forgotten with the connection. A no-op for an unknown connection. */
  focus(connection: PresenceConnection, focused: boolean): Promise<void>;
  /** Resolves true when the chosen status changed while the user is connected. */
  choose(userId: string, status: ChosenStatus): Promise<boolean>;
  /**
   * Marks the node alive for `nodeTtlMs` and refreshes its connections' heartbeats. Connections missing from the store
   * (lost in a Redis outage, or removed while this node was wrongly presumed dead) are recorded again; resolves with
   * the users whose status may have changed because of that.
   */
  heartbeat(nodeId: string, connections: readonly PresenceConnection[]): Promise<string[]>;
  /**
   * When no other node is sweeping (lock), removes the connections of dead nodes and those whose heartbeat is stale,
   * and collects users marked as changed long ago but never settled (their node died before settling). Resolves with
   * the users to settle, or null when another node holds the lock.
   */
  sweep(sweeperId: string): Promise<string[] | null>;
  /**
   * Which of these nodes are alive (refreshed their liveness within nodeTtlMs), for state kept outside this store —
   * classroom connections — that must be cleaned up after a dead node. Throws when it cannot tell (store unreachable),
   * so nobody is presumed dead for lack of an answer.
   */
  aliveNodes(nodeIds: readonly string[]): Promise<Set<string>>;
  /** Graceful shutdown of a node: removes its liveness and every connection it held; resolves with the users to settle. */
  removeNode(nodeId: string): Promise<string[]>;
  /** Records and returns the changes to announce: users whose current status differs from the last announced one. */
  settle(userIds: readonly string[]): Promise<PresenceChange[]>;
  close(): Promise<void>;
}

export interface PresenceTimings {
  /** Changes are announced in batches this often (per node); transitions that cancel out inside one vanish. */
  coalesceMs: number;
  /** A node is presumed dead when it has not refreshed its liveness for this long. */
  nodeTtlMs: number;
  /** How often a node refreshes its liveness and its connections' heartbeats. */
  heartbeatMs: number;
  /** How often each node tries to sweep (one sweeper at a time). */
  sweepIntervalMs: number;
  /** A connection whose heartbeat is older than this is removed even though its node is alive (leaked entry). */
  staleAfterMs: number;
  /** A user marked as changed but not settled for this long is settled by the sweeper (its node died meanwhile). */
  orphanAfterMs: number;
  /** The chosen status is kept this long after the user's last device disconnects, so a reconnect keeps it. */
  chosenRetentionMs: number;
}

/**
 * Defaults: a SIGKILLed node's liveness expires within nodeTtlMs (10 s) and the next sweep (≤ 5 s later) removes its
 * connections and announces `offline` — about 15 s plus one coalescing window, well inside the 30 s promise.
 */
export const DEFAULT_PRESENCE_TIMINGS: PresenceTimings = presenceTimings({});

/** Fills in the derived timings from the three that are configurable (server/env.ts). */
export function presenceTimings(input: Partial<PresenceTimings>): PresenceTimings {
  const coalesceMs = input.coalesceMs ?? 300;
  const nodeTtlMs = input.nodeTtlMs ?? 10_000;
  return {
    coalesceMs,
    nodeTtlMs,
    // Three refreshes per TTL: one late or lost refresh does not make a live node look dead.
    heartbeatMs: input.heartbeatMs ?? Math.max(100, Math.floor(nodeTtlMs / 3)),
    sweepIntervalMs: input.sweepIntervalMs ?? 5_000,
    staleAfterMs: input.staleAfterMs ?? nodeTtlMs * 3,
    orphanAfterMs: input.orphanAfterMs ?? Math.max(2_000, coalesceMs * 4 + 1_000),
    chosenRetentionMs: input.chosenRetentionMs ?? 12 * 3_600_000,
  };
}
