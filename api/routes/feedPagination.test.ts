import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manualClock } from '../../domain/shared/time.ts';
import { call, registerUsers } from '../../test/factories.ts';
import { allPages, commentAs, feedCommunity, feedPage, insertEngagement, insertPost, postAs, reactAs } from '../../test/feedFactories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';

/** The node's clock stands still unless a test moves it: "as of the first page" must mean one exact moment. */
const clock = manualClock();
let node: RunningNode;
beforeAll(async () => {
  node = await startNode({ clock, env: { RATE_LIMIT_EVENTS_PER_10S: '100000' } });
});
afterAll(async () => node?.close());

const HOUR = 3_600_000;
const duplicatesIn = (ids: string[]) => ids.filter((id, i) => ids.indexOf(id) !== i);

describe('community feed pagination', () => {
  it('pinned first on the first page only, then newest first with no duplicates or gaps while posts arrive', async () => {
    const [moderator, member] = await registerUsers(node.url, 2);
    const communityId = await feedCommunity(node, [{ user: moderator, role: 'moderator' }, { user: member }]);
    const now = clock.now().getTime();
    // Some posts share a timestamp to the microsecond: the id breaks the tie and no page boundary loses one.
    const existing: { id: string; at: number }[] = [];
    for (let i = 0; i < 30; i++) {
      const at = now - HOUR - Math.floor(i / 5) * 60_000;
      existing.push({ id: await insertPost(node, { communityId, authorId: member.user.id, createdAt: new Date(at) }), at });
    }
    const pinned = [existing[20]!.id, existing[3]!.id];
    for (const id of pinned) {
      clock.advance(1000);
      const res = await call(node, 'POST', `/posts/${id}/pin`, moderator, { pinned: true });
      expect(res.status).toBe(200);
    }

    const arriving: Promise<{ id: string }>[] = [];
    const pages = await allPages(node, member, `/communities/${communityId}/feed`, {
      limit: 7,
      between: async () => {
        clock.advance(1000);
        // Not awaited: new posts land while the next page is being read.
        arriving.push(...[1, 2, 3].map((i) => postAs(node, member, communityId, `arrived ${i}`)));
      },
    });
    const arrived = (await Promise.all(arriving)).map((p) => p.id);

    const ids = pages.flat().map((p) => p.id);
    expect(duplicatesIn(ids)).toEqual([]);
    expect(new Set(ids)).toEqual(new Set(existing.map((p) => p.id)));
    // Pinned posts head the first page (most recently pinned first) and do not come again in the stream.
    expect(pages[0]!.slice(0, 2).map((p) => p.id)).toEqual([...pinned].reverse());
    expect(pages[0]!.slice(0, 2).every((p) => p.pinned)).toBe(true);
    expect(pages.slice(1).flat().some((p) => p.pinned)).toBe(false);
    const stream = pages.flat().filter((p) => !p.pinned);
    const order = stream.map((p) => [p.createdAt, p.id] as const);
    const sorted = [...order].sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? 1 : -1) : a[0] < b[0] ? 1 : -1));
    expect(order).toEqual(sorted);
    // Posts that arrived meanwhile are above the first page: clients get them live, and a fresh first page has them.
    expect(ids.some((id) => arrived.includes(id))).toBe(false);
    const fresh = await feedPage(node, member, `/communities/${communityId}/feed`, null, 50);
    expect(fresh.data.slice(2, 2 + arrived.length).map((p) => p.id).sort()).toEqual([...arrived].sort());
  });

  it('refuses a cursor it did not make', async () => {
    const [member] = await registerUsers(node.url, 1);
    const communityId = await feedCommunity(node, [{ user: member }]);
    const forged = [
      ['0000-01-01T00:00:00.000000Z', crypto.randomUUID()],
      ['0000-01-01T00:00:00.000Z', 1, crypto.randomUUID()],
    ].map((key) => Buffer.from(JSON.stringify(key)).toString('base64url'));
    for (const cursor of ['nonsense', Buffer.from('["x",1]').toString('base64url'), ...forged]) {
      const res = await call(node, 'GET', `/communities/${communityId}/feed?cursor=${cursor}`, member);
      expect(res.status).toBe(400);
      const home = await call(node, 'GET', `/feed?cursor=${cursor}`, member);
      expect(home.status).toBe(400);
    }
  });
});

