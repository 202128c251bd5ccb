import type { Redis } from 'ioredis';
import type { PresenceStatus } from '../../contracts/chat.ts';
import type { PresenceChange, PresenceConnection, PresenceStore, PresenceTimings } from './store.ts';

/*
 * Keys, under `<prefix>`:
 *   conns:<userId>      hash   connectionId → nodeId            (the user's connected devices)
 *   state:<userId>      hash   chosen, announced                (expires chosenRetentionMs after the last device left)
 *   focus:<userId>      hash   connectionId → 1                 (devices whose tab is focused; a subset of conns)
 *   seen                zset   "<userId> <connectionId>" → heartbeat (ms, Redis clock)
 *   nodeconns:<nodeId>  set    "<userId> <connectionId>"         (what to remove when the node dies)
 *   node:<nodeId>       string liveness, SET … PX nodeTtlMs, refreshed by the node's heartbeat
 *   nodes               set    node ids that may still own connections
 *   dirty               zset   userId → when marked as changed; removed by settle
 *   sweep-lock          string SET NX PX: one sweeper at a time
 *
 * Every change is one Lua script, so the connection count, the "changed" mark and the announced status never disagree,
 * whatever node runs it. Scripts read the Redis clock, so node clocks do not matter. Scripts are sent with EVAL (not
 * EVALSHA) so they reach Redis in the order they were issued — a disconnect can never overtake its own connect through
 * a NOSCRIPT retry. Scripts build key names from the prefix, so this needs one Redis (or a primary with replicas), not
 * Redis Cluster — as does the Socket.IO adapter in its classic mode.
 */

const PRELUDE = `
local P = ARGV[1]
local retention = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local function split(m)
  local sep = string.find(m, ' ', 1, true)
  return string.sub(m, 1, sep - 1), string.sub(m, sep + 1)
end
local function status_of(u)
  if redis.call('HLEN', P .. 'conns:' .. u) == 0 then return 'offline' end
  return redis.call('HGET', P .. 'state:' .. u, 'chosen') or 'online'
end
-- Removes one connection; true when it was the user's last (then marks the user changed).
local function drop(u, c)
  local conns = P .. 'conns:' .. u
  local m = u .. ' ' .. c
  local owner = redis.call('HGET', conns, c)
  redis.call('ZREM', P .. 'seen', m)
  redis.call('HDEL', P .. 'focus:' .. u, c)
  if not owner then return false end
  redis.call('SREM', P .. 'nodeconns:' .. owner, m)
  redis.call('HDEL', conns, c)
  if redis.call('HLEN', conns) > 0 then return false end
  redis.call('PEXPIRE', P .. 'state:' .. u, retention)
  redis.call('ZADD', P .. 'dirty', now, u)
  return true
end
`;

const script = (body: string) => PRELUDE + body;

/** ARGV: prefix, retention, nodeId, userId, connectionId */
const CONNECT = script(`
local node, u, c = ARGV[3], ARGV[4], ARGV[5]
local conns = P .. 'conns:' .. u
local m = u .. ' ' .. c
redis.call('HSET', conns, c, node)
redis.call('SADD', P .. 'nodeconns:' .. node, m)
redis.call('ZADD', P .. 'seen', now, m)
redis.call('PERSIST', P .. 'state:' .. u)
if redis.call('HLEN', conns) == 1 then
  redis.call('ZADD', P .. 'dirty', now, u)
  return 1
end
return 0`);

/** ARGV: prefix, retention, userId, connectionId */
const DISCONNECT = script(`
if drop(ARGV[3], ARGV[4]) then return 1 end
return 0`);

/** ARGV: prefix, retention, userId, connectionId, focused (1|0) */
const FOCUS = script(`
local u, c = ARGV[3], ARGV[4]
if ARGV[5] == '1' and redis.call('HEXISTS', P .. 'conns:' .. u, c) == 1 then
  redis.call('HSET', P .. 'focus:' .. u, c, 1)
else
  redis.call('HDEL', P .. 'focus:' .. u, c)
end
return 0`);

/** ARGV: prefix, retention, userId… → the users with a focused device that is still connected */
const FOCUSED = script(`
local out = {}
for i = 3, #ARGV do
  local u = ARGV[i]
  for _, c in ipairs(redis.call('HKEYS', P .. 'focus:' .. u)) do
    if redis.call('HEXISTS', P .. 'conns:' .. u, c) == 1 then
      out[#out + 1] = u
      break
    end
    redis.call('HDEL', P .. 'focus:' .. u, c)
  end
end
return out`);

