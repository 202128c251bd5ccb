import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchResult, SuggestResult } from '../../contracts/search.ts';
import { seedCommunity } from '../../test/communities.ts';
import { publishedCourse, createCourse } from '../../test/courseFactories.ts';
import { insertPost } from '../../test/feedFactories.ts';
import { call, ok, registerUsers, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import { withPlatformRole } from '../../test/classroomFactories.ts';

/*
 * The explorer over a small world: a public and a private community with courses, posts and people, searched by
 * signed-out visitors, members, outsiders, a blocked person and a moderator. The index is built by the reindex (the
 * freshness of event-driven indexing has its own tests).
 */

let node: RunningNode;
let owner: TestUser;
let member: TestUser;
let moderator: TestUser;
let outsider: TestUser;
let blocker: TestUser;
let publicId: string;
let privateId: string;
const ids: Record<string, string> = {};
/** A word no other test uses, so people and posts of other tests never match. */
const token = `zq${Math.random().toString(36).slice(2, 8)}`;

type Who = TestUser | null;
const search = async (who: Who, query: Record<string, string>) =>
  ok(call<SearchResult>(node, 'GET', `/search?${new URLSearchParams(query)}`, who));
const suggest = async (who: Who, q: string) => (await ok(call<SuggestResult>(node, 'GET', `/search/suggest?${new URLSearchParams({ q })}`, who))).data;
const titles = (result: SearchResult) => result.hits.map((h) => h.title);

beforeAll(async () => {
  node = await startNode();
  [owner, member, moderator, outsider, blocker] = await registerUsers(node.url, 5);
  owner = await withPlatformRole(node, owner, 'instructor');
  publicId = (
    await seedCommunity(node, {
      members: [
        { userId: owner.user.id, role: 'owner' },
        { userId: member.user.id },
        { userId: moderator.user.id, role: 'moderator' },
        { userId: blocker.user.id },
      ],
      channels: [],
      visibility: 'public',
    })
  ).communityId;
  privateId = (
    await seedCommunity(node, {
      members: [
        { userId: owner.user.id, role: 'owner' },
        { userId: member.user.id },
      ],
      channels: [],
      visibility: 'private',
    })
  ).communityId;
  const q = dbOf(node);
  await q.updateTable('communities').set({ name: `Guild ${token}`, description: 'Where JavaScript people meet' }).where('id', '=', publicId).execute();
  await q.updateTable('communities').set({ name: `Hidden ${token}`, description: 'Private JavaScript circle' }).where('id', '=', privateId).execute();

  const course = async (key: string, title: string, extra: Record<string, unknown> = {}, communityId = publicId) => {
    const published = await publishedCourse(node, { author: owner, lessons: 1, course: { title, communityId, ...extra } });
    ids[key] = published.course.id;
  };
  await course('js', 'JavaScript for beginners', { tags: ['javascript', 'web'], level: 'beginner', description: `Learn the language of the web ${token}` });
  await course('advanced', 'Advanced JavaScript patterns', { tags: ['javascript'], level: 'advanced', priceMinor: 4900, currency: 'USD' });
  await course('cafe', 'Café culture and crème brûlée', { tags: ['cooking'], level: 'intermediate', priceMinor: 1500, currency: 'EUR' });
  await course('private', 'Private JavaScript workshop', { level: 'beginner' }, privateId);
  ids.draft = (await createCourse(node, owner, { title: 'JavaScript draft notes', communityId: publicId, level: 'beginner' })).id;

  ids.post = await insertPost(node, { communityId: publicId, authorId: member.user.id, createdAt: new Date(), body: `JavaScript meetup tonight ${token}` });
  ids.hiddenPost = await insertPost(node, { communityId: publicId, authorId: member.user.id, createdAt: new Date(), body: `JavaScript spam ${token}` });
  ids.deletedPost = await insertPost(node, { communityId: publicId, authorId: member.user.id, createdAt: new Date(), body: `JavaScript removed ${token}` });
  ids.blockerPost = await insertPost(node, { communityId: publicId, authorId: blocker.user.id, createdAt: new Date(), body: `JavaScript from the blocker ${token}` });
  ids.privatePost = await insertPost(node, { communityId: privateId, authorId: member.user.id, createdAt: new Date(), body: `JavaScript secrets ${token}` });
  await q.updateTable('posts').set({ hidden_at: new Date() }).where('id', '=', ids.hiddenPost).execute();
  await q.updateTable('posts').set({ deleted_at: new Date() }).where('id', '=', ids.deletedPost).execute();
  await q.updateTable('users').set({ display_name: `Jo ${token}`, headline: 'JavaScript mentor' }).where('id', '=', member.user.id).execute();
  await q.updateTable('users').set({ display_name: `Bo ${token}` }).where('id', '=', blocker.user.id).execute();
  // The blocker blocks the member: neither finds the other, nor the other's posts.
  await ok(call(node, 'POST', `/users/${member.user.id}/block`, blocker), 204);

  await node.node.deps.search.indexer.reindex();
});
afterAll(async () => {
  await node?.close();
});

describe('matching', () => {
  it('tolerates a typo: "javscript" finds the JavaScript courses', async () => {
    const result = await search(member, { q: 'javscript', types: 'course', communityId: publicId });
    expect(titles(result)).toEqual(expect.arrayContaining(['JavaScript for beginners', 'Advanced JavaScript patterns']));
    // A second page stays tolerant of the typo.
    const first = await search(member, { q: 'javscript', types: 'course', communityId: publicId, limit: '1' });
    const second = await search(member, { q: 'javscript', types: 'course', communityId: publicId, limit: '1', cursor: first.cursor! });
    expect([...titles(first), ...titles(second)].sort()).toEqual(titles(result).slice(0, 2).sort());
  });

  it('does not widen a word that is found as typed', async () => {
    // "patterns" is in a title: near misses such as other titles sharing trigrams are not added.
    expect(titles(await search(member, { q: 'patterns', communityId: publicId }))).toEqual(['Advanced JavaScript patterns']);
  });

  it('ignores accents both ways', async () => {
    expect(titles(await search(member, { q: 'cafe creme', communityId: publicId }))).toEqual(['Café culture and crème brûlée']);
    expect(titles(await search(member, { q: 'brûlée', communityId: publicId }))).toEqual(['Café culture and crème brûlée']);
  });

  it('ranks title matches above a match in a description, and highlights what matched', async () => {
    const result = await search(member, { q: 'javascript', communityId: publicId });
    const order = result.hits.map((h) => h.type);
    // The community matches only through its description ("Where JavaScript people meet").
    expect(order.indexOf('community')).toBe(order.length - 1);
    const post = result.hits.find((h) => h.type === 'post')!;
    expect(post.snippet).toContain('<mark>JavaScript</mark>');
    expect(post.url).toBe(`/app/c/${publicId}/feed/${ids.post}`);
  });

  it('escapes what people wrote in snippets', async () => {
    const id = await insertPost(node, { communityId: publicId, authorId: owner.user.id, createdAt: new Date(), body: `<img src=x onerror=alert(1)> ${token}xss` });
    await node.node.deps.search.indexer.sync([{ type: 'post', id }]);
    const [hit] = (await search(owner, { q: `${token}xss` })).hits;
    expect(hit!.snippet).not.toMatch(/<(?!\/?mark>)/);
    expect(hit!.snippet).toContain(`<mark>${token}xss</mark>`);
  });
});

describe('facets and filters', () => {
  it('counts kinds, levels, tags and prices over what matched', async () => {
    const result = await search(member, { q: 'javascript', communityId: publicId });
    expect(result.facets.type).toMatchObject({ course: 2, post: 1, community: 1 });
    expect(result.facets.level).toEqual({ advanced: 1, beginner: 1 });
    expect(result.facets.tag).toMatchObject({ javascript: 2, web: 1 });
    expect(result.facets.price).toEqual({ free: 1, '20-50': 1 });
    expect(result.total).toBe(4);
  });

  it('filters by kind, level, tag, price and free, keeping the kind counts for the other kinds', async () => {
    const courses = await search(member, { q: 'javascript', types: 'course', communityId: publicId });
    expect(courses.total).toBe(2);
    expect(courses.facets.type).toMatchObject({ course: 2, post: 1, community: 1 });
    expect(titles(await search(member, { q: 'javascript', level: 'advanced', communityId: publicId }))).toEqual(['Advanced JavaScript patterns']);
    expect(titles(await search(member, { q: 'javascript', tag: 'web', communityId: publicId }))).toEqual(['JavaScript for beginners']);
    expect(titles(await search(member, { q: 'javascript', free: 'true', communityId: publicId }))).toEqual(['JavaScript for beginners']);
    expect(titles(await search(member, { types: 'course', priceMax: '20', communityId: publicId })).sort()).toEqual([
      'Café culture and crème brûlée',
      'JavaScript for beginners',
    ]);
  });

  it('answers a clear error for a bad kind or cursor', async () => {
    const bad = await call(node, 'GET', '/search?types=course,spaceship', member);
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_input');
    const cursor = await call(node, 'GET', '/search?q=javascript&cursor=not-a-cursor', member);
    expect(cursor.status).toBe(400);
    expect(cursor.body.error.code).toBe('invalid_input');
  });
});

describe('pagination', () => {
  it('walks every page once, without duplicates, in every sort', async () => {
    for (const sort of ['relevance', 'recent', 'popular']) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: SearchResult = await search(owner, { q: 'javascript', sort, limit: '2', ...(cursor ? { cursor } : {}) });
        seen.push(...page.hits.map((h) => `${h.type}:${h.id}`));
        cursor = page.cursor;
        pages += 1;
      } while (cursor && pages < 50);
      const all = await search(owner, { q: 'javascript', sort, limit: '50' });
      expect(new Set(seen).size, sort).toBe(seen.length);
      expect(seen.sort(), sort).toEqual(all.hits.map((h) => `${h.type}:${h.id}`).sort());
    }
  });
});