describe('home feed ranking', () => {
  /** The documented formula (domain/feed/ranking.ts), recomputed here from the test's own inputs. */
  const score = (p: { ageHours: number; comments: number; reactions: number }) => (1 + 2 * p.comments + p.reactions) / (p.ageHours + 2) ** 1.5;

  it('ranks by recency and engagement, and pages stay stable while new posts and engagement arrive', async () => {
    const [me, author, fan] = await registerUsers(node.url, 3);
    const communityId = await feedCommunity(node, [{ user: me }, { user: author }, { user: fan }]);
    const T = clock.now().getTime();
    const specs = [
      { ageHours: 0.5, comments: 0, reactions: 0 },
      { ageHours: 1, comments: 1, reactions: 2 },
      { ageHours: 3, comments: 0, reactions: 9 },
      { ageHours: 5, comments: 6, reactions: 1 },
      { ageHours: 8, comments: 0, reactions: 1 },
      { ageHours: 12, comments: 2, reactions: 30 },
      { ageHours: 20, comments: 0, reactions: 0 },
      { ageHours: 26, comments: 10, reactions: 10 },
      { ageHours: 48, comments: 1, reactions: 0 },
      { ageHours: 72, comments: 40, reactions: 90 },
      { ageHours: 100, comments: 0, reactions: 3 },
    ];
    const posts = [];
    for (const spec of specs) {
      const createdAt = new Date(T - spec.ageHours * HOUR);
      const id = await insertPost(node, { communityId, authorId: author.user.id, createdAt });
      // Engagement lands a little after the post, all of it before T.
      await insertEngagement(node, { postId: id, communityId, userId: fan.user.id, ...spec, at: new Date(createdAt.getTime() + 60_000) });
      posts.push({ id, ...spec, score: score(spec) });
    }
    const expected = [...posts].sort((a, b) => b.score - a.score || (a.id < b.id ? 1 : -1)).map((p) => p.id);

    const first = await feedPage(node, me, '/feed', null, 50);
    expect(first.data.map((p) => p.id)).toEqual(expected);

    const lowest = expected.slice(-3);
    const pages = await allPages(node, me, '/feed', {
      limit: 3,
      between: async (i) => {
        clock.advance(60_000);
        // A burst of fresh posts and of engagement on posts not served yet: both would outrank what was served, but
        // the cursor ranks as of the first page's moment.
        await postAs(node, author, communityId, `breaking news ${i}`);
        for (const id of lowest) {
          await reactAs(node, fan, id, '🔥');
          await commentAs(node, fan, id, `late comment ${i}`);
          await reactAs(node, me, id, `🚀${i}`);
        }
      },
    });
    const served = pages.flat().map((p) => p.id);
    expect(duplicatesIn(served)).toEqual([]);
    expect(served).toEqual(expected);

    // A fresh first page ranks with everything that happened since.
    const now = await feedPage(node, me, '/feed', null, 50);
    expect(now.data.filter((p) => !expected.includes(p.id))).toHaveLength(pages.length - 1);
    const reranked = now.data.map((p) => p.id).filter((id) => expected.includes(id));
    expect(reranked.indexOf(lowest[0]!)).toBeLessThan(expected.indexOf(lowest[0]!));
  });

  it("covers my communities and followed people's public posts; never hidden, deleted or other communities' posts", async () => {
    const [me, neighbour, star] = await registerUsers(node.url, 3);
    const mine = await feedCommunity(node, [{ user: me }, { user: neighbour }]);
    const notMine = await feedCommunity(node, [{ user: neighbour }, { user: star }]);
    const inMine = await postAs(node, neighbour, mine, 'in my community');
    await postAs(node, neighbour, notMine, 'elsewhere, not followed');
    const fromStar = await postAs(node, star, notMine, 'followed elsewhere');
    const deleted = await postAs(node, neighbour, mine, 'gone soon');
    await call(node, 'DELETE', `/posts/${deleted.id}`, neighbour);
    await call(node, 'POST', `/users/${star.user.id}/follow`, me);

    const ids = (await feedPage(node, me, '/feed', null, 50)).data.map((p) => p.id);
    expect(new Set(ids)).toEqual(new Set([inMine.id, fromStar.id]));
  });
});
