import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type {
  ChapterSourceEnvelope,
  ClaimResultDto,
  EbookDetailDto,
  EbookEnvelope,
  EbookPage,
  HighlightEnvelope,
  HighlightList,
  ReaderChapterEnvelope,
  TocEnvelope,
} from '../../contracts/ebooks.ts';
import { seedCommunity } from '../../test/communities.ts';
import { createEbook, grantEbook, userWithRole } from '../../test/ebookFactories.ts';
import { call, ok, registerUsers, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());

/** A word that appears only in chapter text: wherever it shows up, chapter text was served. */
const SECRET_WORD = 'xylophonic';

const WHO = ['anonymous', 'nonMember', 'member', 'reader', 'otherInstructor', 'ebookAuthor', 'communityAdmin', 'platformAdmin'] as const;
type Who = (typeof WHO)[number];

describe('ebooks: who may do what', () => {
  const users = {} as Record<Exclude<Who, 'anonymous'>, TestUser>;
  let communityId: string;
  let privateCommunityId: string;
  let published: EbookDetailDto;
  let draft: EbookDetailDto;
  const as = (who: Who) => (who === 'anonymous' ? undefined : users[who]);

  beforeAll(async () => {
    const [nonMember, member, reader, communityAdmin] = await registerUsers(node.url, 4);
    Object.assign(users, { nonMember, member, reader, communityAdmin });
    users.otherInstructor = await userWithRole(node, 'instructor');
    users.ebookAuthor = await userWithRole(node, 'instructor');
    users.platformAdmin = await userWithRole(node, 'admin');
    const members = [
      { userId: member.user.id },
      { userId: reader.user.id },
      { userId: users.otherInstructor.user.id },
      // An instructor who moderates the community may write its ebooks (the courses' rule).
      { userId: users.ebookAuthor.user.id, role: 'moderator' as const },
      { userId: communityAdmin.user.id, role: 'admin' as const },
    ];
    communityId = (await seedCommunity(node, { members, channels: [] })).communityId;
    privateCommunityId = (await seedCommunity(node, { members, channels: [], visibility: 'private' })).communityId;
    published = await createEbook(node, users.ebookAuthor, {
      communityId,
      chapters: [{ title: 'Sounds', body: `The ${SECRET_WORD} chapter, with enough words to be a chapter of a book.` }],
    });
    draft = await createEbook(node, users.ebookAuthor, { communityId, publish: false, title: 'Work in progress' });
    await grantEbook(node, published.id, reader.user.id);
  });

  const statuses = async (request: (who: Who) => Promise<{ status: number }>) => {
    const out = {} as Record<Who, number>;
    for (const who of WHO) out[who] = (await request(who)).status;
    return out;
  };

  it('creating: a community’s owners and admins and instructors who moderate it; platform instructors and admins outside communities', async () => {
    const inCommunity = await statuses((who) => call(node, 'POST', '/ebooks', as(who), { title: 'New', author: 'Someone', communityId }));
    expect(inCommunity).toEqual({
      anonymous: 401,
      nonMember: 403,
      member: 403,
      reader: 403,
      otherInstructor: 403,
      ebookAuthor: 201,
      communityAdmin: 201,
      platformAdmin: 201,
    });
    const onPlatform = await statuses((who) => call(node, 'POST', '/ebooks', as(who), { title: 'New', author: 'Someone' }));
    expect(onPlatform).toEqual({
      anonymous: 401,
      nonMember: 403,
      member: 403,
      reader: 403,
      otherInstructor: 201,
      ebookAuthor: 201,
      communityAdmin: 403,
      platformAdmin: 201,
    });
    const hidden = await call(node, 'POST', '/ebooks', users.nonMember, { title: 'New', author: 'Someone', communityId: privateCommunityId });
    expect(hidden.status).toBe(404);
  });

  it('editing: the ebook’s owner, its community’s admins and platform admins; everyone else is refused', async () => {
    const expected = {
      anonymous: 401,
      nonMember: 403,
      member: 403,
      reader: 403,
      otherInstructor: 403,
      ebookAuthor: 200,
      communityAdmin: 200,
      platformAdmin: 200,
    };
    expect(await statuses((who) => call(node, 'PATCH', `/ebooks/${published.id}`, as(who), { description: `edited by ${who}` }))).toEqual(expected);
    expect(await statuses((who) => call(node, 'GET', `/ebooks/${published.id}/chapters/${published.toc[0]!.id}/source`, as(who)))).toEqual(expected);
    const added = await statuses((who) => call(node, 'POST', `/ebooks/${draft.id}/chapters`, as(who), { title: `By ${who}`, body: 'Text.' }));
    // A draft does not exist for anyone but its authors.
    expect(added).toEqual({ ...expected, nonMember: 404, member: 404, reader: 404, otherInstructor: 404, ebookAuthor: 201, communityAdmin: 201, platformAdmin: 201 });
  });

  it('viewing: published ebooks wherever their community is seen; drafts only by their authors', async () => {
    expect(await statuses((who) => call(node, 'GET', `/ebooks/${published.id}`, as(who)))).toEqual({
      anonymous: 401,
      nonMember: 200,
      member: 200,
      reader: 200,
      otherInstructor: 200,
      ebookAuthor: 200,
      communityAdmin: 200,
      platformAdmin: 200,
    });
    expect(await statuses((who) => call(node, 'GET', `/ebooks/${draft.id}`, as(who)))).toEqual({
      anonymous: 401,
      nonMember: 404,
      member: 404,
      reader: 404,
      otherInstructor: 404,
      ebookAuthor: 200,
      communityAdmin: 200,
      platformAdmin: 200,
    });
    for (const who of ['member', 'nonMember', 'otherInstructor'] as const) {
      const page = await ok(call<EbookPage>(node, 'GET', `/ebooks?communityId=${communityId}&limit=100`, users[who]));
      expect(page.data.map((e) => e.id)).toContain(published.id);
      expect(page.data.map((e) => e.id)).not.toContain(draft.id);
    }
    // A private community's ebook is not there for outsiders, even published.
    const hidden = await createEbook(node, users.communityAdmin, { communityId: privateCommunityId });
    expect((await call(node, 'GET', `/ebooks/${hidden.id}`, users.nonMember)).status).toBe(404);
    expect((await call(node, 'GET', `/ebooks?communityId=${privateCommunityId}`, users.nonMember)).status).toBe(404);
    expect((await ok(call<EbookPage>(node, 'GET', `/ebooks?communityId=${privateCommunityId}`, users.member))).data.map((e) => e.id)).toEqual([hidden.id]);
  });

  it('reading chapters: entitled readers and authors only', async () => {
    const chapterId = published.toc[0]!.id;
    expect(await statuses((who) => call(node, 'GET', `/ebooks/${published.id}/chapters/${chapterId}`, as(who)))).toEqual({
      anonymous: 401,
      nonMember: 403,
      member: 403,
      reader: 200,
      otherInstructor: 403,
      ebookAuthor: 200,
      communityAdmin: 200,
      platformAdmin: 200,
    });
    const mine = await ok(call<EbookEnvelope>(node, 'GET', `/ebooks/${published.id}`, users.reader));
    expect(mine.ebook).toMatchObject({ canRead: true, canAuthor: false, myEntitlement: { source: 'grant' } });
    const theirs = await ok(call<EbookEnvelope>(node, 'GET', `/ebooks/${published.id}`, users.member));
    expect(theirs.ebook).toMatchObject({ canRead: false, canAuthor: false, myEntitlement: null, myPosition: null });
  });

  it('chapter text never reaches the non-entitled, through any route', async () => {
    const { member } = users;
    const chapterId = published.toc[0]!.id;
    const bodies = [
      (await call(node, 'GET', `/ebooks?communityId=${communityId}&limit=100`, member)).body,
      (await call(node, 'GET', '/ebooks?limit=100', member)).body,
      (await call(node, 'GET', `/ebooks/${published.id}`, member)).body,
    ];
    const refused = [
      await call(node, 'GET', `/ebooks/${published.id}/chapters/${chapterId}`, member),
      await call(node, 'GET', `/ebooks/${published.id}/chapters/${chapterId}/source`, member),
      await call(node, 'PATCH', `/ebooks/${published.id}/chapters/${chapterId}`, member, { title: 'Mine now' }),
      await call(node, 'PUT', `/ebooks/${published.id}/position`, member, { chapterId, offset: 0 }),
      await call(node, 'POST', `/ebooks/${published.id}/highlights`, member, { chapterId, start: 0, end: 4 }),
      await call(node, 'GET', `/ebooks/${published.id}/highlights`, member),
      await call(node, 'POST', `/ebooks/${published.id}/bookmarks`, member, { chapterId, offset: 0 }),
      await call(node, 'GET', `/ebooks/${published.id}/bookmarks`, member),
    ];
    for (const res of refused) expect(res.status).toBe(403);
    for (const body of [...bodies, ...refused.map((r) => r.body)]) expect(JSON.stringify(body)).not.toContain(SECRET_WORD);
    // The table of contents is there: titles only.
    const detail = bodies[2] as EbookEnvelope;
    expect(detail.ebook.toc).toEqual([{ id: chapterId, title: 'Sounds', position: 0 }]);
  });
});

