import { describe, expect, it, vi } from 'vitest';
import type { FeedPage, PostDto } from '$contracts/feed.ts';
import type { CaseDto } from '$contracts/moderation.ts';
import type { FeedApi } from './feedApi.ts';
import { LiveFeed } from './feed.svelte.ts';
import { FakeSocket } from './fakeSocket.ts';
import { ModerationQueue } from './moderation.svelte.ts';
import type { ModerationApi } from './moderationApi.ts';
import { ModerationNotices } from './moderationNotices.svelte.ts';

const COMMUNITY = '00000000-0000-4000-8000-000000000001';
const OTHER_COMMUNITY = '00000000-0000-4000-8000-000000000002';
const ME = { id: '00000000-0000-4000-8000-0000000000aa', displayName: 'Me' };
const OTHER = { id: '00000000-0000-4000-8000-0000000000bb', displayName: 'Other' };
const id = (n: number) => `00000000-0000-4000-8000-3000000000${String(n).padStart(2, '0')}`;
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute)).toISOString();

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function post(n: number, extra: Partial<PostDto> = {}): PostDto {
  return {
    id: id(n),
    communityId: COMMUNITY,
    author: OTHER,
    kind: 'text',
    body: `post ${n}`,
    bodyHtml: `<p>post ${n}</p>`,
    linkUrl: null,
    poll: null,
    pinned: false,
    commentCount: 0,
    reactions: [],
    createdAt: at(n),
    editedAt: null,
    hidden: false,
    version: 1,
    ...extra,
  };
}

/** Answers with the given pages in turn, then with `rest` (the feed as it stands). */
function fakeFeedApi(pages: FeedPage[] = [], rest: FeedPage = { data: [], nextCursor: null }): FeedApi & { calls: string[] } {
  const calls: string[] = [];
  const unused = async () => ({ ok: false, error: { code: 'internal', message: 'unused' } }) as never;
  return {
    calls,
    async page(_source, cursor) {
      calls.push(`page:${cursor}`);
      return { ok: true, data: pages.shift() ?? rest };
    },
    postWithComments: unused,
    moreComments: unused,
    editPost: unused,
    deletePost: unused,
    pin: unused,
    vote: unused,
    async reactToPost(_postId, emoji) {
      calls.push(`react:${emoji}`);
      return { ok: true, data: { reactions: [{ emoji, count: 1, userIds: [ME.id] }], version: 2 } };
    },
    comment: unused,
    editComment: unused,
    deleteComment: unused,
    reactToComment: unused,
  };
}