/** ARGV: prefix, retention, userId, status */
const CHOOSE = script(`
local u, chosen = ARGV[3], ARGV[4]
local state = P .. 'state:' .. u
local previous = redis.call('HGET', state, 'chosen') or 'online'
redis.call('HSET', state, 'chosen', chosen)
if redis.call('HLEN', P .. 'conns:' .. u) == 0 then
  redis.call('PEXPIRE', state, retention)
  return 0
end
if previous == chosen then return 0 end
redis.call('ZADD', P .. 'dirty', now, u)
return 1`);

/** ARGV: prefix, retention, nodeId, nodeTtlMs, member… → users whose first connection was (re)recorded */
const HEARTBEAT = script(`
local node = ARGV[3]
redis.call('SET', P .. 'node:' .. node, '1', 'PX', ARGV[4])
redis.call('SADD', P .. 'nodes', node)
local revived = {}
for i = 5, #ARGV do
  local m = ARGV[i]
  local u, c = split(m)
  local conns = P .. 'conns:' .. u
  if redis.call('HSETNX', conns, c, node) == 1 then
    redis.call('SADD', P .. 'nodeconns:' .. node, m)
    redis.call('PERSIST', P .. 'state:' .. u)
    if redis.call('HLEN', conns) == 1 then
      redis.call('ZADD', P .. 'dirty', now, u)
      revived[#revived + 1] = u
    end
  end
  redis.call('ZADD', P .. 'seen', now, m)
end
return revived`);

/** ARGV: prefix, retention, nodeId, limit → {done, users}. A node that is alive again is left alone. */
const REAP_NODE = script(`
local node, limit = ARGV[3], tonumber(ARGV[4])
if redis.call('EXISTS', P .. 'node:' .. node) == 1 then return {1, {}} end
local set = P .. 'nodeconns:' .. node
local affected = {}
for _, m in ipairs(redis.call('SPOP', set, limit)) do
  local u, c = split(m)
  if drop(u, c) then affected[#affected + 1] = u end
end
if redis.call('SCARD', set) > 0 then return {0, affected} end
redis.call('SREM', P .. 'nodes', node)
return {1, affected}`);

/** ARGV: prefix, retention, staleAfterMs, limit → {count examined, users} */
const REAP_STALE = script(`
local batch = redis.call('ZRANGEBYSCORE', P .. 'seen', '-inf', now - tonumber(ARGV[3]), 'LIMIT', 0, tonumber(ARGV[4]))
local affected = {}
for _, m in ipairs(batch) do
  local u, c = split(m)
  if drop(u, c) then affected[#affected + 1] = u end
end
return {#batch, affected}`);

/** ARGV: prefix, retention, orphanAfterMs, limit → users marked changed long ago and never settled */
const ORPHANS = script(`
return redis.call('ZRANGEBYSCORE', P .. 'dirty', '-inf', now - tonumber(ARGV[3]), 'LIMIT', 0, tonumber(ARGV[4]))`);

/** ARGV: prefix, retention, userId… → flat [userId, status, …] of changes to announce */
const SETTLE = script(`
local out = {}
for i = 3, #ARGV do
  local u = ARGV[i]
  local state = P .. 'state:' .. u
  local status = status_of(u)
  redis.call('ZREM', P .. 'dirty', u)
  if status ~= (redis.call('HGET', state, 'announced') or 'offline') then
    redis.call('HSET', state, 'announced', status)
    if status == 'offline' then redis.call('PEXPIRE', state, retention) end
    out[#out + 1] = u
    out[#out + 1] = status
  end
end
return out`);

/** ARGV: prefix, retention, userId… → statuses in order */
const STATUS = script(`
local out = {}
for i = 3, #ARGV do out[#out + 1] = status_of(ARGV[i]) end
return out`);

/** KEYS: lock; ARGV: owner */
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** Work per script call: bounds how long one call keeps Redis busy. */
const BATCH = 500;