describe('visibility: hits, counts, facets and suggestions say the same', () => {
  const everything = async (who: Who) => {
    const result = await search(who, { q: `javascript`, limit: '50' });
    return { result, keys: new Set(result.hits.map((h) => `${h.type}:${h.id}`)) };
  };

  it('signed out: published courses and public communities; no drafts, private content, people or posts', async () => {
    const { result, keys } = await everything(null);
    expect(keys.has(`course:${ids.js}`)).toBe(true);
    expect(keys.has(`community:${publicId}`)).toBe(true);
    for (const hidden of [`course:${ids.draft}`, `course:${ids.private}`, `community:${privateId}`]) expect(keys.has(hidden)).toBe(false);
    expect(result.hits.some((h) => h.type === 'post' || h.type === 'person')).toBe(false);
    expect(result.facets.type.post ?? 0).toBe(0);
    expect(result.facets.type.person ?? 0).toBe(0);
    expect((await suggest(null, 'private javascript')).map((s) => s.id)).not.toContain(ids.private);
  });

  it('a member of both communities sees the private course and post, never hidden or deleted posts or drafts', async () => {
    const { result, keys } = await everything(member);
    for (const seen of [`course:${ids.private}`, `post:${ids.privatePost}`, `post:${ids.post}`, `community:${privateId}`]) expect(keys.has(seen), seen).toBe(true);
    for (const gone of [`post:${ids.hiddenPost}`, `post:${ids.deletedPost}`, `course:${ids.draft}`]) expect(keys.has(gone), gone).toBe(false);
    // The blocker blocked this member: their post and person are gone for the member too.
    expect(keys.has(`post:${ids.blockerPost}`)).toBe(false);
    expect(result.total).toBe(result.hits.length);
    expect((await suggest(member, 'private java')).map((s) => s.id)).toContain(ids.private);
  });

  it('an outsider sees public things only, and counts and facets agree', async () => {
    const { result, keys } = await everything(outsider);
    expect(keys.has(`course:${ids.private}`)).toBe(false);
    expect(keys.has(`post:${ids.privatePost}`)).toBe(false);
    expect(keys.has(`post:${ids.post}`)).toBe(true);
    const byType = Object.entries(result.facets.type).reduce((n, [, count]) => n + count, 0);
    expect(byType).toBe(result.total);
    expect(result.total).toBe(result.hits.length);
    expect((await suggest(outsider, 'private java')).map((s) => s.id)).not.toContain(ids.private);
  });

  it('a block hides people and their posts both ways', async () => {
    const forBlocker = await search(blocker, { q: token, limit: '50' });
    expect(forBlocker.hits.map((h) => h.id)).not.toContain(member.user.id);
    expect(forBlocker.hits.map((h) => h.id)).not.toContain(ids.post);
    const forMember = await search(member, { q: token, limit: '50' });
    expect(forMember.hits.map((h) => h.id)).not.toContain(blocker.user.id);
    const forOutsider = await search(outsider, { q: token, types: 'person', limit: '50' });
    expect(forOutsider.hits.map((h) => h.id).sort()).toEqual([blocker.user.id, member.user.id].sort());
    expect((await suggest(blocker, `jo ${token}`)).map((s) => s.id)).not.toContain(member.user.id);
  });

  it('a moderator finds no hidden or deleted posts either', async () => {
    const { keys } = await everything(moderator);
    expect(keys.has(`post:${ids.post}`)).toBe(true);
    expect(keys.has(`post:${ids.hiddenPost}`)).toBe(false);
    expect(keys.has(`post:${ids.deletedPost}`)).toBe(false);
  });
});

describe('suggestions and recent searches', () => {
  it('suggests titles by prefix as you type', async () => {
    const data = await suggest(member, 'advanced java');
    expect(data[0]).toMatchObject({ type: 'course', id: ids.advanced, title: 'Advanced JavaScript patterns', url: `/app/courses/${ids.advanced}` });
    expect((await suggest(member, 'javscript')).map((s) => s.id)).toEqual(expect.arrayContaining([ids.js, ids.advanced]));
  });

  it('remembers my recent searches, newest first, once each, and forgets them on request', async () => {
    const [me] = await registerUsers(node.url, 1);
    for (const q of ['python', 'javascript', 'python']) await search(me, { q });
    const recent = await ok(call<{ data: { q: string }[] }>(node, 'GET', '/search/recent', me));
    expect(recent.data.map((r) => r.q)).toEqual(['python', 'javascript']);
    await ok(call(node, 'DELETE', '/search/recent', me), 204);
    expect((await ok(call<{ data: unknown[] }>(node, 'GET', '/search/recent', me))).data).toEqual([]);
    expect((await call(node, 'GET', '/search/recent', null)).status).toBe(401);
  });
});
