import { afterEach, describe, expect, it, vi } from 'vitest';
import { PresenceWatchInput, type PresenceList, type PresenceStatus } from '$contracts/chat.ts';
import { PRESENCE_WATCH_ADD_MAX } from '$contracts/values/chat.ts';
import type { UserRef } from '$contracts/communities.ts';
import type { AckResult } from '$contracts/errors.ts';
import { connectClient, FakeChatServer, settle, uuid } from './fakeChatServer.ts';
import { PresenceStore, RELEASE_DELAY_MS, type WatchChange } from './presence.svelte.ts';

const SELF = 'self';

/** Lets queued flushes and answered requests run (microtasks only: the release timers stay where they are). */
async function microtasks(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/**
 * The server's side of `presence:watch`: answers with the statuses in `statuses` of those added (offline people left
 * out, as the server does); `during` runs while a request is on its way, `fail` refuses the next requests.
 */
function fakeServer(statuses: Record<string, PresenceStatus> = {}) {
  const state = { statuses, calls: [] as WatchChange[], during: null as (() => void) | null, fail: 0 };
  const send = async (change: WatchChange): Promise<AckResult<PresenceList>> => {
    state.calls.push({ add: [...change.add], remove: [...change.remove] });
    const during = state.during;
    state.during = null;
    during?.();
    if (state.fail > 0) {
      state.fail -= 1;
      return { ok: false, error: { code: 'unavailable', message: 'down' } };
    }
    const data = change.add.flatMap((userId) => {
      const status = state.statuses[userId] ?? 'offline';
      return status === 'offline' ? [] : [{ userId, status }];
    });
    return { ok: true, data: { data } };
  };
  return { state, send };
}

function connectedStore(statuses: Record<string, PresenceStatus> = {}, options: { limit?: number } = {}) {
  const server = fakeServer(statuses);
  const store = new PresenceStore({ send: server.send, self: SELF, ...options });
  store.connected();
  return { server, store };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('PresenceStore', () => {
  it('follows the people shown once connected, everything of one moment in one request, never the person themself', async () => {
    const server = fakeServer({ ann: 'online', ben: 'dnd' });
    const store = new PresenceStore({ send: server.send, self: SELF });
    // Reading a status asks nothing (it runs inside $derived and during SSR).
    expect([store.status('ann'), store.status('ben'), store.status('cal'), store.status(SELF)]).toEqual(['offline', 'offline', 'offline', 'offline']);
    store.watch('ann');
    store.watch('ben');
    store.watch('cal');
    store.watch(SELF)();
    await microtasks();
    // Not connected yet: nothing is sent.
    expect(server.state.calls).toEqual([]);

    store.connected();
    await microtasks();
    expect(server.state.calls).toEqual([{ add: ['ann', 'ben', 'cal'], remove: [] }]);
    // Those the answer leaves out are offline.
    expect([store.status('ann'), store.status('ben'), store.status('cal')]).toEqual(['online', 'dnd', 'offline']);

    // Someone new on a later render: only they are asked for; someone already followed costs nothing.
    store.watch('dee');
    store.watch('ann');
    await microtasks();
    expect(server.state.calls.slice(1)).toEqual([{ add: ['dee'], remove: [] }]);
  });

  it('keeps someone followed while any of their dots is shown, and a little longer', async () => {
    vi.useFakeTimers();
    const { server, store } = connectedStore({ ann: 'online' });
    const releaseInList = store.watch('ann');
    const releaseInHeader = store.watch('ann');
    await microtasks();
    expect(server.state.calls).toEqual([{ add: ['ann'], remove: [] }]);

    releaseInList();
    releaseInList();
    await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS * 2);
    expect(server.state.calls).toHaveLength(1);

    releaseInHeader();
    await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS - 1);
    expect(server.state.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(server.state.calls.at(-1)).toEqual({ add: [], remove: ['ann'] });
    // What was last heard stays, though nothing keeps it up to date any more.
    expect(store.status('ann')).toBe('online');
  });

  it('a dot shown again before the release is due (a navigation) costs no request', async () => {
    vi.useFakeTimers();
    const { server, store } = connectedStore({ ann: 'online', ben: 'away' });
    const first = [store.watch('ann'), store.watch('ben')];
    await microtasks();
    expect(server.state.calls).toHaveLength(1);

    // The page goes away and the next one shows Ann again, then Cal.
    for (const release of first) release();
    await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS / 2);
    store.watch('ann');
    store.watch('cal');
    await microtasks();
    expect(server.state.calls.slice(1)).toEqual([{ add: ['cal'], remove: [] }]);

    // Ben is not shown again: released when due, alone.
    await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS);
    expect(server.state.calls.slice(2)).toEqual([{ add: [], remove: ['ben'] }]);
  });

  it('releases and new people of one moment go out in one request', async () => {
    vi.useFakeTimers();
    const { server, store } = connectedStore();
    const releaseAnn = store.watch('ann');
    await microtasks();
    releaseAnn();
    await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS - 1);
    store.watch('ben');
    await vi.advanceTimersByTimeAsync(1);
    // Ben's request went out at once; Ann's release when due.
    expect(server.state.calls.slice(1)).toEqual([
      { add: ['ben'], remove: [] },
      { add: [], remove: ['ann'] },
    ]);

    store.watch('cal');
    store.watch('dee')();
    await microtasks();
    // Dee came and went before anything was sent: never asked for, and her release sends nothing.
    expect(server.state.calls.slice(3)).toEqual([{ add: ['cal'], remove: [] }]);
    await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS);
    expect(server.state.calls).toHaveLength(4);
  });

  it('asks for everyone shown again after each reconnect, and sends nothing while disconnected', async () => {
    vi.useFakeTimers();
    const { server, store } = connectedStore({ ann: 'online', ben: 'online' });
    store.watch('ann');
    const releaseBen = store.watch('ben');
    await microtasks();
    expect([store.status('ann'), store.status('ben')]).toEqual(['online', 'online']);

    store.disconnected();
    store.watch('cal');
    releaseBen();
    await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS);
    expect(server.state.calls).toHaveLength(1);

    // Ann left while we were disconnected: the announcement was lost, the answer tells.
    server.state.statuses = { cal: 'dnd' };
    store.connected();
    await microtasks();
    expect(server.state.calls.slice(1)).toEqual([{ add: ['ann', 'cal'], remove: [] }]);
    expect([store.status('ann'), store.status('cal')]).toEqual(['offline', 'dnd']);
  });

  it('asks again for those the server stopped following that are still shown', async () => {
    vi.useFakeTimers();
    const { server, store } = connectedStore({ ann: 'online', ben: 'online', cal: 'away' });
    store.watch('ann');
    store.watch('ben');
    store.watch('cal')();
    await microtasks();

    // Ben left the community Ann and we share: the server checks again and no longer shows him.
    server.state.statuses = { ann: 'online', cal: 'away' };
    store.rewatch(['ben', 'cal', 'zed']);
    await microtasks();
    // Cal's dot is gone (his release is pending) and Zed was never shown: neither is asked for.
    expect(server.state.calls.slice(1)).toEqual([{ add: ['ben'], remove: [] }]);
    expect(store.status('ben')).toBe('offline');

    store.rewatch(null);
    await microtasks();
    expect(server.state.calls.slice(2)).toEqual([{ add: ['ann', 'ben'], remove: [] }]);

    // Cal was dropped by the server already: his release, when due, sends nothing.
    await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS);
    expect(server.state.calls).toHaveLength(3);
  });

  it('a live change that crosses a request wins over its answer', async () => {
    const { server, store } = connectedStore({ ann: 'online', ben: 'online' });
    store.set('ben', 'dnd');
    store.watch('ann');
    store.watch('ben');
    server.state.during = () => store.set('ann', 'away');
    await microtasks();
    // Ann's change came after the request was sent; Ben's before it, so the answer is newer.
    expect([store.status('ann'), store.status('ben')]).toEqual(['away', 'online']);
  });

  it('asks for at most 200 people per request and follows at most the limit, making room as dots go', async () => {
    vi.useFakeTimers();
    const people = Array.from({ length: 450 }, (_, i) => `p${i}`);
    const { server, store } = connectedStore({ p0: 'online', p449: 'away' });
    const releases = people.map((userId) => store.watch(userId));
    await microtasks();
    expect(server.state.calls.map((c) => [c.add.length, c.remove.length])).toEqual([
      [200, 0],
      [200, 0],
      [50, 0],
    ]);
    expect(server.state.calls.flatMap((c) => c.add)).toEqual(people);
    expect([store.status('p0'), store.status('p449')]).toEqual(['online', 'away']);

    // Removals ride along with the first part.
    for (const release of releases.slice(0, 250)) release();
    await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS);
    const more = Array.from({ length: 201 }, (_, i) => `q${i}`);
    for (const userId of more) store.watch(userId);
    await microtasks();
    expect(server.state.calls.slice(3).map((c) => [c.add.length, c.remove.length])).toEqual([
      [0, 250],
      [200, 0],
      [1, 0],
    ]);

    // A small limit: those who do not fit wait, and people whose dots are gone make room first.
    const small = connectedStore({}, { limit: 3 });
    const releaseA = small.store.watch('a');
    const releaseB = small.store.watch('b');
    await microtasks();
    releaseA();
    small.store.watch('c');
    small.store.watch('d');
    small.store.watch('e');
    await microtasks();
    expect(small.server.state.calls).toEqual([
      { add: ['a', 'b'], remove: [] },
      { add: ['c', 'd'], remove: ['a'] },
    ]);
    // E waits until B's dot goes.
    await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS);
    expect(small.server.state.calls).toHaveLength(2);
    releaseB();
    await vi.advanceTimersByTimeAsync(RELEASE_DELAY_MS);
    expect(small.server.state.calls.slice(2)).toEqual([{ add: ['e'], remove: ['b'] }]);
  });

  it('a refused request follows nobody: whoever is still shown is asked for with the next change or reconnect', async () => {
    const { server, store } = connectedStore({ ann: 'online', ben: 'away' });
    server.state.fail = 1;
    store.watch('ann');
    await microtasks();
    expect(store.status('ann')).toBe('offline');

    store.watch('ben');
    await microtasks();
    expect(server.state.calls.slice(1)).toEqual([{ add: ['ann', 'ben'], remove: [] }]);
    expect([store.status('ann'), store.status('ben')]).toEqual(['online', 'away']);

    // An answer meant for a connection that is gone changes nothing.
    store.watch('cal');
    server.state.statuses = { cal: 'online' };
    server.state.during = () => {
      store.disconnected();
      store.connected();
    };
    await microtasks();
    expect(server.state.calls.slice(2)).toEqual([
      { add: ['cal'], remove: [] },
      { add: ['ann', 'ben', 'cal'], remove: [] },
    ]);
    expect([store.status('ann'), store.status('cal')]).toEqual(['offline', 'online']);
  });

  it('a listing loaded with the page is the starting point, follows nobody, and does not overrule the server', async () => {
    const server = fakeServer({ ann: 'dnd' });
    const store = new PresenceStore({ send: server.send, self: SELF });
    store.set('gone', 'online');
    store.seed([{ userId: 'ann', status: 'away' }, { userId: SELF, status: 'away' }], ['ann', 'gone', 'ben', SELF]);
    expect([store.status('ann'), store.status('gone'), store.status('ben'), store.status(SELF)]).toEqual(['away', 'offline', 'offline', 'offline']);

    store.connected();
    await microtasks();
    expect(server.state.calls).toEqual([]);

    // Once the server follows Ann for this connection, a listing loaded earlier does not bring back what it said.
    store.watch('ann');
    await microtasks();
    store.seed([{ userId: 'ann', status: 'away' }], ['ann', 'gone']);
    expect(store.status('ann')).toBe('dnd');
  });

  it('sends no more adds per request than the presence:watch contract accepts', () => {
    const ids = Array.from({ length: PRESENCE_WATCH_ADD_MAX + 1 }, () => crypto.randomUUID());
    expect(PresenceWatchInput.safeParse({ add: ids.slice(0, PRESENCE_WATCH_ADD_MAX) }).success).toBe(true);
    expect(PresenceWatchInput.safeParse({ add: ids }).success).toBe(false);
  });
});

