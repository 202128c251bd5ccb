import type { PresenceStatus } from '../../contracts/chat.ts';
import type { ChosenStatus, PresenceChange, PresenceStore, PresenceTimings } from './store.ts';

interface UserState {
  /** connectionId → node and last heartbeat. */
  connections: Map<string, { nodeId: string; seenAt: number }>;
  chosen: ChosenStatus | undefined;
  /** Connections whose tab is focused. */
  focused: Set<string>;
  announced: PresenceStatus;
  /** While the user has no connections: when their chosen status is forgotten. */
  forgetAt: number | undefined;
}

/**
 * The single-process store (no REDIS_URL). It keeps the same model as the Redis store — nodes with liveness,
 * connections with heartbeats, users marked as changed until settled — so both pass one contract test suite.
 */
export function createMemoryPresenceStore(
  timings: Pick<PresenceTimings, 'nodeTtlMs' | 'staleAfterMs' | 'orphanAfterMs' | 'chosenRetentionMs'>,
  now: () => number = Date.now,
): PresenceStore {
  const users = new Map<string, UserState>();
  const nodes = new Map<string, number>(); // nodeId → liveness expiry
  const dirty = new Map<string, number>(); // userId → marked at
  let sweeping = false;

  function stateOf(userId: string): UserState {
    let state = users.get(userId);
    if (state && state.forgetAt !== undefined && state.forgetAt <= now() && state.connections.size === 0) {
      users.delete(userId);
      state = undefined;
    }
    if (!state) {
      state = { connections: new Map(), focused: new Set(), chosen: undefined, announced: 'offline', forgetAt: undefined };
      users.set(userId, state);
    }
    return state;
  }

  function currentStatus(state: UserState | undefined): PresenceStatus {
    if (!state || state.connections.size === 0) return 'offline';
    return state.chosen ?? 'online';
  }

  /** Removes one connection; true when it was the user's last. */
  function drop(userId: string, connectionId: string): boolean {
    const state = users.get(userId);
    state?.focused.delete(connectionId);
    if (!state?.connections.delete(connectionId)) return false;
    if (state.connections.size > 0) return false;
    state.forgetAt = now() + timings.chosenRetentionMs;
    dirty.set(userId, now());
    return true;
  }

  function dropWhere(predicate: (nodeId: string, seenAt: number) => boolean): string[] {
    const affected: string[] = [];
    for (const [userId, state] of users) {
      for (const [connectionId, c] of state.connections) {
        if (predicate(c.nodeId, c.seenAt) && drop(userId, connectionId)) affected.push(userId);
      }
    }
    return affected;
  }

  return {
    async statusOf(userIds) {
      return new Map(userIds.map((id) => [id, currentStatus(users.get(id))]));
    },
    async focusedUsers(userIds) {
      return new Set(userIds.filter((id) => (users.get(id)?.focused.size ?? 0) > 0));
    },
    async focus({ userId, connectionId }, focused) {
      const state = users.get(userId);
      if (!state?.connections.has(connectionId)) return;
      if (focused) state.focused.add(connectionId);
      else state.focused.delete(connectionId);
    },
    async connect(nodeId, { userId, connectionId }) {
      const state = stateOf(userId);
      state.connections.set(connectionId, { nodeId, seenAt: now() });
      state.forgetAt = undefined;
      if (state.connections.size !== 1) return false;
      dirty.set(userId, now());
      return true;
    },
    async disconnect(_nodeId, { userId, connectionId }) {
      return drop(userId, connectionId);
    },
    async choose(userId, status) {
      const state = stateOf(userId);
      const previous = state.chosen ?? 'online';
      state.chosen = status;
      if (state.connections.size === 0) state.forgetAt ??= now() + timings.chosenRetentionMs;
      if (previous === status || state.connections.size === 0) return false;
      dirty.set(userId, now());
      return true;
    },
    async heartbeat(nodeId, connections) {
      nodes.set(nodeId, now() + timings.nodeTtlMs);
      const revived: string[] = [];
      for (const { userId, connectionId } of connections) {
        const state = stateOf(userId);
        const existing = state.connections.get(connectionId);
        if (existing) {
          existing.seenAt = now();
          continue;
        }
        state.connections.set(connectionId, { nodeId, seenAt: now() });
        state.forgetAt = undefined;
        if (state.connections.size === 1) {
          dirty.set(userId, now());
          revived.push(userId);
        }
      }
      return revived;
    },
    async sweep() {
      if (sweeping) return null;
      sweeping = true;
      try {
        const t = now();
        const dead = new Set([...nodes].filter(([, expiresAt]) => expiresAt <= t).map(([id]) => id));
        for (const id of dead) nodes.delete(id);
        // Connections of nodes that never heartbeated at all are caught by the stale rule.
        const affected = dropWhere((nodeId, seenAt) => dead.has(nodeId) || seenAt <= t - timings.staleAfterMs);
        for (const [userId, markedAt] of dirty) if (markedAt <= t - timings.orphanAfterMs) affected.push(userId);
        for (const [userId, state] of users) {
          const forgotten = state.connections.size === 0 && state.forgetAt !== undefined && state.forgetAt <= t;
          if (forgotten && state.announced === 'offline' && !dirty.has(userId)) users.delete(userId);
        }
        return [...new Set(affected)];
      } finally {
        sweeping = false;
      }
    },
    async aliveNodes(nodeIds) {
      const t = now();
      return new Set(nodeIds.filter((id) => (nodes.get(id) ?? 0) > t));
    },
    async removeNode(nodeId) {
      nodes.delete(nodeId);
      return dropWhere((owner) => owner === nodeId);
    },
    async settle(userIds) {
      const changes: PresenceChange[] = [];
      for (const userId of new Set(userIds)) {
        dirty.delete(userId);
        const state = users.get(userId);
        const status = currentStatus(state);
        if (status === (state?.announced ?? 'offline')) continue;
        stateOf(userId).announced = status;
        changes.push({ userId, status });
      }
      return changes;
    },
    async close() {},
  };
}