describe('claiming', () => {
  let admin: TestUser;
  let communityId: string;
  beforeAll(async () => {
    admin = (await registerUsers(node.url, 1))[0];
    communityId = (await seedCommunity(node, { members: [{ userId: admin.user.id, role: 'owner' }], channels: [] })).communityId;
  });

  it('a free ebook: 201 with a free entitlement, then 200 and nothing new; the chapters open', async () => {
    const ebook = await createEbook(node, admin, { communityId });
    const [reader] = await registerUsers(node.url, 1);
    const first = await call<ClaimResultDto>(node, 'POST', `/ebooks/${ebook.id}/claim`, reader);
    expect(first.status).toBe(201);
    expect(first.body.entitlement.source).toBe('free');
    expect(first.body.ebook).toMatchObject({ canRead: true, myEntitlement: { source: 'free' } });
    const again = await call<ClaimResultDto>(node, 'POST', `/ebooks/${ebook.id}/claim`, reader);
    expect(again.status).toBe(200);
    expect(again.body.entitlement).toEqual(first.body.entitlement);
    await ok(call(node, 'GET', `/ebooks/${ebook.id}/chapters/${ebook.toc[0]!.id}`, reader));
    // Unpublished later: the reader keeps it, newcomers cannot claim or see it.
    await ok(call(node, 'POST', `/ebooks/${ebook.id}/unpublish`, admin));
    await ok(call(node, 'GET', `/ebooks/${ebook.id}/chapters/${ebook.toc[0]!.id}`, reader));
    const [late] = await registerUsers(node.url, 1);
    expect((await call(node, 'POST', `/ebooks/${ebook.id}/claim`, late)).status).toBe(404);
  });

  it('a priced ebook must be bought first: 409, and no entitlement', async () => {
    const ebook = await createEbook(node, admin, { communityId, priceMinor: 1999, currency: 'EUR' });
    const [reader] = await registerUsers(node.url, 1);
    const res = await call(node, 'POST', `/ebooks/${ebook.id}/claim`, reader);
    expect(res.status).toBe(409);
    expect(res.body.error).toEqual({ code: 'conflict', message: 'This is a paid ebook. Buy it first, then it is yours to read.' });
    expect((await call(node, 'GET', `/ebooks/${ebook.id}/chapters/${ebook.toc[0]!.id}`, reader)).status).toBe(403);
    const rows = await dbOf(node).selectFrom('entitlements').select('id').where('resource_id', '=', ebook.id).execute();
    expect(rows).toEqual([]);
  });

  it('concurrent claims write one entitlement', async () => {
    const ebook = await createEbook(node, admin, { communityId });
    const [reader] = await registerUsers(node.url, 1);
    const results = await Promise.all(Array.from({ length: 8 }, () => call(node, 'POST', `/ebooks/${ebook.id}/claim`, reader)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 201]);
    const rows = await dbOf(node).selectFrom('entitlements').select('id').where('resource_id', '=', ebook.id).execute();
    expect(rows).toHaveLength(1);
  });

  it('drafts cannot be claimed and a priced ebook needs a currency', async () => {
    const draft = await createEbook(node, admin, { communityId, publish: false });
    const [reader] = await registerUsers(node.url, 1);
    expect((await call(node, 'POST', `/ebooks/${draft.id}/claim`, reader)).status).toBe(404);
    const res = await call(node, 'POST', '/ebooks', admin, { title: 'T', author: 'A', communityId, priceMinor: 100 });
    expect(res.status).toBe(400);
    expect((await call(node, 'PATCH', `/ebooks/${draft.id}`, admin, { priceMinor: 100 })).status).toBe(400);
  });
});

