import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RestrictionDto } from '$contracts/moderation.ts';
import { FakeSocket } from './fakeSocket.ts';
import { ModerationNotices } from './moderationNotices.svelte.ts';

const COMMUNITY = '00000000-0000-4000-8000-000000000001';
const OTHER = '00000000-0000-4000-8000-000000000002';
const NOW = Date.UTC(2026, 0, 1, 12, 0);
const inMinutes = (minutes: number) => new Date(NOW + minutes * 60_000).toISOString();
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

const timeout = (communityId: string, minutes: number, reason = 'cool off'): RestrictionDto => ({
  communityId,
  communityName: communityId === COMMUNITY ? 'Maths' : 'Chess',
  kind: 'timeout',
  reason,
  until: inMinutes(minutes),
});

afterEach(() => {
  vi.useRealTimers();
});

describe('ModerationNotices after a reload', () => {
  it('loads running timeouts when it attaches: the banner is back and timedOutUntil answers', async () => {
    const socket = new FakeSocket();
    const load = vi.fn(async () => [timeout(COMMUNITY, 30), { ...timeout(OTHER, 0), kind: 'ban' as const, until: null }]);
    const notices = new ModerationNotices({ now: () => NOW, loadRestrictions: load });
    notices.attach(socket.socket);
    await settle();
    expect(notices.timedOutUntil(COMMUNITY)).toBe(inMinutes(30));
    expect(notices.timedOutUntil(OTHER)).toBeNull();
    expect(notices.notices).toEqual([expect.objectContaining({ kind: 'timed_out', communityId: COMMUNITY, reason: 'cool off', until: inMinutes(30) })]);
    // The notice names the community even though no page told the store about it yet.
    expect(notices.nameOf(COMMUNITY)).toBe('Maths');
    notices.detach();
    expect(socket.listeners()).toBe(0);
  });

  it('loads again after a reconnect: a lifted timeout drops, a dismissed one stays dismissed', async () => {
    const socket = new FakeSocket();
    let server = [timeout(COMMUNITY, 30), timeout(OTHER, 60)];
    const notices = new ModerationNotices({ now: () => NOW, loadRestrictions: async () => server });
    notices.attach(socket.socket);
    await settle();
    notices.dismiss(`timed_out:${OTHER}`);
    server = [timeout(OTHER, 60)];
    socket.push('connect', undefined);
    await settle();
    expect(notices.timedOutUntil(COMMUNITY)).toBeNull();
    expect(notices.timedOutUntil(OTHER)).toBe(inMinutes(60));
    expect(notices.notices).toEqual([]);
    notices.detach();
  });

  it('a timeout heard live while the load is under way is not lost to the older answer', async () => {
    const socket = new FakeSocket();
    let answer: (value: RestrictionDto[]) => void = () => {};
    const notices = new ModerationNotices({ now: () => NOW, loadRestrictions: () => new Promise((resolve) => (answer = resolve)) });
    notices.attach(socket.socket);
    socket.push('moderation:timed_out', { communityId: COMMUNITY, until: inMinutes(10), reason: 'live' });
    answer([]);
    await settle();
    expect(notices.timedOutUntil(COMMUNITY)).toBe(inMinutes(10));
    expect(notices.notices.map((n) => n.reason)).toEqual(['live']);
    notices.detach();
  });

  it('drops the timeout and its banner when it ends', async () => {
    vi.useFakeTimers({ now: NOW });
    const socket = new FakeSocket();
    const notices = new ModerationNotices({ loadRestrictions: async () => [timeout(COMMUNITY, 5)] });
    notices.attach(socket.socket);
    await vi.advanceTimersByTimeAsync(0);
    expect(notices.notices).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(5 * 60_000 + 1);
    expect(notices.timedOutUntil(COMMUNITY)).toBeNull();
    expect(notices.notices).toEqual([]);
    notices.detach();
  });
});