describe('presence on the tab socket', () => {
  const ada: UserRef = { id: uuid(), displayName: 'Ada' };
  const grace: UserRef = { id: uuid(), displayName: 'Grace' };
  const linus: UserRef = { id: uuid(), displayName: 'Linus' };

  const watchCalls = (server: FakeChatServer) => server.calls.filter((c) => c.event === 'presence:watch').map((c) => c.payload);

  it('follows who is shown on the socket, again after a reconnect and after presence:rewatch', async () => {
    const server = new FakeChatServer();
    server.setStatus(grace.id, 'away');
    const { socket, chat } = connectClient(server, ada);
    chat.presence.watch(grace.id);
    chat.presence.watch(linus.id);
    chat.presence.watch(ada.id);
    await settle();
    expect(watchCalls(server)).toEqual([{ add: [grace.id, linus.id], remove: [] }]);
    expect([chat.presence.status(grace.id), chat.presence.status(linus.id)]).toEqual(['away', 'offline']);

    server.setStatus(linus.id, 'online');
    expect(chat.presence.status(linus.id)).toBe('online');

    // Nothing is sent while the connection is down; the reconnect asks for everyone shown.
    socket.drop();
    server.setStatus(grace.id, 'dnd');
    expect(chat.presence.status(grace.id)).toBe('away');
    expect(watchCalls(server)).toHaveLength(1);
    socket.connect();
    await settle();
    expect(watchCalls(server).slice(1)).toEqual([{ add: [grace.id, linus.id], remove: [] }]);
    expect(chat.presence.status(grace.id)).toBe('dnd');

    server.dropWatches(socket, [linus.id]);
    await settle();
    expect(watchCalls(server).slice(2)).toEqual([{ add: [linus.id], remove: [] }]);
    server.setStatus(linus.id, 'away');
    expect(chat.presence.status(linus.id)).toBe('away');
    chat.destroy();
  });
});
