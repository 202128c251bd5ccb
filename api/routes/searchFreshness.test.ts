import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchResult } from '../../contracts/search.ts';
import { withPlatformRole } from '../../test/classroomFactories.ts';
import { seedCommunity } from '../../test/communities.ts';
import { publishedCourse } from '../../test/courseFactories.ts';
import { call, ok, registerUsers, type TestUser } from '../../test/factories.ts';
import { moderateAs, postAs } from '../../test/feedFactories.ts';
import { startMeiliFake, type MeiliFake } from '../../test/meiliFake.ts';
import { startCluster, startNode, type RunningNode } from '../../test/nodes.ts';

/*
 * The index follows the product: a change made through one node is found (or no longer found) through another
 * within 2 s, carried by the domain events recorded in the change's own transaction. With Meilisearch configured,
 * the same holds through it, and when it fails PostgreSQL answers and readiness says search is degraded.
 */

const FRESH_WITHIN_MS = 2000;

const search = (node: RunningNode, who: TestUser | null, query: Record<string, string>) =>
  ok(call<SearchResult>(node, 'GET', `/search?${new URLSearchParams(query)}`, who));

/** Polls until `check` holds; returns how long it took (fails past the freshness limit). */
async function within(limitMs: number, check: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await check()) return performance.now() - start;
    if (performance.now() - start > limitMs) throw new Error(`not true within ${limitMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const found = (result: SearchResult, id: string) => result.hits.some((h) => h.id === id);

describe('freshness on two nodes (PostgreSQL)', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  let a: RunningNode;
  let b: RunningNode;
  let owner: TestUser;
  let member: TestUser;
  let communityId: string;
  const token = `fr${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    cluster = await startCluster(2);
    [a, b] = cluster.nodes as [RunningNode, RunningNode];
    [owner, member] = await registerUsers(a.url, 2);
    owner = await withPlatformRole(a, owner, 'instructor');
    communityId = (
      await seedCommunity(a, { members: [{ userId: owner.user.id, role: 'owner' }, { userId: member.user.id }], channels: [], visibility: 'public' })
    ).communityId;
  });
  afterAll(async () => cluster?.close());

  it('a course published on one node is found on the other, and gone once unpublished', async () => {
    const { course } = await publishedCourse(a, { author: owner, lessons: 1, course: { title: `Orbital mechanics ${token}`, communityId } });
    await within(FRESH_WITHIN_MS, async () => found(await search(b, member, { q: token }), course.id));
    await ok(call(a, 'POST', `/courses/${course.id}/unpublish`, owner));
    await within(FRESH_WITHIN_MS, async () => !found(await search(b, member, { q: token }), course.id));
  });

  it('a post is found, then gone once hidden, back when restored, and gone once deleted', async () => {
    const post = await postAs(a, member, communityId, `Telescope night ${token}post`);
    const q = { q: `${token}post` };
    await within(FRESH_WITHIN_MS, async () => found(await search(b, member, q), post.id));
    await moderateAs(a, owner, { type: 'post', id: post.id }, { hide: true });
    await within(FRESH_WITHIN_MS, async () => !found(await search(b, member, q), post.id));
    await moderateAs(a, owner, { type: 'post', id: post.id }, { hide: false });
    await within(FRESH_WITHIN_MS, async () => found(await search(b, member, q), post.id));
    await ok(call(a, 'DELETE', `/posts/${post.id}`, member), 204);
    await within(FRESH_WITHIN_MS, async () => !found(await search(b, member, q), post.id));
  });

  it('an edited post is found by its new words, and no longer by its old ones', async () => {
    const post = await postAs(a, member, communityId, `Bring a saxophone ${token}`);
    const byWord = (word: string) => search(b, member, { q: word, communityId });
    await within(FRESH_WITHIN_MS, async () => found(await byWord('saxophone'), post.id));
    await ok(call(a, 'PATCH', `/posts/${post.id}`, member, { body: `Bring a microscope ${token}` }));
    await within(FRESH_WITHIN_MS, async () => found(await byWord('microscope'), post.id));
    expect(found(await byWord('saxophone'), post.id)).toBe(false);
  });
});

describe('with Meilisearch', () => {
  let fake: MeiliFake;
  let node: RunningNode;
  let owner: TestUser;
  let member: TestUser;
  let communityId: string;
  const token = `ms${Math.random().toString(36).slice(2, 8)}`;

  beforeAll(async () => {
    fake = await startMeiliFake({ apiKey: 'meili-test-key' });
    node = await startNode({ env: { MEILI_URL: fake.url, MEILI_API_KEY: 'meili-test-key', MEILI_INDEX: `edulure_${token}` } });
    [owner, member] = await registerUsers(node.url, 2);
    owner = await withPlatformRole(node, owner, 'instructor');
    communityId = (
      await seedCommunity(node, { members: [{ userId: owner.user.id, role: 'owner' }, { userId: member.user.id }], channels: [], visibility: 'public' })
    ).communityId;
  });
  afterAll(async () => {
    await node?.close();
    await fake?.close();
  });

  it('applies its settings at start-up and answers from Meilisearch', async () => {
    expect(fake.requestsTo(/^PATCH \/indexes\/[^/]+\/settings$/).length).toBeGreaterThan(0);
    const post = await postAs(node, member, communityId, `Comet watch ${token}`);
    await within(FRESH_WITHIN_MS, async () => found(await search(node, member, { q: token }), post.id));
    const result = await search(node, member, { q: token });
    expect(result.engine).toBe('meilisearch');
    // Visibility travels as a filter the server wrote, whatever the client asked.
    const [lastSearch] = fake.requestsTo(/^POST \/multi-search$/).slice(-1);
    expect(JSON.stringify(lastSearch!.body)).toContain('communityVisibility');
  });

  it('falls back to PostgreSQL when Meilisearch fails, and readiness says degraded until it answers again', async () => {
    const post = await postAs(node, member, communityId, `Meteor shower ${token}fallback`);
    await within(FRESH_WITHIN_MS, async () => found(await search(node, member, { q: `${token}fallback` }), post.id));

    fake.fail('error');
    const during = await search(node, member, { q: `${token}fallback` });
    expect(during.engine).toBe('postgres');
    expect(found(during, post.id)).toBe(true);
    const ready = await fetch(`${node.url}/health/ready`);
    expect(ready.status).toBe(200);
    const body = (await ready.json()) as { status: string; checks: Record<string, string> };
    expect(body.status).toBe('degraded');
    expect(body.checks.search).toMatch(/^degraded/);

    fake.recover();
    expect((await search(node, member, { q: `${token}fallback` })).engine).toBe('meilisearch');
    const after = (await (await fetch(`${node.url}/health/ready`)).json()) as { status: string };
    expect(after.status).toBe('ready');
  });

  it('answers within the timeout when Meilisearch does not answer at all', async () => {
    fake.fail('hang');
    const start = performance.now();
    const result = await search(node, member, { q: token });
    expect(result.engine).toBe('postgres');
    expect(performance.now() - start).toBeLessThan(4000);
    fake.recover();
  });
});
