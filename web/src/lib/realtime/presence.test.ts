import { describe, expect, it } from 'vitest';
import type { PresenceList, PresenceStatus } from '$contracts/chat.ts';
import type { AckResult } from '$contracts/errors.ts';
import { PresenceStore } from './presence.svelte.ts';

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const SELF = 'self';

/** The API's answer from `statuses` (offline people are left out, as the API does); `during` runs mid-request. */
function fakeApi(statuses: Record<string, PresenceStatus>) {
  const state = { statuses, calls: [] as string[][], during: null as (() => void) | null };
  const fetch = async (userIds: readonly string[]): Promise<AckResult<PresenceList>> => {
    state.calls.push([...userIds]);
    const data = userIds.flatMap((userId) => {
      const status = state.statuses[userId] ?? 'offline';
      return status === 'offline' ? [] : [{ userId, status }];
    });
    const during = state.during;
    state.during = null;
    during?.();
    return { ok: true, data: { data } };
  };
  return { state, fetch };
}

describe('PresenceStore', () => {
  it('loads the people a page shows once connected, in one request per render, never the person themself', async () => {
    const api = fakeApi({ ann: 'online', ben: 'dnd' });
    const store = new PresenceStore({ fetch: api.fetch, self: SELF });
    // Before the socket connects (and during SSR): nothing is requested.
    expect([store.status('ann'), store.status('ben'), store.status('cal'), store.status(SELF)]).toEqual(['offline', 'offline', 'offline', 'offline']);
    await settle();
    expect(api.state.calls).toEqual([]);

    store.connected();
    await settle();
    expect(api.state.calls).toEqual([['ann', 'ben', 'cal']]);
    expect([store.status('ann'), store.status('ben'), store.status('cal')]).toEqual(['online', 'dnd', 'offline']);

    // Someone new on a later render: only they are asked about.
    store.status('dee');
    await settle();
    expect(api.state.calls.at(-1)).toEqual(['dee']);
  });

  it('a live change that crosses a load wins over it, and each reconnect loads everyone shown again', async () => {
    const api = fakeApi({ ann: 'online' });
    const store = new PresenceStore({ fetch: api.fetch, self: SELF });
    store.connected();
    store.status('ann');
    api.state.during = () => store.set('ann', 'away');
    await settle();
    expect(store.status('ann')).toBe('away');

    // Ann left while we were disconnected: the announcement was lost, the reload tells.
    store.disconnected();
    api.state.statuses = {};
    store.connected();
    await settle();
    expect(api.state.calls.at(-1)).toEqual(['ann']);
    expect(store.status('ann')).toBe('offline');
  });

  it('a listing that covers people marks those it leaves out offline, and they need no load', async () => {
    const api = fakeApi({});
    const store = new PresenceStore({ fetch: api.fetch, self: SELF });
    store.set('gone', 'online');
    store.seed([{ userId: 'ann', status: 'away' }], ['ann', 'gone', SELF]);
    expect([store.status('ann'), store.status('gone')]).toEqual(['away', 'offline']);
    store.connected();
    await settle();
    // On a (re)connect the covered people are loaded like everyone else shown; the person themself never is.
    expect(api.state.calls).toEqual([['ann', 'gone']]);
  });

  it('a failed load leaves what is known and is retried on the next reconnect', async () => {
    let fail = true;
    const api = fakeApi({ ann: 'online' });
    const store = new PresenceStore({
      fetch: (ids) => (fail ? Promise.resolve({ ok: false, error: { code: 'unavailable', message: 'down' } }) : api.fetch(ids)),
      self: SELF,
    });
    store.connected();
    expect(store.status('ann')).toBe('offline');
    await settle();
    fail = false;
    store.disconnected();
    store.connected();
    await settle();
    expect(store.status('ann')).toBe('online');
  });
});
