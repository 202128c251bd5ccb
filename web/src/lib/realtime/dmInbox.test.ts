import { describe, expect, it } from 'vitest';
import type { ChannelDto } from '$contracts/communities.ts';
import type { AckResult } from '$contracts/errors.ts';
import type { ChannelList } from '$contracts/communities.ts';
import { DmInbox } from './dmInbox.svelte.ts';
import { FakeSocket } from './fakeSocket.ts';

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const dm = (n: number, unreadCount: number): ChannelDto => ({
  id: `00000000-0000-4000-8000-00000000000${n}`,
  communityId: null,
  kind: 'dm',
  name: null,
  topic: '',
  visibility: 'private',
  archived: false,
  lastSeq: 10,
  unreadCount,
  mentionCount: 0,
  members: [],
});

/** The server's DM list as the inbox fetches it; `during` runs while a fetch is in flight (an event crossing it). */
function fakeDms(list: ChannelDto[]) {
  const state = { list, calls: 0, during: null as (() => void) | null };
  const fetch = async (): Promise<AckResult<ChannelList>> => {
    state.calls += 1;
    const answer = { ok: true as const, data: { data: state.list.map((c) => ({ ...c })) } };
    const during = state.during;
    state.during = null;
    during?.();
    return answer;
  };
  return { state, fetch };
}

describe('DmInbox ("Messages" badge)', () => {
  it('starts from the first paint, counts new DM messages from the user room, and takes each DM\'s count from reads', async () => {
    const [a, b] = [dm(1, 2), dm(2, 0)];
    const server = fakeDms([a, b]);
    const inbox = new DmInbox({ fetch: server.fetch });
    inbox.seed([a, b]);
    expect(inbox.total()).toBe(2);

    const socket = new FakeSocket();
    inbox.attach(socket.socket);
    await settle();
    expect(server.state.calls).toBe(1);
    socket.push('dm:activity', { channelId: b.id, messageId: 'm1', seq: 11 });
    socket.push('dm:activity', { channelId: b.id, messageId: 'm2', seq: 12 });
    expect(inbox.total()).toBe(4);
    // The DM on screen does not count: it is read as it arrives.
    expect(inbox.total(b.id)).toBe(2);

    // Read on this or another device: the user room hears read:updated with the DM's new count.
    socket.push('read:updated', { channelId: a.id, seq: 10, unreadCount: 0, mentionCount: 0 });
    expect(inbox.total()).toBe(2);
    // A community channel's read state is not a DM's.
    socket.push('read:updated', { channelId: 'not-a-dm', seq: 3, unreadCount: 7, mentionCount: 0 });
    expect(inbox.total()).toBe(2);
  });

  it('catches up after a reconnect, and asks again when an event crossed the answer', async () => {
    const a = dm(1, 0);
    const server = fakeDms([a]);
    const inbox = new DmInbox({ fetch: server.fetch });
    inbox.seed([a]);
    const socket = new FakeSocket();
    inbox.attach(socket.socket);
    await settle();

    socket.drop();
    // Missed while disconnected: three messages.
    server.state.list = [{ ...a, unreadCount: 3 }];
    // One more arrives while the catch-up is in flight (already counted in the answer, or not: the inbox cannot tell).
    server.state.during = () => {
      server.state.list = [{ ...a, unreadCount: 4 }];
      socket.push('dm:activity', { channelId: a.id, messageId: 'm4', seq: 14 });
    };
    const before = server.state.calls;
    socket.reconnect();
    await settle();
    await settle();
    expect(server.state.calls - before).toBe(2);
    expect(inbox.total()).toBe(4);
  });
});
