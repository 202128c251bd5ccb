import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, registerUsers, type TestUser } from '../../test/factories.ts';
import { commentAs, feedCommunity, feedPage, postAs } from '../../test/feedFactories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());

const postIds = async (user: TestUser, path: string) => (await feedPage(node, user, path)).data.map((p) => p.id);

describe('follow', () => {
  it('is idempotent, refuses yourself and unknown people, and shows in the relationship', async () => {
    const [me, them] = await registerUsers(node.url, 2);
    expect((await call(node, 'POST', `/users/${them.user.id}/follow`, me)).status).toBe(204);
    expect((await call(node, 'POST', `/users/${them.user.id}/follow`, me)).status).toBe(204);
    expect((await call(node, 'POST', `/users/${me.user.id}/follow`, me)).status).toBe(400);
    expect((await call(node, 'POST', `/users/${crypto.randomUUID()}/follow`, me)).status).toBe(404);
    expect((await call(node, 'GET', `/users/${them.user.id}/relationship`, me)).body).toEqual({
      userId: them.user.id,
      following: true,
      followsMe: false,
      muted: false,
      blocked: false,
      followerCount: 1,
      followingCount: 0,
    });
    expect((await call(node, 'DELETE', `/users/${them.user.id}/follow`, me)).status).toBe(204);
    expect((await call(node, 'DELETE', `/users/${them.user.id}/follow`, me)).status).toBe(204);
    expect((await call(node, 'GET', `/users/${them.user.id}/relationship`, me)).body.following).toBe(false);
  });

  it("brings followed people's posts into the home feed from public communities I have not joined, not from private ones", async () => {
    const [me, star, stranger] = await registerUsers(node.url, 3);
    const publicId = await feedCommunity(node, [{ user: star }, { user: stranger }], 'public');
    const privateId = await feedCommunity(node, [{ user: star }], 'private');
    const publicPost = await postAs(node, star, publicId, 'public thoughts');
    await postAs(node, star, privateId, 'private thoughts');
    await postAs(node, stranger, publicId, 'not followed');
    expect(await postIds(me, '/feed')).toEqual([]);

    await call(node, 'POST', `/users/${star.user.id}/follow`, me);
    expect(await postIds(me, '/feed')).toEqual([publicPost.id]);
    await call(node, 'DELETE', `/users/${star.user.id}/follow`, me);
    expect(await postIds(me, '/feed')).toEqual([]);
  });
});

describe('mute', () => {
  it("a muted author's posts and comments vanish from my feeds and threads; unmuting brings them back", async () => {
    const [me, loud, friend] = await registerUsers(node.url, 3);
    const communityId = await feedCommunity(node, [{ user: me }, { user: loud }, { user: friend }]);
    const loudPost = await postAs(node, loud, communityId, 'LOUD');
    const friendPost = await postAs(node, friend, communityId, 'hello');
    const loudComment = await commentAs(node, loud, friendPost.id, 'LOUD COMMENT');
    const replyToLoud = await commentAs(node, friend, friendPost.id, 'shh', loudComment.id);

    expect((await call(node, 'POST', `/users/${loud.user.id}/mute`, me)).status).toBe(204);
    expect(await postIds(me, `/communities/${communityId}/feed`)).toEqual([friendPost.id]);
    expect(await postIds(me, '/feed')).toEqual([friendPost.id]);
    expect((await call(node, 'GET', `/posts/${friendPost.id}`, me)).body.comments).toEqual([]);
    // Muting quiets feeds; a direct link still opens.
    expect((await call(node, 'GET', `/posts/${loudPost.id}`, me)).status).toBe(200);
    // Only for me.
    expect(await postIds(friend, `/communities/${communityId}/feed`)).toEqual([friendPost.id, loudPost.id]);

    expect((await call(node, 'DELETE', `/users/${loud.user.id}/mute`, me)).status).toBe(204);
    expect(await postIds(me, `/communities/${communityId}/feed`)).toEqual([friendPost.id, loudPost.id]);
    const comments = (await call(node, 'GET', `/posts/${friendPost.id}`, me)).body.comments.map((c: { id: string }) => c.id);
    expect(comments).toEqual([loudComment.id, replyToLoud.id]);
  });
});

describe('block', () => {
  it('hides content both ways in feeds, threads and direct links, and stops comments across it', async () => {
    const [blocker, blocked, bystander] = await registerUsers(node.url, 3);
    const communityId = await feedCommunity(node, [{ user: blocker }, { user: blocked }, { user: bystander }]);
    const byBlocker = await postAs(node, blocker, communityId, 'from the blocker');
    const byBlocked = await postAs(node, blocked, communityId, 'from the blocked');
    const byBystander = await postAs(node, bystander, communityId, 'neutral ground');
    const blockedComment = await commentAs(node, blocked, byBystander.id, 'blocked speaks');
    const blockerComment = await commentAs(node, blocker, byBystander.id, 'blocker speaks');

    expect((await call(node, 'POST', `/users/${blocked.user.id}/block`, blocker)).status).toBe(204);

    expect(await postIds(blocker, `/communities/${communityId}/feed`)).toEqual([byBystander.id, byBlocker.id]);
    expect(await postIds(blocked, `/communities/${communityId}/feed`)).toEqual([byBystander.id, byBlocked.id]);
    expect(await postIds(blocker, '/feed')).not.toContain(byBlocked.id);
    expect(await postIds(blocked, '/feed')).not.toContain(byBlocker.id);
    expect((await call(node, 'GET', `/posts/${byBlocker.id}`, blocked)).status).toBe(404);
    expect((await call(node, 'GET', `/posts/${byBlocked.id}`, blocker)).status).toBe(404);
    expect((await call(node, 'POST', `/posts/${byBlocker.id}/comments`, blocked, { body: 'hey' })).status).toBe(404);
    expect((await call(node, 'POST', `/posts/${byBlocker.id}/reactions`, blocked, { emoji: '👎' })).status).toBe(404);
    expect((await call(node, 'POST', `/posts/${byBystander.id}/comments`, blocked, { body: 'hey', parentId: blockerComment.id })).status).toBe(404);

    const commentsFor = async (user: TestUser) =>
      (await call(node, 'GET', `/posts/${byBystander.id}`, user)).body.comments.map((c: { id: string }) => c.id);
    expect(await commentsFor(blocker)).toEqual([blockerComment.id]);
    expect(await commentsFor(blocked)).toEqual([blockedComment.id]);
    expect(await commentsFor(bystander)).toEqual([blockedComment.id, blockerComment.id]);
    expect((await call(node, 'GET', `/users/${blocked.user.id}/relationship`, blocker)).body.blocked).toBe(true);

    expect((await call(node, 'DELETE', `/users/${blocked.user.id}/block`, blocker)).status).toBe(204);
    expect((await call(node, 'GET', `/posts/${byBlocker.id}`, blocked)).status).toBe(200);
  });
});
