import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PostDto } from '../../contracts/feed.ts';
import { loadFeedItemForCase } from '../../domain/feed/moderation.ts';
import { seedWorld } from '../../test/communities.ts';
import { call, type HttpMethod } from '../../test/factories.ts';
import { commentAs, feedPage, moderateAs, postAs, reactAs } from '../../test/feedFactories.ts';
import { insertBan, insertTimeout, setWordFilter } from '../../test/moderationFactories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());


/** A community with an owner, a moderator, two members and an outsider. */
const world = (visibility: 'public' | 'private' = 'public') =>
  seedWorld(node, { visibility, people: { owner: 'owner', moderator: 'moderator', member: 'member', other: 'member', outsider: null } });

describe('posting', () => {
  it('members post text, links and polls; the body is rendered from the markdown subset', async () => {
    const { member, communityId } = await world();
    const text = await postAs(node, member, communityId, 'Hello **everyone** <script>x</script>');
    expect(text).toMatchObject({
      communityId,
      author: { id: member.user.id, displayName: member.user.displayName },
      kind: 'text',
      body: 'Hello **everyone** <script>x</script>',
      bodyHtml: '<p>Hello <strong>everyone</strong> &lt;script&gt;x&lt;/script&gt;</p>',
      linkUrl: null,
      poll: null,
      pinned: false,
      commentCount: 0,
      reactions: [],
      editedAt: null,
      hidden: false,
    });
    const link = await postAs(node, member, communityId, { body: 'Read this', kind: 'link', linkUrl: 'https://example.com/x' });
    expect(link).toMatchObject({ kind: 'link', linkUrl: 'https://example.com/x' });
    const poll = await postAs(node, member, communityId, { body: 'Vote', kind: 'poll', poll: { question: 'Tabs?', options: ['yes', 'no'] } });
    expect(poll.poll).toEqual({ question: 'Tabs?', options: [{ text: 'yes', votes: 0 }, { text: 'no', votes: 0 }], myVote: null });
  });

  it('refuses outsiders: 403 in a public community (join first), 404 in a private one, 401 without a session', async () => {
    const pub = await world('public');
    const priv = await world('private');
    const refusedPublic = await call(node, 'POST', `/communities/${pub.communityId}/posts`, pub.outsider, { body: 'hi' });
    expect(refusedPublic.status).toBe(403);
    expect(refusedPublic.body.error.code).toBe('forbidden');
    expect((await call(node, 'POST', `/communities/${priv.communityId}/posts`, priv.outsider, { body: 'hi' })).status).toBe(404);
    expect((await call(node, 'POST', `/communities/${priv.communityId}/posts`, pub.member, { body: 'hi' })).status).toBe(404);
    expect((await call(node, 'POST', `/communities/${pub.communityId}/posts`, null, { body: 'hi' })).status).toBe(401);
  });

  it('a public feed can be read before joining; a private one only by members; banned people read neither', async () => {
    const pub = await world('public');
    const priv = await world('private');
    const post = await postAs(node, pub.member, pub.communityId, 'public news');
    await postAs(node, priv.member, priv.communityId, 'members only');
    expect((await feedPage(node, pub.outsider, `/communities/${pub.communityId}/feed`)).data.map((p) => p.id)).toEqual([post.id]);
    expect((await call(node, 'GET', `/communities/${priv.communityId}/feed`, pub.outsider)).status).toBe(404);
    expect((await call(node, 'GET', `/communities/${priv.communityId}/feed`, pub.member)).status).toBe(404);

    await insertBan(node, pub.communityId, pub.outsider.user.id);
    expect((await call(node, 'GET', `/communities/${pub.communityId}/feed`, pub.outsider)).status).toBe(404);
    expect((await call(node, 'GET', `/posts/${post.id}`, pub.outsider)).status).toBe(404);
  });

  it('the community rules apply: a timed-out member cannot post, comment or react; blocked words are refused', async () => {
    const { member, other, communityId } = await world();
    const post = await postAs(node, other, communityId, 'open for comments');
    await insertTimeout(node, communityId, member.user.id, 60);
    for (const [path, body] of [
      [`/communities/${communityId}/posts`, { body: 'hi' }],
      [`/posts/${post.id}/comments`, { body: 'hi' }],
      [`/posts/${post.id}/reactions`, { emoji: '👍' }],
    ] as const) {
      const res = await call(node, 'POST', path, member, body);
      expect(res.status, path).toBe(403);
      expect(res.body.error.retryAfter, path).toBeGreaterThan(0);
    }
    await setWordFilter(node, communityId, ['badword'], 'block');
    expect((await call(node, 'POST', `/communities/${communityId}/posts`, other, { body: 'a Badword here' })).status).toBe(403);
  });

  it('flag mode lets the post through and opens an automod case for review', async () => {
    const { member, communityId } = await world();
    await setWordFilter(node, communityId, ['scam'], 'flag');
    const post = await postAs(node, member, communityId, 'not a scam, honest');
    const cases = await dbOf(node)
      .selectFrom('moderation_cases')
      .select(['automod', 'target_user_id'])
      .where('target_type', '=', 'post')
      .where('target_id', '=', post.id)
      .execute();
    expect(cases).toEqual([{ automod: true, target_user_id: member.user.id }]);
  });
});