describe('LiveFeed', () => {
  it('subscribes to the community, holds new posts behind the banner and ignores other communities', async () => {
    const socket = new FakeSocket();
    const feed = new LiveFeed({
      source: { kind: 'community', communityId: COMMUNITY },
      me: ME,
      initial: { data: [post(1)], nextCursor: null },
      api: fakeFeedApi([], { data: [post(1)], nextCursor: null }),
    });
    feed.attach(socket.socket);
    await settle();
    expect(socket.emitted).toContainEqual({ event: 'feed:subscribe', payload: { communityId: COMMUNITY } });
    expect(feed.live).toBe(true);

    socket.push('feed:post_created', post(2));
    socket.push('feed:post_created', post(3, { communityId: OTHER_COMMUNITY }));
    expect(feed.incoming.map((p) => p.id)).toEqual([id(2)]);
    expect(feed.posts.map((p) => p.id)).toEqual([id(1)]);

    feed.reveal();
    expect(feed.posts.map((p) => p.id)).toEqual([id(2), id(1)]);
    socket.push('feed:reaction_updated', {
      communityId: COMMUNITY,
      postId: id(2),
      commentId: null,
      reactions: [{ emoji: '🎉', count: 1, userIds: [OTHER.id] }],
      version: 2,
    });
    expect(feed.posts[0]?.reactions[0]?.emoji).toBe('🎉');
    socket.push('feed:post_deleted', { communityId: COMMUNITY, postId: id(1), version: 2 });
    expect(feed.posts.map((p) => p.id)).toEqual([id(2)]);

    feed.destroy();
    expect(socket.count('feed:unsubscribe')).toBe(1);
    expect(socket.listeners()).toBe(0);
  });

  it('catches up on the first page once subscribed, and again after a reconnect', async () => {
    const socket = new FakeSocket();
    const api = fakeFeedApi([
      // Read after the page loaded: post 3 is new since.
      { data: [post(3), post(2), post(1)], nextCursor: null },
      // After the reconnect: post 2 was deleted meanwhile, post 4 is new.
      { data: [post(4), post(3), post(1)], nextCursor: null },
    ]);
    const feed = new LiveFeed({
      source: { kind: 'community', communityId: COMMUNITY },
      me: ME,
      initial: { data: [post(2), post(1)], nextCursor: null },
      api,
    });
    feed.attach(socket.socket);
    await settle();
    await settle();
    expect(feed.incoming.map((p) => p.id)).toEqual([id(3)]);
    feed.reveal();

    socket.push('connect', undefined);
    await settle();
    await settle();
    expect(socket.count('feed:subscribe')).toBe(2);
    expect(api.calls).toEqual(['page:null', 'page:null']);
    expect(feed.incoming.map((p) => p.id)).toEqual([id(4)]);
    expect(feed.posts.map((p) => p.id)).toEqual([id(3), id(1)]);
  });

  it('does not take a post that arrived live during the catch-up request for a deleted one', async () => {
    const socket = new FakeSocket();
    let answer: (page: FeedPage) => void = () => {};
    const api = fakeFeedApi();
    api.page = () => new Promise((resolve) => (answer = (page) => resolve({ ok: true, data: page })));
    const feed = new LiveFeed({
      source: { kind: 'community', communityId: COMMUNITY },
      me: ME,
      initial: { data: [post(1)], nextCursor: null },
      api,
    });
    feed.attach(socket.socket);
    await settle();
    socket.push('feed:post_created', post(2));
    answer({ data: [post(1)], nextCursor: null });
    await settle();
    expect(feed.incoming.map((p) => p.id)).toEqual([id(2)]);
  });

  it('keeps a post hidden when an edit that committed before the hide is delivered after it', async () => {
    const socket = new FakeSocket();
    const feed = new LiveFeed({
      source: { kind: 'community', communityId: COMMUNITY },
      me: ME,
      initial: { data: [post(2), post(1)], nextCursor: null },
      api: fakeFeedApi([], { data: [post(2), post(1)], nextCursor: null }),
    });
    feed.attach(socket.socket);
    await settle();

    socket.push('feed:post_deleted', { communityId: COMMUNITY, postId: id(1), version: 3 });
    socket.push('feed:post_updated', post(1, { body: 'edited', version: 2 }));
    expect(feed.posts.map((p) => p.body)).toEqual(['post 2']);

    // Unhidden (version 4), then the hide delivered once more: the post stays.
    socket.push('feed:post_created', post(1, { version: 4 }));
    socket.push('feed:post_deleted', { communityId: COMMUNITY, postId: id(1), version: 3 });
    expect(feed.incoming.map((p) => p.id)).toEqual([id(1)]);
    feed.destroy();
  });

  it("applies the API's answer to the reader's own reaction at once", async () => {
    const feed = new LiveFeed({
      source: { kind: 'community', communityId: COMMUNITY },
      me: ME,
      initial: { data: [post(1)], nextCursor: null },
      api: fakeFeedApi(),
    });
    expect(await feed.reactToPost(id(1), '👍')).toBeNull();
    expect(feed.posts[0]?.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [ME.id] }]);
  });

  it('reports a refused subscription', async () => {
    const socket = new FakeSocket();
    socket.answers['feed:subscribe'] = () => ({ ok: false, error: { code: 'forbidden', message: 'Join the community first.' } });
    const feed = new LiveFeed({
      source: { kind: 'community', communityId: COMMUNITY },
      me: ME,
      initial: { data: [], nextCursor: null },
      api: fakeFeedApi(),
    });
    feed.attach(socket.socket);
    await settle();
    expect(feed.live).toBe(false);
    expect(feed.liveProblem).toBe('Join the community first.');
  });
});

function kase(n: number, extra: Partial<CaseDto> = {}): CaseDto {
  return {
    id: id(n),
    communityId: COMMUNITY,
    target: { type: 'message', id: id(90), author: OTHER, body: 'spam', channelId: null, postId: null, hidden: false, deleted: false, createdAt: at(0) },
    status: 'open',
    reportCount: 1,
    reasons: { spam: 1 },
    claimedBy: null,
    claimedAt: null,
    resolution: null,
    createdAt: at(n),
    updatedAt: at(n),
    ...extra,
  };
}

