import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NotificationList } from '../../contracts/notifications.ts';
import type { SavedSearchDto, SavedSearchList } from '../../contracts/search.ts';
import { SAVED_SEARCH_LIMIT, sweepSavedSearchAlerts } from '../../domain/search/saved.ts';
import { seedCommunity } from '../../test/communities.ts';
import { insertPost } from '../../test/feedFactories.ts';
import { call, ok, registerUsers, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

/*
 * Saved searches over a real node: saving, listing, renaming, switching the alert and removing, each only by its owner;
 * the query string refused when /search would refuse it; at most SAVED_SEARCH_LIMIT each, even when saved all at once.
 * Alerts: the sweep (called directly, with no waiting period) tells the owner once about a new result they may see,
 * never about one in a private community they are not in, and never twice. Every saved search in the database is swept
 * (other tests' too), so each test counts its owner's notifications, not what a sweep returns.
 */

let node: RunningNode;
let owner: TestUser;
let other: TestUser;
let publicId: string;
let privateId: string;
/** A word no other test uses, so only this file's items match. */
const token = `zs${Math.random().toString(36).slice(2, 8)}`;

/** Answers a SavedSearchDto (201) or an error body. */
const save = (who: TestUser | null, body: Record<string, unknown>) => call(node, 'POST', '/search/saved', who, body);
const list = async (who: TestUser) => (await ok(call<SavedSearchList>(node, 'GET', '/search/saved', who))).data;
const sweep = (periodMs = 0) => sweepSavedSearchAlerts(node.node.deps, { periodMs });
const alertsOf = (who: TestUser) =>
  dbOf(node).selectFrom('notifications').selectAll().where('user_id', '=', who.user.id).where('kind', '=', 'saved_search').orderBy('created_at').execute();

/** A post in `communityId` mentioning `words`, indexed as the event listener would. */
async function newPost(communityId: string, words: string): Promise<string> {
  const id = await insertPost(node, { communityId, authorId: other.user.id, createdAt: new Date(), body: words });
  await node.node.deps.search.indexer.sync([{ type: 'post', id }]);
  return id;
}

beforeAll(async () => {
  node = await startNode();
  [owner, other] = await registerUsers(node.url, 2);
  publicId = (
    await seedCommunity(node, {
      members: [{ userId: other.user.id, role: 'owner' }, { userId: owner.user.id }],
      channels: [],
      visibility: 'public',
    })
  ).communityId;
  privateId = (await seedCommunity(node, { members: [{ userId: other.user.id, role: 'owner' }], channels: [], visibility: 'private' })).communityId;
});
afterAll(async () => {
  await node?.close();
});

describe('saving, listing, changing and removing', () => {
  it('keeps my searches newest first, in canonical form, renamed and switched at will', async () => {
    const [me] = await registerUsers(node.url, 1);
    const first: SavedSearchDto = await ok(save(me, { name: 'JavaScript courses', query: '?q=javascript&types=course&level=beginner' }), 201);
    expect(first).toMatchObject({ name: 'JavaScript courses', query: 'q=javascript&types=course&level=beginner', alert: true });
    const second: SavedSearchDto = await ok(save(me, { name: 'Free things', query: 'free=true', alert: false }), 201);
    expect((await list(me)).map((s) => s.id)).toEqual([second.id, first.id]);

    const renamed = await ok(call<SavedSearchDto>(node, 'PATCH', `/search/saved/${first.id}`, me, { name: 'JS for beginners' }));
    expect(renamed).toMatchObject({ id: first.id, name: 'JS for beginners', alert: true, query: first.query });
    const switched = await ok(call<SavedSearchDto>(node, 'PATCH', `/search/saved/${first.id}`, me, { alert: false }));
    expect(switched).toMatchObject({ name: 'JS for beginners', alert: false });

    await ok(call(node, 'DELETE', `/search/saved/${second.id}`, me), 204);
    expect((await list(me)).map((s) => s.id)).toEqual([first.id]);
    expect((await call(node, 'DELETE', `/search/saved/${second.id}`, me)).status).toBe(404);
  });

  it('refuses a query /search would refuse, and a bad name or change', async () => {
    const [me] = await registerUsers(node.url, 1);
    for (const query of ['types=course,spaceship', 'q=a&cursor=abc', 'q=a&limit=5', 'colour=blue', 'q=a&q=b', 'level=wizard', `q=${'x'.repeat(300)}`, `q=${'€'.repeat(150)}`]) {
      const res = await save(me, { name: 'Bad', query });
      expect(res.status, query).toBe(400);
      expect(res.body.error.code, query).toBe('invalid_input');
    }
    expect((await save(me, { name: '  ', query: 'q=a' })).status).toBe(400);
    expect((await save(me, { name: 'x', query: 'q=a', extra: 1 })).status).toBe(400);
    const saved: SavedSearchDto = await ok(save(me, { name: 'Fine', query: 'q=a' }), 201);
    expect((await call(node, 'PATCH', `/search/saved/${saved.id}`, me, {})).status).toBe(400);
    expect((await call(node, 'PATCH', `/search/saved/${saved.id}`, me, { name: '' })).status).toBe(400);
    expect(await list(me)).toHaveLength(1);
  });

  it(`keeps at most ${SAVED_SEARCH_LIMIT} each, even when they are saved all at once`, async () => {
    const [me, you] = await registerUsers(node.url, 2);
    const results = await Promise.all(Array.from({ length: SAVED_SEARCH_LIMIT + 3 }, (_, i) => save(me, { name: `s${i}`, query: `q=word${i}` })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(SAVED_SEARCH_LIMIT);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused.map((r) => r.body.error.code)).toEqual(['conflict', 'conflict', 'conflict']);
    expect(await list(me)).toHaveLength(SAVED_SEARCH_LIMIT);
    // The limit is each person's.
    await ok(save(you, { name: 'mine', query: 'q=x' }), 201);
    // Room again after a removal.
    await ok(call(node, 'DELETE', `/search/saved/${(await list(me))[0]!.id}`, me), 204);
    await ok(save(me, { name: 'again', query: 'q=again' }), 201);
  });

  it("is mine alone: another's saved search is not found, and signing in is required", async () => {
    const [me, you] = await registerUsers(node.url, 2);
    const mine: SavedSearchDto = await ok(save(me, { name: 'Mine', query: 'q=secret' }), 201);
    expect((await call(node, 'DELETE', `/search/saved/${mine.id}`, you)).status).toBe(404);
    expect((await call(node, 'PATCH', `/search/saved/${mine.id}`, you, { name: 'Taken' })).status).toBe(404);
    expect(await list(you)).toEqual([]);
    expect((await list(me))[0]).toMatchObject({ id: mine.id, name: 'Mine' });
    expect((await call(node, 'GET', '/search/saved', null)).status).toBe(401);
    expect((await save(null, { name: 'x', query: 'q=x' })).status).toBe(401);
    expect((await call(node, 'DELETE', `/search/saved/not-a-uuid`, me)).status).toBe(400);
  });
});

describe('alerts', () => {
  it('tells the owner once about a new result they may see, never about one they may not', async () => {
    const saved: SavedSearchDto = await ok(save(owner, { name: 'Robotics', query: `q=${token}+robotics` }), 201);
    // Nothing new yet.
    await sweep();
    expect(await alertsOf(owner)).toHaveLength(0);

    // One new post the owner may read (a public community), one they may not (a private one they are not in).
    await newPost(publicId, `Robotics club starts ${token} today`);
    await newPost(privateId, `Robotics secrets ${token}`);
    // Not due before its period has passed since the last check.
    await sweep(60_000);
    expect(await alertsOf(owner)).toHaveLength(0);

    // Two nodes at once: one notification.
    await Promise.all([sweep(), sweep()]);
    const [alert, ...more] = await alertsOf(owner);
    expect(more).toEqual([]);
    expect(alert).toMatchObject({
      title: '1 new result for “Robotics”',
      body: `Robotics club starts ${token} today`,
      url: `/app/search?q=${token}+robotics`,
      subject_type: 'saved_search',
      subject_id: saved.id,
    });
    const inbox = await ok(call<NotificationList>(node, 'GET', '/notifications', owner));
    expect(inbox.data.find((n) => n.kind === 'saved_search')).toMatchObject({ title: '1 new result for “Robotics”', url: alert!.url });

    // The next sweep has nothing new: no second alert.
    await sweep();
    expect(await alertsOf(owner)).toHaveLength(1);
    // More that the owner may not see: still nothing.
    await newPost(privateId, `More robotics secrets ${token}`);
    await sweep();
    expect(await alertsOf(owner)).toHaveLength(1);

    // Three new results make one notification that counts them.
    for (const n of [1, 2, 3]) await newPost(publicId, `Robotics meetup ${n} ${token}`);
    await sweep();
    const alerts = await alertsOf(owner);
    expect(alerts.map((n) => n.title)).toEqual(['1 new result for “Robotics”', '3 new results for “Robotics”']);
  });

  it('says nothing while the alert is off, nor about what appeared meanwhile when it is switched on again', async () => {
    const [me] = await registerUsers(node.url, 1);
    const saved: SavedSearchDto = await ok(save(me, { name: 'Quiet', query: `q=${token}+gardening`, alert: false }), 201);
    await newPost(publicId, `Gardening tips ${token}`);
    await sweep();
    await ok(call(node, 'PATCH', `/search/saved/${saved.id}`, me, { alert: true }));
    await sweep();
    expect(await alertsOf(me)).toHaveLength(0);
    await newPost(publicId, `Gardening club ${token}`);
    await sweep();
    expect((await alertsOf(me)).map((n) => n.title)).toEqual(['1 new result for “Quiet”']);
  });

  it('respects the owner turning the kind off in-app', async () => {
    const [me] = await registerUsers(node.url, 1);
    await ok(call(node, 'PUT', '/me/notification-preferences', me, { kinds: { saved_search: { inApp: false } } }));
    await ok(save(me, { name: 'Muted', query: `q=${token}+chess` }), 201);
    await newPost(publicId, `Chess evening ${token}`);
    await sweep();
    expect(await alertsOf(me)).toHaveLength(0);
  });
});
