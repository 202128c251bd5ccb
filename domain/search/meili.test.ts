import { randomBytes, randomUUID } from 'node:crypto';
import { MeilisearchApiError } from 'meilisearch';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openOrm, type Orm } from '../../orm/database.ts';
import { db } from '../../orm/db.ts';
import { testDatabaseUrl } from '../../test/db.ts';
import { startMeiliFake, type MeiliFake } from '../../test/meiliFake.ts';
import type { Actor } from '../shared/deps.ts';
import { systemClock } from '../shared/time.ts';
import type { SearchDocument } from './backend.ts';
import { createMeiliSearch, INDEX_SETTINGS, type MeiliOptions } from './meili.ts';

/*
 * The Meilisearch adapter against the loopback fake (test/meiliFake.ts) and real PostgreSQL: what it sends (settings,
 * batched writes, filters that always carry visibility, the swap of a rebuild), what it makes of the answers (hits,
 * facets, cursors, snippets, the PostgreSQL re-check), and how fast it gives up.
 */

let orm: Orm;
let fake: MeiliFake;
const warnings: unknown[] = [];
const logger = { info: () => undefined, warn: (obj: object | string) => void warnings.push(obj), error: () => undefined };

beforeAll(async () => {
  orm = await openOrm(await testDatabaseUrl(), { poolMax: 2 });
});
afterAll(async () => orm?.close(true));
beforeEach(async () => {
  // Tasks take a while, so a promise that resolves before its task was processed would be caught out.
  fake = await startMeiliFake({ apiKey: 'test-key', taskDelayMs: 20 });
  warnings.length = 0;
});
afterEach(async () => fake?.close());

function meili(options: Partial<MeiliOptions> = {}) {
  const indexName = `t_${randomBytes(4).toString('hex')}`;
  return { indexName, ...createMeiliSearch({ orm, clock: systemClock, logger }, { url: fake.url, apiKey: 'test-key', indexName, ...options }) };
}

const tag = randomBytes(4).toString('hex');
let counter = 0;
const q = () => db(orm.em.fork());

async function user(name: string): Promise<Actor> {
  const id = randomUUID();
  await q().insertInto('users').values({ id, email: `meili-${name}-${tag}-${counter++}@example.test`, password_hash: 'not a hash', display_name: name }).execute();
  return { userId: id, sessionId: randomUUID(), role: 'user' };
}

async function community(visibility: 'public' | 'private', options: { members?: Actor[]; archived?: boolean } = {}): Promise<string> {
  const id = randomUUID();
  await q()
    .insertInto('communities')
    .values({ id, slug: `meili-${tag}-${counter++}`, name: 'Meili test', visibility, archived_at: options.archived ? new Date() : null })
    .execute();
  for (const member of options.members ?? []) await q().insertInto('community_members').values({ community_id: id, user_id: member.userId, role: 'member' }).execute();
  return id;
}

function doc(fields: Partial<SearchDocument> & Pick<SearchDocument, 'type' | 'id'>): SearchDocument {
  return {
    communityId: null,
    communityVisibility: null,
    authorId: null,
    title: 'Untitled',
    keywords: '',
    body: '',
    tags: [],
    level: null,
    priceMinor: null,
    currency: null,
    popularity: 0,
    publishedAt: new Date('2026-01-01T00:00:00Z'),
    ...fields,
  };
}
const communityDoc = (id: string, visibility: 'public' | 'private', fields: Partial<SearchDocument> = {}) =>
  doc({ type: 'community', id, communityId: id, communityVisibility: visibility, ...fields });
const personDoc = (person: Actor, fields: Partial<SearchDocument> = {}) => doc({ type: 'person', id: person.userId, authorId: person.userId, ...fields });

const lastMultiSearch = () => fake.requestsTo(/^POST \/multi-search$/).at(-1)!.body.queries as { filter: string; [key: string]: unknown }[];
const ids = (result: { hits: { id: string }[] }) => result.hits.map((h) => h.id).sort();