describe('editing, deleting, pinning', () => {
  it('only the author edits; the edit is marked', async () => {
    const { member, other, moderator, communityId } = await world();
    const post = await postAs(node, member, communityId, 'first draft');
    for (const user of [other, moderator]) {
      const res = await call(node, 'PATCH', `/posts/${post.id}`, user, { body: 'hijacked' });
      expect(res.status).toBe(403);
    }
    const res = await call(node, 'PATCH', `/posts/${post.id}`, member, { body: 'second *draft*' });
    expect(res.status).toBe(200);
    expect(res.body.post).toMatchObject({ body: 'second *draft*', bodyHtml: '<p>second <em>draft</em></p>', editedAt: expect.any(String) });
  });

  it('the author or a moderator deletes; others cannot; a moderator removing a post is audited', async () => {
    const { member, other, moderator, communityId } = await world();
    const mine = await postAs(node, member, communityId, 'mine');
    const theirs = await postAs(node, other, communityId, 'theirs');
    expect((await call(node, 'DELETE', `/posts/${mine.id}`, other)).status).toBe(403);
    expect((await call(node, 'DELETE', `/posts/${mine.id}`, member)).status).toBe(204);
    expect((await call(node, 'DELETE', `/posts/${theirs.id}`, moderator)).status).toBe(204);

    for (const id of [mine.id, theirs.id]) {
      expect((await call(node, 'GET', `/posts/${id}`, member)).status).toBe(404);
      expect((await call(node, 'GET', `/posts/${id}`, moderator)).status).toBe(404);
      expect((await call(node, 'DELETE', `/posts/${id}`, member)).status).toBe(404);
    }
    expect((await feedPage(node, moderator, `/communities/${communityId}/feed`)).data).toEqual([]);
    const audit = await dbOf(node).selectFrom('moderation_audit').select(['actor_id', 'action', 'target_user_id']).where('target_id', '=', theirs.id).execute();
    expect(audit).toEqual([{ actor_id: moderator.user.id, action: 'delete', target_user_id: other.user.id }]);
  });

  it('moderators pin (pinned first), members cannot, and a moderator of another community has no power here', async () => {
    const { member, moderator, communityId } = await world();
    const elsewhere = await world();
    const old = await postAs(node, member, communityId, 'old but important');
    const fresh = await postAs(node, member, communityId, 'fresh');
    expect((await call(node, 'POST', `/posts/${old.id}/pin`, member, { pinned: true })).status).toBe(403);
    expect((await call(node, 'POST', `/posts/${old.id}/pin`, elsewhere.moderator, { pinned: true })).status).toBe(403);
    expect((await call(node, 'DELETE', `/posts/${old.id}`, elsewhere.moderator)).status).toBe(403);

    const pinned = await call(node, 'POST', `/posts/${old.id}/pin`, moderator, { pinned: true });
    expect(pinned.body.post.pinned).toBe(true);
    expect((await call(node, 'POST', `/posts/${old.id}/pin`, moderator, { pinned: true })).status).toBe(200);
    expect((await feedPage(node, member, `/communities/${communityId}/feed`)).data.map((p) => p.id)).toEqual([old.id, fresh.id]);

    const more = await Promise.all([1, 2, 3].map((i) => postAs(node, member, communityId, `candidate ${i}`)));
    for (const post of more.slice(0, 2)) expect((await call(node, 'POST', `/posts/${post.id}/pin`, moderator, { pinned: true })).status).toBe(200);
    expect((await call(node, 'POST', `/posts/${more[2]!.id}/pin`, moderator, { pinned: true })).status).toBe(409);
    const unpinned = await call(node, 'POST', `/posts/${old.id}/pin`, moderator, { pinned: false });
    expect(unpinned.body.post.pinned).toBe(false);
  });
});