export function createRedisPresenceStore(redis: Redis, prefix: string, timings: PresenceTimings): PresenceStore {
  const P = prefix.endsWith(':') ? prefix : `${prefix}:`;
  const retention = String(timings.chosenRetentionMs);
  const run = (source: string, ...args: (string | number)[]) => redis.eval(source, 0, P, retention, ...args);
  const member = (c: PresenceConnection) => `${c.userId} ${c.connectionId}`;
  // Lock time-to-live: long enough for a big sweep, short enough that a sweeper killed mid-sweep is replaced soon.
  const lockMs = Math.max(1_000, timings.sweepIntervalMs * 2);
  // Periodic and shutdown work is skipped while Redis is away rather than queued behind the outage: the next
  // heartbeat after it records every connection again, and the other nodes' sweepers clean up after a node that
  // could not remove its own entries.
  const connected = () => redis.status === 'ready';

  async function reapNode(nodeId: string, affected: string[]) {
    for (;;) {
      const [done, users] = (await run(REAP_NODE, nodeId, BATCH)) as [number, string[]];
      affected.push(...users);
      if (done === 1) return;
    }
  }

  return {
    async statusOf(userIds) {
      const result = new Map<string, PresenceStatus>();
      for (let i = 0; i < userIds.length; i += BATCH) {
        const chunk = userIds.slice(i, i + BATCH);
        const statuses = (await run(STATUS, ...chunk)) as PresenceStatus[];
        chunk.forEach((id, k) => result.set(id, statuses[k]!));
      }
      return result;
    },
    async focusedUsers(userIds) {
      const result = new Set<string>();
      for (let i = 0; i < userIds.length; i += BATCH) {
        for (const id of (await run(FOCUSED, ...userIds.slice(i, i + BATCH))) as string[]) result.add(id);
      }
      return result;
    },
    async focus(connection, focused) {
      await run(FOCUS, connection.userId, connection.connectionId, focused ? 1 : 0);
    },
    async connect(nodeId, connection) {
      return (await run(CONNECT, nodeId, connection.userId, connection.connectionId)) === 1;
    },
    async disconnect(_nodeId, connection) {
      return (await run(DISCONNECT, connection.userId, connection.connectionId)) === 1;
    },
    async choose(userId, status) {
      return (await run(CHOOSE, userId, status)) === 1;
    },
    async heartbeat(nodeId, connections) {
      if (!connected()) return [];
      const members = connections.map(member);
      // All chunks are issued synchronously, before any later disconnect of these connections can be.
      const calls = [];
      for (let i = 0; i === 0 || i < members.length; i += BATCH) {
        calls.push(run(HEARTBEAT, nodeId, timings.nodeTtlMs, ...members.slice(i, i + BATCH)) as Promise<string[]>);
      }
      return (await Promise.all(calls)).flat();
    },
    async sweep(sweeperId) {
      if (!connected()) return null;
      const lock = `${P}sweep-lock`;
      if ((await redis.set(lock, sweeperId, 'PX', lockMs, 'NX')) === null) return null;
      try {
        const affected: string[] = [];
        const nodes = await redis.smembers(`${P}nodes`);
        if (nodes.length) {
          const alive = await Promise.all(nodes.map((id) => redis.exists(`${P}node:${id}`)));
          for (const [i, id] of nodes.entries()) if (alive[i] === 0) await reapNode(id, affected);
        }
        for (;;) {
          const [examined, users] = (await run(REAP_STALE, timings.staleAfterMs, BATCH)) as [number, string[]];
          affected.push(...users);
          if (examined < BATCH) break;
        }
        affected.push(...((await run(ORPHANS, timings.orphanAfterMs, BATCH * 4)) as string[]));
        return [...new Set(affected)];
      } finally {
        await redis.eval(RELEASE_LOCK, 1, lock, sweeperId).catch(() => undefined);
      }
    },
    async aliveNodes(nodeIds) {
      if (!connected()) throw new Error('Redis is unreachable: cannot tell which nodes are alive');
      const unique = [...new Set(nodeIds)];
      const alive = new Set<string>();
      for (let i = 0; i < unique.length; i += BATCH) {
        const chunk = unique.slice(i, i + BATCH);
        const exists = (await redis.mget(chunk.map((id) => `${P}node:${id}`))) as (string | null)[];
        chunk.forEach((id, k) => {
          if (exists[k] !== null) alive.add(id);
        });
      }
      return alive;
    },
    async removeNode(nodeId) {
      if (!connected()) throw new Error('Redis is unreachable; the other nodes will remove this node\'s connections');
      await redis.del(`${P}node:${nodeId}`);
      const affected: string[] = [];
      await reapNode(nodeId, affected);
      return [...new Set(affected)];
    },
    async settle(userIds) {
      const changes: PresenceChange[] = [];
      const unique = [...new Set(userIds)];
      for (let i = 0; i < unique.length; i += BATCH) {
        const flat = (await run(SETTLE, ...unique.slice(i, i + BATCH))) as string[];
        for (let k = 0; k < flat.length; k += 2) changes.push({ userId: flat[k]!, status: flat[k + 1] as PresenceStatus });
      }
      return changes;
    },
    async close() {},
  };
}