describe('Meilisearch adapter', () => {
  it('applies the index settings at start-up and waits for them', async () => {
    const { index, indexName } = meili();
    await index.prepare();
    // Resolved only once the settings task was processed.
    expect(fake.indexes.get(indexName)).toMatchObject({ primaryKey: 'key', settings: INDEX_SETTINGS });
    expect(fake.requestsTo(/^POST \/indexes$/).map((r) => r.body)).toEqual([{ uid: indexName, primaryKey: 'key' }]);
    const [settings] = fake.requestsTo(new RegExp(`^PATCH /indexes/${indexName}/settings$`));
    expect(settings!.body).toMatchObject({
      searchableAttributes: ['title', 'keywords', 'body'],
      sortableAttributes: ['publishedAt', 'popularity', 'priceMinor'],
      typoTolerance: { enabled: true },
    });
    expect(settings!.body.filterableAttributes).toEqual(expect.arrayContaining(['type', 'communityId', 'communityVisibility', 'authorId', 'priceBucket']));
    expect(fake.requests.every((r) => r.authorization === 'Bearer test-key')).toBe(true);

    // A second process finds the index there and applies its settings all the same.
    const again = createMeiliSearch({ orm, clock: systemClock, logger }, { url: fake.url, apiKey: 'test-key', indexName });
    await expect(again.index.prepare()).resolves.toBeUndefined();
    expect(fake.requestsTo(new RegExp(`^PATCH /indexes/${indexName}/settings$`))).toHaveLength(2);
  });

  it('adds the visibility filter on the server, whatever the client asks', async () => {
    const [member, outsider, blocked] = [await user('member'), await user('outsider'), await user('blocked')];
    const open = await community('public');
    const closed = await community('private', { members: [member] });
    await q().insertInto('user_blocks').values({ blocker_id: outsider.userId, blocked_id: blocked.userId }).execute();
    const { backend, index } = meili();
    await index.upsert([
      communityDoc(open, 'public', { title: 'Open garden' }),
      communityDoc(closed, 'private', { title: 'Secret garden' }),
      personDoc(member, { title: 'Member person' }),
      personDoc(blocked, { title: 'Blocked person' }),
    ]);

    const asOutsider = await backend.search(outsider, { q: '', limit: 20 });
    expect(ids(asOutsider)).toEqual([open, member.userId].sort());
    expect(asOutsider.engine).toBe('meilisearch');
    const [main, facetOnly] = lastMultiSearch();
    for (const query of [main!, facetOnly!]) {
      expect(query.filter).toContain('communityId IS NULL OR communityVisibility = "public"');
      expect(query.filter).not.toContain(closed);
      expect(query.filter).toContain(`NOT (type IN ["person", "post"] AND authorId IN ["${blocked.userId}"])`);
    }
    // The engine left them out, not the re-check.
    expect(warnings).toEqual([]);

    // Values are quoted: a tag cannot widen the filter.
    const injected = await backend.search(outsider, { q: '', tag: `x" OR communityId = "${open}`, limit: 20 });
    expect(injected.hits).toEqual([]);

    // Asking for the private community by id does not open it.
    const narrowed = await backend.search(outsider, { q: 'garden', communityId: closed, limit: 20 });
    expect(narrowed.hits).toEqual([]);
    expect(lastMultiSearch()[0]!.filter).toMatch(/communityVisibility = "public".*communityId = /);

    const asMember = await backend.search(member, { q: 'garden', limit: 20 });
    expect(ids(asMember)).toEqual([open, closed].sort());
    expect(lastMultiSearch()[0]!.filter).toContain(`communityId IN ["${closed}"]`);

    const signedOut = await backend.search(null, { q: '', limit: 20 });
    expect(ids(signedOut)).toEqual([open]);
    expect(lastMultiSearch()[0]!.filter).toContain('type NOT IN ["person", "post"]');

    const suggestions = await backend.suggest(outsider, { q: 'gard', limit: 5 });
    expect(suggestions).toEqual([{ type: 'community', id: open, title: 'Open garden', url: `/app/c/${open}` }]);
    expect(fake.requestsTo(/\/search$/).at(-1)!.body).toMatchObject({ attributesToSearchOn: ['title'], filter: expect.stringContaining('communityVisibility = "public"') });
  });

  it('drops the hits PostgreSQL refuses, so an index that lags a change does not leak', async () => {
    const viewer = await user('viewer');
    const open = await community('public');
    const madePrivate = await community('private');
    const archived = await community('public', { archived: true });
    const { backend, index } = meili();
    // Indexed before the change reached the index: both still look public there.
    await index.upsert([open, madePrivate, archived].map((id) => communityDoc(id, 'public', { title: 'Meili club' })));

    const result = await backend.search(viewer, { q: '', limit: 20 });
    expect(ids(result)).toEqual([open]);
    expect(result.total).toBe(1);
    expect(warnings).toEqual([expect.objectContaining({ dropped: expect.arrayContaining([`community:${madePrivate}`, `community:${archived}`]) })]);
    expect((await backend.suggest(viewer, { q: 'meili', limit: 5 })).map((s) => s.id)).toEqual([open]);
  });

  it('maps filters, sorts, facets, cursors and snippets', async () => {
    const viewer = await user('viewer');
    const [a, b, c, d] = [await community('public'), await community('public'), await community('public'), await community('public')];
    const person = await user('person');
    const { backend, index, indexName } = meili();
    await index.upsert([
      communityDoc(a, 'public', { title: 'Rust & <Go>', body: 'Learn <b>rust</b> the "hard" way', tags: ['rust'], level: 'beginner', priceMinor: 1500, currency: 'EUR', publishedAt: new Date('2026-03-01T00:00:00Z') }),
      communityDoc(b, 'public', { title: 'Rust for teams', tags: ['rust'], level: 'beginner', priceMinor: 0, publishedAt: new Date('2026-02-01T00:00:00Z') }),
      communityDoc(c, 'public', { title: 'Rust in production', tags: ['rust', 'ops'], level: 'advanced', priceMinor: 9900, publishedAt: new Date('2026-01-01T00:00:00Z') }),
      communityDoc(d, 'public', { title: 'Gardening', popularity: 50 }),
      personDoc(person, { title: 'Rusty the person' }),
    ]);
    expect(fake.indexes.get(indexName)!.docs.get(`community-${a}`)).toMatchObject({ priceBucket: 'under-20', publishedAt: Date.parse('2026-03-01T00:00:00Z') });

    const filtered = await backend.search(viewer, { q: 'rust', types: ['community'], level: 'beginner', priceMax: 20, tag: 'rust', sort: 'recent', limit: 20 });
    const [main, facetOnly] = lastMultiSearch();
    expect(main).toMatchObject({ q: 'rust', sort: ['publishedAt:desc'], offset: 0, limit: 20, facets: ['level', 'tags', 'priceBucket'] });
    for (const clause of ['(type IN ["community"])', '(level = "beginner")', '(tags = "rust")', '(priceMinor <= 2000)']) expect(main!.filter).toContain(clause);
    expect(facetOnly).toMatchObject({ limit: 0, facets: ['type'] });
    expect(facetOnly!.filter).not.toContain('type IN');
    expect(filtered.hits.map((h) => h.id)).toEqual([a, b]);
    expect(filtered.hits[0]).toEqual({
      type: 'community',
      id: a,
      title: 'Rust & <Go>',
      snippet: 'Learn &lt;b&gt;<mark>rust</mark>&lt;/b&gt; the &quot;hard&quot; way',
      url: `/app/c/${a}`,
      communityId: a,
      level: 'beginner',
      tags: ['rust'],
      price: { amountMinor: 1500, currency: 'EUR' },
      publishedAt: '2026-03-01T00:00:00.000Z',
    });

    // The type facet ignores `types`; the others count what the page's filters keep.
    const browse = await backend.search(viewer, { q: 'rust', types: ['community'], limit: 2 });
    expect(browse.facets.type).toEqual({ community: 3, person: 1 });
    expect(browse.facets.price).toEqual({ '50-plus': 1, free: 1, 'under-20': 1 });
    expect(browse.facets.tag).toEqual({ rust: 3, ops: 1 });
    expect(browse.total).toBe(3);
    expect(browse.cursor).not.toBeNull();
    const rest = await backend.search(viewer, { q: 'rust', types: ['community'], limit: 2, cursor: browse.cursor! });
    expect(lastMultiSearch()[0]).toMatchObject({ offset: 2, limit: 2 });
    expect(rest.cursor).toBeNull();
    expect(new Set([...ids(browse), ...ids(rest)])).toEqual(new Set([a, b, c]));

    // No words typed: most popular first (the PostgreSQL backend's default too); a typo still finds its word.
    await backend.search(viewer, { q: '', limit: 20 });
    expect(lastMultiSearch()[0]!.sort).toEqual(['popularity:desc', 'publishedAt:desc']);
    expect(ids(await backend.search(viewer, { q: 'gardning', limit: 20 }))).toEqual([d]);
    await expect(backend.search(viewer, { q: '', limit: 20, cursor: 'nonsense' })).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('gathers upserts and removals made within the window into one request each', async () => {
    const ids = Array.from({ length: 4 }, () => randomUUID());
    const { index, indexName } = meili();
    await index.prepare();
    const before = fake.requests.length;
    await Promise.all([
      index.upsert([communityDoc(ids[0]!, 'public')]),
      index.upsert([communityDoc(ids[1]!, 'public'), communityDoc(ids[2]!, 'public')]),
      index.remove([{ type: 'community', id: ids[3]! }]),
      // The latest word on a key wins: upserted then removed within the window is a removal.
      index.remove([{ type: 'community', id: ids[2]! }]),
    ]);
    const writes = fake.requests.slice(before).filter((r) => r.method !== 'GET');
    expect(writes.map((r) => `${r.method} ${r.path}`)).toEqual([`POST /indexes/${indexName}/documents`, `POST /indexes/${indexName}/documents/delete-batch`]);
    expect(writes[0]!.body.map((d: { key: string }) => d.key)).toEqual([`community-${ids[0]}`, `community-${ids[1]}`]);
    expect(writes[1]!.body.sort()).toEqual([`community-${ids[2]}`, `community-${ids[3]}`].sort());
    // Resolved once the tasks were processed.
    expect([...fake.indexes.get(indexName)!.docs.keys()].sort()).toEqual([`community-${ids[0]}`, `community-${ids[1]}`].sort());

    await index.upsert([communityDoc(ids[3]!, 'public')]);
    expect(fake.requestsTo(new RegExp(`^POST /indexes/${indexName}/documents$`))).toHaveLength(2);
  });

  it('rebuilds into a fresh index and swaps it in, keeping updates made meanwhile', async () => {
    const [old, first, second, meanwhile] = Array.from({ length: 4 }, () => randomUUID());
    const { index, indexName } = meili();
    await index.prepare();
    await index.upsert([communityDoc(old!, 'public')]);
    const progress: number[] = [];
    async function* batches() {
      yield [communityDoc(first!, 'public')];
      await index.upsert([communityDoc(meanwhile!, 'public')]);
      yield [communityDoc(second!, 'public')];
    }
    await index.rebuild(batches(), (done) => progress.push(done));

    const [created] = fake.requestsTo(/^POST \/indexes$/).slice(-1);
    const fresh = created!.body.uid as string;
    expect(fresh).toMatch(new RegExp(`^${indexName}_\\d+$`));
    expect(fake.requestsTo(new RegExp(`^PATCH /indexes/${fresh}/settings$`))).toHaveLength(1);
    expect(fake.requestsTo(/^POST \/swap-indexes$/).map((r) => r.body)).toEqual([[{ indexes: [indexName, fresh], rename: false }]]);
    expect(fake.requestsTo(new RegExp(`^DELETE /indexes/${fresh}$`))).toHaveLength(1);
    expect([...fake.indexes.keys()]).toEqual([indexName]);
    const live = fake.indexes.get(indexName)!;
    expect([...live.docs.keys()].sort()).toEqual([first, second, meanwhile].map((id) => `community-${id}`).sort());
    expect(live.settings).toMatchObject(INDEX_SETTINGS);
    expect(progress).toEqual([1, 2]);
  });

  it('rejects within its timeout when Meilisearch fails or does not answer, and says so in healthy()', async () => {
    const viewer = await user('viewer');
    const { backend, index } = meili({ timeoutMs: 300 });
    await index.prepare();
    expect(await index.healthy()).toBe(true);

    for (const mode of ['hang', 'close', 'error'] as const) {
      fake.fail(mode);
      const started = Date.now();
      await expect(backend.search(viewer, { q: 'x', limit: 5 })).rejects.toThrow();
      expect(Date.now() - started).toBeLessThan(1500);
      expect(await index.healthy()).toBe(false);
    }
    await expect(backend.suggest(viewer, { q: 'x', limit: 5 })).rejects.toBeInstanceOf(MeilisearchApiError);
    await expect(index.upsert([communityDoc(randomUUID(), 'public')])).rejects.toBeInstanceOf(MeilisearchApiError);

    fake.recover();
    expect(await index.healthy()).toBe(true);
    await expect(backend.search(viewer, { q: 'x', limit: 5 })).resolves.toMatchObject({ engine: 'meilisearch' });

    // Nobody listening at all.
    await fake.close();
    const started = Date.now();
    await expect(backend.search(viewer, { q: 'x', limit: 5 })).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(1500);
  });
});
