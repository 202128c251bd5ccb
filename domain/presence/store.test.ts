import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createMemoryPresenceStore } from './memoryStore.ts';
import { createRedisPresenceStore } from './redisStore.ts';
import { presenceTimings, type PresenceStore } from './store.ts';

// Short enough to wait out in a test; the ratios between them are those of the defaults.
// Wide enough that a busy machine (the suite runs three files at once) does not age a connection between two calls.
const timings = presenceTimings({ nodeTtlMs: 300, sweepIntervalMs: 200, staleAfterMs: 800, orphanAfterMs: 500, coalesceMs: 100 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const device = (userId: string) => ({ userId, connectionId: randomBytes(10).toString('base64url') });

const redisClients: Redis[] = [];
afterAll(async () => {
  for (const client of redisClients) await client.quit();
});

const implementations: [string, boolean, () => PresenceStore][] = [
  ['in-memory store', true, () => createMemoryPresenceStore(timings)],
  [
    'Redis store',
    Boolean(inject('redisUrl')),
    () => {
      const client = new Redis(inject('redisUrl'));
      redisClients.push(client);
      return createRedisPresenceStore(client, `edulure-test-presence-${randomBytes(6).toString('hex')}:`, timings);
    },
  ],
];

describe.each(implementations)('%s', (_name, available, makeStore) => {
  describe.skipIf(!available)('presence store contract', () => {
    it('announces a first connection once, and the last disconnection once', async () => {
      const store = makeStore();
      const user = randomUUID();
      const phone = device(user);
      const laptop = device(user);
      expect(await store.connect('n1', phone)).toBe(true);
      expect(await store.connect('n1', laptop)).toBe(false);
      expect(await store.settle([user])).toEqual([{ userId: user, status: 'online' }]);
      expect(await store.settle([user])).toEqual([]);

      expect(await store.disconnect('n1', phone)).toBe(false);
      expect((await store.statusOf([user])).get(user)).toBe('online');
      expect(await store.disconnect('n1', laptop)).toBe(true);
      expect(await store.disconnect('n1', laptop)).toBe(false);
      expect(await store.settle([user])).toEqual([{ userId: user, status: 'offline' }]);
      expect((await store.statusOf([user])).get(user)).toBe('offline');
    });

    it('knows who has a focused tab: only connected devices count, and a dead node\'s devices stop counting', async () => {
      const store = makeStore();
      const [ann, ben] = [randomUUID(), randomUUID()];
      const phone = device(ann);
      const laptop = device(ann);
      await store.connect('n1', phone);
      await store.connect('n2', laptop);
      await store.connect('n1', device(ben));
      // A device that is not connected (or no longer) cannot claim focus.
      await store.focus(device(ben), true);
      expect(await store.focusedUsers([ann, ben])).toEqual(new Set());
      await store.focus(phone, true);
      await store.focus(laptop, true);
      expect(await store.focusedUsers([ann, ben])).toEqual(new Set([ann]));
      await store.focus(phone, false);
      expect(await store.focusedUsers([ann])).toEqual(new Set([ann]));
      await store.disconnect('n2', laptop);
      expect(await store.focusedUsers([ann])).toEqual(new Set());
      await store.focus(phone, true);
      await store.removeNode('n1');
      expect(await store.focusedUsers([ann])).toEqual(new Set());
    });

    it('announces nothing for a disconnect and reconnect settled together', async () => {
      const store = makeStore();
      const user = randomUUID();
      const first = device(user);
      await store.connect('n1', first);
      await store.settle([user]);
      expect(await store.disconnect('n1', first)).toBe(true);
      expect(await store.connect('n2', device(user))).toBe(true);
      expect(await store.settle([user, user])).toEqual([]);
    });

    it('shows the chosen status while connected, and keeps it across a reconnect', async () => {
      const store = makeStore();
      const user = randomUUID();
      const other = randomUUID();
      const phone = device(user);
      await store.connect('n1', phone);
      await store.settle([user]);
      expect(await store.choose(user, 'away')).toBe(true);
      expect(await store.choose(user, 'away')).toBe(false);
      expect(await store.settle([user])).toEqual([{ userId: user, status: 'away' }]);
      expect(await store.choose(user, 'dnd')).toBe(true);
      const statuses = await store.statusOf([user, other]);
      expect(Object.fromEntries(statuses)).toEqual({ [user]: 'dnd', [other]: 'offline' });

      await store.disconnect('n1', phone);
      expect(await store.settle([user])).toEqual([{ userId: user, status: 'offline' }]);
      // Choosing while offline changes nothing visible, but the choice applies on the next connection.
      expect(await store.choose(user, 'away')).toBe(false);
      await store.connect('n1', device(user));
      expect(await store.settle([user])).toEqual([{ userId: user, status: 'away' }]);
    });

    it("sweeps the connections of a node whose liveness expired, and leaves a live node's alone", async () => {
      const store = makeStore();
      const [onDead, onLive, onBoth] = [randomUUID(), randomUUID(), randomUUID()];
      const deadConnections = [device(onDead), device(onBoth)];
      const liveConnections = [device(onLive), device(onBoth)];
      for (const c of deadConnections) await store.connect('dead', c);
      for (const c of liveConnections) await store.connect('live', c);
      await store.heartbeat('dead', deadConnections);
      await store.heartbeat('live', liveConnections);
      await store.settle([onDead, onLive, onBoth]);

      await sleep(timings.nodeTtlMs / 2);
      await store.heartbeat('live', liveConnections);
      expect(await store.sweep('sweeper')).toEqual([]);
      await sleep(timings.nodeTtlMs / 2 + 50);
      await store.heartbeat('live', liveConnections);

      expect(await store.sweep('sweeper')).toEqual([onDead]);
      expect(await store.settle([onDead, onLive, onBoth])).toEqual([{ userId: onDead, status: 'offline' }]);
      const statuses = await store.statusOf([onDead, onLive, onBoth]);
      expect(Object.fromEntries(statuses)).toEqual({ [onDead]: 'offline', [onLive]: 'online', [onBoth]: 'online' });
    });

    it('sweeps a connection whose heartbeat went stale although its node is alive (a leaked entry)', async () => {
      const store = makeStore();
      const user = randomUUID();
      await store.connect('n1', device(user)); // never included in n1's heartbeats
      await store.settle([user]);
      for (let waited = 0; waited <= timings.staleAfterMs; waited += 100) {
        await store.heartbeat('n1', []);
        await sleep(100);
      }
      await store.heartbeat('n1', []);
      expect(await store.sweep('sweeper')).toEqual([user]);
      expect(await store.settle([user])).toEqual([{ userId: user, status: 'offline' }]);
    });

    it('hands the sweeper users whose change was never settled (their node died before announcing it)', async () => {
      const store = makeStore();
      const user = randomUUID();
      const connections = [device(user)];
      await store.connect('n1', connections[0]!);
      await store.heartbeat('n1', connections);
      expect(await store.sweep('sweeper')).toEqual([]);
      await sleep(timings.orphanAfterMs + 20);
      await store.heartbeat('n1', connections);
      const swept = await store.sweep('sweeper');
      expect(swept).toContain(user);
      expect(await store.settle(swept!)).toContainEqual({ userId: user, status: 'online' });
      await sleep(timings.orphanAfterMs + 20);
      await store.heartbeat('n1', connections);
      expect(await store.sweep('sweeper')).not.toContain(user);
    });

    it('a node wrongly presumed dead records its connections again with its next heartbeat', async () => {
      const store = makeStore();
      const user = randomUUID();
      const connections = [device(user)];
      await store.connect('frozen', connections[0]!);
      await store.heartbeat('frozen', connections);
      await store.settle([user]);
      await sleep(timings.nodeTtlMs + 50);
      expect(await store.sweep('sweeper')).toEqual([user]);
      expect(await store.settle([user])).toEqual([{ userId: user, status: 'offline' }]);

      expect(await store.heartbeat('frozen', connections)).toEqual([user]);
      expect(await store.heartbeat('frozen', connections)).toEqual([]);
      expect(await store.settle([user])).toEqual([{ userId: user, status: 'online' }]);
    });

    it('tells which nodes are alive: refreshed within the TTL and not shut down', async () => {
      const store = makeStore();
      await store.connect('a', device(randomUUID()));
      await store.heartbeat('a', []);
      await store.heartbeat('b', []);
      expect(await store.aliveNodes(['a', 'b', 'never-seen'])).toEqual(new Set(['a', 'b']));
      await store.removeNode('b');
      expect(await store.aliveNodes(['a', 'b'])).toEqual(new Set(['a']));
      await sleep(timings.nodeTtlMs + 50);
      expect(await store.aliveNodes(['a'])).toEqual(new Set());
    });

    it("removing a node (graceful shutdown) removes only that node's connections", async () => {
      const store = makeStore();
      const [leaving, staying] = [randomUUID(), randomUUID()];
      await store.connect('old', device(leaving));
      await store.connect('old', device(staying));
      await store.connect('new', device(staying));
      await store.settle([leaving, staying]);
      expect(await store.removeNode('old')).toEqual([leaving]);
      expect(await store.settle([leaving, staying])).toEqual([{ userId: leaving, status: 'offline' }]);
    });
  });
});

describe.skipIf(!inject('redisUrl'))('Redis store across nodes', () => {
  it('lets one sweeper run at a time', async () => {
    const client = new Redis(inject('redisUrl'));
    redisClients.push(client);
    const prefix = `edulure-test-presence-${randomBytes(6).toString('hex')}:`;
    const store = createRedisPresenceStore(client, prefix, timings);
    await client.set(`${prefix}sweep-lock`, 'other-node', 'PX', 5000);
    expect(await store.sweep('me')).toBeNull();
    await client.del(`${prefix}sweep-lock`);
    expect(await store.sweep('me')).toEqual([]);
    // Released after the sweep, for the next one (whichever node).
    expect(await client.exists(`${prefix}sweep-lock`)).toBe(0);
  });

  it('two nodes settling the same user announce each change once', async () => {
    const a = new Redis(inject('redisUrl'));
    const b = new Redis(inject('redisUrl'));
    redisClients.push(a, b);
    const prefix = `edulure-test-presence-${randomBytes(6).toString('hex')}:`;
    const [storeA, storeB] = [createRedisPresenceStore(a, prefix, timings), createRedisPresenceStore(b, prefix, timings)];
    const user = randomUUID();
    await storeA.connect('a', device(user));
    await storeB.connect('b', device(user));
    const both = await Promise.all([storeA.settle([user]), storeB.settle([user])]);
    expect(both.flat()).toEqual([{ userId: user, status: 'online' }]);
  });
});