describe('authoring chapters', () => {
  it('adds, edits, reorders and deletes; publishing needs a chapter; a published ebook keeps one', async () => {
    const author = await userWithRole(node, 'instructor');
    const { ebook } = await ok(call<EbookEnvelope>(node, 'POST', '/ebooks', author, { title: 'Platform book', author: 'Me' }), 201);
    expect(ebook).toMatchObject({ status: 'draft', communityId: null, chapterCount: 0, canAuthor: true, toc: [] });
    expect((await call(node, 'POST', `/ebooks/${ebook.id}/publish`, author)).status).toBe(409);

    const add = (title: string) => ok(call<ChapterSourceEnvelope>(node, 'POST', `/ebooks/${ebook.id}/chapters`, author, { title, body: `# ${title}\n\nText.` }), 201);
    const [a, b, c] = [(await add('A')).chapter, (await add('B')).chapter, (await add('C')).chapter];
    expect([a.position, b.position, c.position]).toEqual([0, 1, 2]);
    const edited = await ok(call<ChapterSourceEnvelope>(node, 'PATCH', `/ebooks/${ebook.id}/chapters/${b.id}`, author, { body: 'New body' }));
    expect(edited.chapter).toMatchObject({ title: 'B', body: 'New body' });

    const reordered = await ok(call<TocEnvelope>(node, 'PUT', `/ebooks/${ebook.id}/chapters/order`, author, { chapterIds: [c.id, a.id, b.id] }));
    expect(reordered.toc.map((t) => t.title)).toEqual(['C', 'A', 'B']);
    expect((await call(node, 'PUT', `/ebooks/${ebook.id}/chapters/order`, author, { chapterIds: [c.id, a.id] })).status).toBe(400);

    const published = await ok(call<EbookEnvelope>(node, 'POST', `/ebooks/${ebook.id}/publish`, author));
    expect(published.ebook).toMatchObject({ status: 'published', chapterCount: 3 });
    expect(published.ebook.publishedAt).not.toBeNull();
    await ok(call(node, 'DELETE', `/ebooks/${ebook.id}/chapters/${a.id}`, author));
    await ok(call(node, 'DELETE', `/ebooks/${ebook.id}/chapters/${b.id}`, author));
    expect((await call(node, 'DELETE', `/ebooks/${ebook.id}/chapters/${c.id}`, author)).status).toBe(409);
    expect((await call(node, 'DELETE', `/ebooks/${ebook.id}/chapters/${a.id}`, author)).status).toBe(404);

    // Listed for everyone (a platform ebook), newest first, cursor-paginated.
    const [stranger] = await registerUsers(node.url, 1);
    const first = await ok(call<EbookPage>(node, 'GET', '/ebooks?limit=1', stranger));
    expect(first.data).toHaveLength(1);
    expect(first.nextCursor).not.toBeNull();
    const second = await ok(call<EbookPage>(node, 'GET', `/ebooks?limit=1&cursor=${first.nextCursor}`, stranger));
    expect(second.data[0]!.id).not.toBe(first.data[0]!.id);
    expect((await call(node, 'GET', '/ebooks?cursor=garbage', stranger)).status).toBe(400);
  });
});