describe('hidden content', () => {
  it('a hidden post is gone for members (the author too) and marked for moderators; unhiding brings it back', async () => {
    const { member, other, moderator, owner, communityId } = await world();
    const post = await postAs(node, member, communityId, 'questionable');
    await commentAs(node, other, post.id, 'a reply');
    const result = await moderateAs(node, moderator, { type: 'post', id: post.id }, { hide: true });
    expect(result).toMatchObject({ communityId, authorId: member.user.id, before: { hidden: false }, after: { hidden: true } });

    for (const user of [member, other]) {
      expect((await feedPage(node, user, `/communities/${communityId}/feed`)).data).toEqual([]);
      expect((await feedPage(node, user, '/feed')).data.map((p) => p.id)).not.toContain(post.id);
      expect((await call(node, 'GET', `/posts/${post.id}`, user)).status).toBe(404);
      expect((await call(node, 'GET', `/posts/${post.id}/comments`, user)).status).toBe(404);
      expect((await call(node, 'POST', `/posts/${post.id}/comments`, user, { body: 'still here?' })).status).toBe(404);
      expect((await call(node, 'POST', `/posts/${post.id}/reactions`, user, { emoji: '👍' })).status).toBe(404);
    }
    expect((await call(node, 'PATCH', `/posts/${post.id}`, member, { body: 'let me fix it' })).status).toBe(404);

    for (const user of [moderator, owner]) {
      const feed = await feedPage(node, user, `/communities/${communityId}/feed`);
      expect(feed.data.map((p) => [p.id, p.hidden])).toEqual([[post.id, true]]);
      const detail = await call(node, 'GET', `/posts/${post.id}`, user);
      expect(detail.body.post.hidden).toBe(true);
      expect(detail.body.comments).toHaveLength(1);
    }

    await moderateAs(node, moderator, { type: 'post', id: post.id }, { hide: false });
    expect((await call(node, 'GET', `/posts/${post.id}`, member)).body.post.hidden).toBe(false);
  });

  it('a hidden comment (and replies under it) is gone for members and marked for moderators', async () => {
    const { member, other, moderator, communityId } = await world();
    const post = await postAs(node, member, communityId, 'discuss');
    const bad = await commentAs(node, other, post.id, 'rude');
    const reply = await commentAs(node, member, post.id, 'calm down', bad.id);
    const fine = await commentAs(node, member, post.id, 'fine');
    await moderateAs(node, moderator, { type: 'comment', id: bad.id }, { hide: true });

    const forMember = await call(node, 'GET', `/posts/${post.id}`, member);
    expect(forMember.body.comments.map((c: { id: string }) => c.id)).toEqual([fine.id]);
    expect(forMember.body.post.commentCount).toBe(1);
    for (const [method, path, body] of [
      ['PATCH', `/comments/${bad.id}`, { body: 'sorry' }],
      ['POST', `/comments/${bad.id}/reactions`, { emoji: '👍' }],
      ['POST', `/posts/${post.id}/comments`, { body: 'reply', parentId: bad.id }],
    ] as const) {
      expect((await call(node, method, path, other, body)).status, path).toBe(404);
    }
    expect((await call(node, 'PATCH', `/comments/${reply.id}`, member, { body: 'edit' })).status).toBe(404);

    const forModerator = await call(node, 'GET', `/posts/${post.id}`, moderator);
    expect(forModerator.body.comments.map((c: { id: string; hidden: boolean }) => [c.id, c.hidden])).toEqual([
      [bad.id, true],
      [reply.id, false],
      [fine.id, false],
    ]);
  });

  it('moderateFeedItem deletes, answers not_found for unknown items, and loadFeedItemForCase shows them to the console', async () => {
    const { member, moderator, communityId } = await world();
    const post = await postAs(node, member, communityId, 'to be removed');
    await reactAs(node, member, post.id);
    const deleted = await moderateAs(node, moderator, { type: 'post', id: post.id }, { delete: true });
    expect(deleted.after).toEqual({ hidden: false, deleted: true });
    expect((await call(node, 'GET', `/posts/${post.id}`, member)).status).toBe(404);
    await expect(moderateAs(node, moderator, { type: 'comment', id: crypto.randomUUID() }, { hide: true })).rejects.toMatchObject({
      code: 'not_found',
    });
    expect(await loadFeedItemForCase(dbOf(node), 'post', post.id)).toMatchObject({
      communityId,
      authorId: member.user.id,
      body: 'to be removed',
      postId: post.id,
      deleted: true,
      hidden: false,
    });
    expect(await loadFeedItemForCase(dbOf(node), 'comment', crypto.randomUUID())).toBeNull();
  });
});