describe('ModerationQueue', () => {
  it('shows cases created live, announces them, and follows updates by updatedAt', async () => {
    const socket = new FakeSocket();
    const api: ModerationApi = { cases: vi.fn(async () => ({ ok: true as const, data: [] })) };
    const queue = new ModerationQueue({ communityId: COMMUNITY, initial: [kase(1)], api });
    queue.attach(socket.socket);
    await settle();
    expect(socket.emitted).toContainEqual({ event: 'moderation:subscribe', payload: { communityId: COMMUNITY } });
    expect(queue.live).toBe(true);

    socket.push('moderation:case_created', kase(2));
    expect(queue.cases.map((k) => k.id)).toEqual([id(2), id(1)]);
    expect(queue.fresh.has(id(2))).toBe(true);
    expect(queue.announcement).toBe('New case: A message by Other reported.');

    socket.push('moderation:case_updated', kase(2, { status: 'claimed', claimedBy: ME, updatedAt: at(10) }));
    // An older copy (a list read before the claim) does not undo it.
    queue.apply(kase(2));
    expect(queue.byId[id(2)]?.status).toBe('claimed');

    socket.push('moderation:case_updated', kase(1, { status: 'resolved', updatedAt: at(11) }));
    expect(queue.cases.map((k) => k.id)).toEqual([id(2)]);
    socket.push('moderation:case_created', kase(3, { communityId: OTHER_COMMUNITY }));
    expect(queue.byId[id(3)]).toBeUndefined();

    queue.seen(id(2));
    expect(queue.fresh.size).toBe(0);
    queue.destroy();
    expect(socket.count('moderation:unsubscribe')).toBe(1);
  });

  it('reloads the list once subscribed, for a filter (both statuses for "needs action") and after a reconnect', async () => {
    const socket = new FakeSocket();
    const cases = vi.fn(async (_communityId: string, status: string | undefined) => ({
      ok: true as const,
      data: status === 'resolved' ? [kase(5, { status: 'resolved' })] : [],
    }));
    const queue = new ModerationQueue({ communityId: COMMUNITY, initial: [], api: { cases } });
    queue.attach(socket.socket);
    await settle();
    // Once subscribed, the queue reads the list again: cases reported since the page loaded.
    expect(cases.mock.calls.map((c) => c[1])).toEqual(['open', 'claimed']);
    await queue.setFilter('resolved');
    expect(queue.cases.map((k) => k.id)).toEqual([id(5)]);
    cases.mockClear();
    queue.filter = 'active';
    socket.push('connect', undefined);
    await settle();
    await settle();
    expect(cases.mock.calls.map((c) => c[1])).toEqual(['open', 'claimed']);
  });
});

describe('ModerationNotices', () => {
  it('takes a community away on removal and shows warnings and timeouts', () => {
    const socket = new FakeSocket();
    const removed: string[] = [];
    const notices = new ModerationNotices({ onRemoved: (c) => removed.push(c), now: () => Date.parse(at(0)) });
    notices.attach(socket.socket);
    notices.rememberCommunity(COMMUNITY, 'Maths');

    socket.push('moderation:timed_out', { communityId: COMMUNITY, until: at(30), reason: 'cool off' });
    expect(notices.timedOutUntil(COMMUNITY)).toBe(at(30));
    socket.push('moderation:warned', { communityId: COMMUNITY, reason: 'be kind' });
    expect(notices.notices.map((n) => n.kind)).toEqual(['timed_out', 'warned']);

    socket.push('community:removed', { communityId: COMMUNITY, reason: 'spam', ban: true, rejoinAfter: null });
    expect(removed).toEqual([COMMUNITY]);
    expect(notices.removalFrom(COMMUNITY)).toEqual({ reason: 'spam', ban: true, rejoinAfter: null });
    expect(notices.notices).toEqual([]);

    notices.readmitted(COMMUNITY);
    expect(notices.removalFrom(COMMUNITY)).toBeNull();
    notices.detach();
    expect(socket.listeners()).toBe(0);
  });
});