describe('highlights and bookmarks are private', () => {
  it('another reader’s highlight or bookmark does not exist for me; offsets stay inside the chapter', async () => {
    const author = await userWithRole(node, 'instructor');
    const ebook = await createEbook(node, author);
    const [alice, bob] = await registerUsers(node.url, 2);
    for (const reader of [alice, bob]) await ok(call(node, 'POST', `/ebooks/${ebook.id}/claim`, reader), 201);
    const chapterId = ebook.toc[0]!.id;
    const { chapter } = await ok(call<ReaderChapterEnvelope>(node, 'GET', `/ebooks/${ebook.id}/chapters/${chapterId}`, alice));

    const { highlight } = await ok(
      call<HighlightEnvelope>(node, 'POST', `/ebooks/${ebook.id}/highlights`, alice, { chapterId, start: 3, end: 12, color: 'green', note: 'Mine' }),
      201,
    );
    expect(highlight).toMatchObject({ chapterId, start: 3, end: 12, color: 'green', note: 'Mine' });
    const base = `/ebooks/${ebook.id}/highlights/${highlight.id}`;
    expect((await call(node, 'PATCH', base, bob, { note: 'Stolen' })).status).toBe(404);
    expect((await call(node, 'DELETE', base, bob)).status).toBe(404);
    expect((await ok(call<HighlightList>(node, 'GET', `/ebooks/${ebook.id}/highlights`, bob))).data).toEqual([]);
    expect((await ok(call<HighlightEnvelope>(node, 'PATCH', base, alice, { note: null }))).highlight.note).toBeNull();
    expect((await ok(call<HighlightList>(node, 'GET', `/ebooks/${ebook.id}/highlights?chapterId=${chapterId}`, alice))).data.map((h) => h.id)).toEqual([
      highlight.id,
    ]);

    const past = await call(node, 'POST', `/ebooks/${ebook.id}/highlights`, alice, { chapterId, start: 0, end: chapter.textLength + 1 });
    expect(past.status).toBe(400);
    expect((await call(node, 'POST', `/ebooks/${ebook.id}/highlights`, alice, { chapterId, start: 5, end: 5 })).status).toBe(400);
    const otherBook = await createEbook(node, author);
    expect((await call(node, 'POST', `/ebooks/${ebook.id}/highlights`, alice, { chapterId: otherBook.toc[0]!.id, start: 0, end: 1 })).status).toBe(404);

    const bookmark = await ok(call(node, 'POST', `/ebooks/${ebook.id}/bookmarks`, alice, { chapterId, offset: 40, label: 'Here' }), 201);
    expect((await call(node, 'DELETE', `/ebooks/${ebook.id}/bookmarks/${bookmark.bookmark.id}`, bob)).status).toBe(404);
    expect((await ok(call(node, 'GET', `/ebooks/${ebook.id}/bookmarks`, bob))).data).toEqual([]);
    expect((await ok(call(node, 'GET', `/ebooks/${ebook.id}/bookmarks`, alice))).data).toHaveLength(1);
    expect((await call(node, 'DELETE', `/ebooks/${ebook.id}/bookmarks/${bookmark.bookmark.id}`, alice)).status).toBe(204);
    expect((await call(node, 'DELETE', base, alice)).status).toBe(204);

    // The position is mine too: it shows on my ebook page, not on Bob's.
    await ok(call(node, 'PUT', `/ebooks/${ebook.id}/position`, alice, { chapterId, offset: 7 }));
    expect((await ok(call<EbookEnvelope>(node, 'GET', `/ebooks/${ebook.id}`, alice))).ebook.myPosition).toMatchObject({ chapterId, offset: 7 });
    expect((await ok(call<EbookEnvelope>(node, 'GET', `/ebooks/${ebook.id}`, bob))).ebook.myPosition).toBeNull();
    expect((await call(node, 'PUT', `/ebooks/${ebook.id}/position`, alice, { chapterId, offset: chapter.textLength + 1 })).status).toBe(400);
  });
});