describe('bad input', () => {
  it('is refused with 400 naming the field, including text PostgreSQL cannot store', async () => {
    const { member, communityId } = await world();
    const post = await postAs(node, member, communityId, 'target');
    const comment = await commentAs(node, member, post.id, 'target');
    const cases: [HttpMethod, string, unknown, string][] = [
      ['POST', `/communities/${communityId}/posts`, { body: 'a\u0000b' }, 'body'],
      ['POST', `/communities/${communityId}/posts`, { body: 'x'.repeat(10_001) }, 'body'],
      ['POST', `/communities/${communityId}/posts`, { body: 'x', kind: 'link' }, 'linkUrl'],
      ['POST', `/communities/${communityId}/posts`, { body: 'x', kind: 'link', linkUrl: 'javascript:alert(1)' }, 'linkUrl'],
      ['POST', `/communities/${communityId}/posts`, { body: 'x', kind: 'poll', poll: { question: 'q', options: ['only one'] } }, 'poll.options'],
      ['POST', `/communities/${communityId}/posts`, { body: 'x', kind: 'poll', poll: { question: 'q\u0000', options: ['a', 'b'] } }, 'poll.question'],
      ['PATCH', `/posts/${post.id}`, { body: '\u0000' }, 'body'],
      ['POST', `/posts/${post.id}/comments`, { body: 'a\u0000' }, 'body'],
      ['POST', `/posts/${post.id}/comments`, { body: '   ' }, 'body'],
      ['PATCH', `/comments/${comment.id}`, { body: 'a\u0000' }, 'body'],
      ['POST', `/posts/${post.id}/reactions`, { emoji: 'x\u0000' }, 'emoji'],
      ['POST', `/comments/${comment.id}/reactions`, { emoji: 'x\u0000' }, 'emoji'],
    ];
    for (const [method, path, body, field] of cases) {
      const res = await call(node, method, path, member, body);
      expect(res.status, `${method} ${path} ${JSON.stringify(body)}`).toBe(400);
      expect(res.body.error.details.fields, `${method} ${path}`).toHaveProperty([field]);
    }
  });
});

describe('flooding', () => {
  it('one person can write at most 30 posts or comments a minute; others are unaffected', async () => {
    const { member, other, communityId } = await world();
    const results = await Promise.all(
      Array.from({ length: 31 }, (_, i) => call(node, 'POST', `/communities/${communityId}/posts`, member, { body: `flood ${i}` })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(30);
    const refused = results.find((r) => r.status !== 201)!;
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'rate_limited', retryAfter: expect.any(Number) });
    expect((await call(node, 'POST', `/communities/${communityId}/posts`, other, { body: 'calm' })).status).toBe(201);
  });
});

describe('responses carry no e-mail addresses', () => {
  it('post and feed payloads name people by UserRef only', async () => {
    const { member, communityId } = await world();
    const post: PostDto = await postAs(node, member, communityId, 'hi');
    const feed = await feedPage(node, member, `/communities/${communityId}/feed`);
    expect(JSON.stringify([post, feed])).not.toContain('@example.test');
  });
});
