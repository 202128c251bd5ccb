import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { seedWorld } from '../test/communities.ts';
import type { PostEnvelope, ReactionList } from '../contracts/feed.ts';
import { call, collect, connectSocket, emitAck, emitOk, eventually, nextEvent, type ClientSocket, type TestUser } from '../test/factories.ts';
import { commentAs, moderateAs, postAs } from '../test/feedFactories.ts';
import { startCluster, type RunningNode } from '../test/nodes.ts';

describe.skipIf(!inject('redisUrl'))('live feed across two nodes (needs Redis)', () => {
  let nodes: RunningNode[];
  let close: () => Promise<void>;
  const sockets: ClientSocket[] = [];
  const open = async (node: RunningNode, user: TestUser) => {
    const socket = await connectSocket(node.url, user.accessToken);
    sockets.push(socket);
    return socket;
  };
  const [A, B] = [0, 1];

  beforeAll(async () => {
    ({ nodes, close } = await startCluster(2, { env: { RATE_LIMIT_EVENTS_PER_10S: '100000' } }));
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await close?.();
  });

  function world(visibility: 'public' | 'private' = 'public') {
    return seedWorld(nodes[A]!, {
      people: { owner: 'owner', moderator: 'moderator', author: 'member', watcher: 'member', outsider: null },
      visibility,
    });
  }

  it('a post made over REST on node A reaches a subscriber on node B exactly once', async () => {
    const { author, watcher, communityId } = await world();
    const socket = await open(nodes[B]!, watcher);
    expect(await emitOk(socket, 'feed:subscribe', { communityId })).toEqual({ communityId });
    const created = collect(socket, 'feed:post_created');

    const post = await postAs(nodes[A]!, author, communityId, 'live **news**');
    // A second post is a marker: events from one publisher arrive in order, so once it is here the first had its chance to repeat.
    const marker = nextEvent(socket, 'feed:post_updated');
    await call(nodes[A]!, 'PATCH', `/posts/${post.id}`, author, { body: 'live news, edited' });
    await marker;
    expect(created).toHaveLength(1);
    expect(created[0]).toMatchObject({ id: post.id, communityId, bodyHtml: '<p>live <strong>news</strong></p>', author: { id: author.user.id }, hidden: false });
  });

  it('carries every kind of feed event, from either node', async () => {
    const { author, watcher, communityId } = await world();
    const socket = await open(nodes[B]!, watcher);
    await emitOk(socket, 'feed:subscribe', { communityId });

    const postCreated = nextEvent(socket, 'feed:post_created');
    const post = await postAs(nodes[A]!, author, communityId, 'thread');
    expect(await postCreated).toMatchObject({ id: post.id, version: 1 });

    const commentCreated = nextEvent(socket, 'feed:comment_created');
    const comment = await commentAs(nodes[B]!, author, post.id, 'first comment');
    expect(await commentCreated).toMatchObject({ id: comment.id, postId: post.id, communityId, author: { id: author.user.id }, version: 1 });

    const commentUpdated = nextEvent(socket, 'feed:comment_updated');
    await call(nodes[A]!, 'PATCH', `/comments/${comment.id}`, author, { body: 'edited comment' });
    expect(await commentUpdated).toMatchObject({ id: comment.id, body: 'edited comment', version: 2 });

    const reaction = nextEvent(socket, 'feed:reaction_updated');
    await call(nodes[A]!, 'POST', `/comments/${comment.id}/reactions`, watcher, { emoji: '👍' });
    expect(await reaction).toEqual({
      communityId,
      postId: post.id,
      commentId: comment.id,
      reactions: [{ emoji: '👍', count: 1, userIds: [watcher.user.id] }],
      version: 3,
    });
    const postReaction = nextEvent(socket, 'feed:reaction_updated');
    await call(nodes[B]!, 'POST', `/posts/${post.id}/reactions`, watcher, { emoji: '🎉' });
    expect(await postReaction).toMatchObject({ postId: post.id, commentId: null, version: 2 });

    const commentDeleted = nextEvent(socket, 'feed:comment_deleted');
    await call(nodes[A]!, 'DELETE', `/comments/${comment.id}`, author);
    expect(await commentDeleted).toEqual({ communityId, postId: post.id, commentId: comment.id, version: 4 });

    const postDeleted = nextEvent(socket, 'feed:post_deleted');
    await call(nodes[A]!, 'DELETE', `/posts/${post.id}`, author);
    expect(await postDeleted).toEqual({ communityId, postId: post.id, version: 3 });
  });

  it('hiding takes content away live and never sends it; unhiding brings it back', async () => {
    const { author, watcher, moderator, communityId } = await world();
    const socket = await open(nodes[B]!, watcher);
    await emitOk(socket, 'feed:subscribe', { communityId });
    const post = await postAs(nodes[A]!, author, communityId, 'borderline');

    const gone = nextEvent(socket, 'feed:post_deleted');
    await moderateAs(nodes[A]!, moderator, { type: 'post', id: post.id }, { hide: true });
    expect(await gone).toEqual({ communityId, postId: post.id, version: 2 });

    const back = nextEvent(socket, 'feed:post_created');
    await moderateAs(nodes[A]!, moderator, { type: 'post', id: post.id }, { hide: false });
    // Newer than the hide, so a client that removed the post takes it back.
    expect(await back).toMatchObject({ id: post.id, hidden: false, body: 'borderline', version: 3 });
  });

  it('hiding a comment takes it away live; unhiding brings it back with its replies', async () => {
    const { author, watcher, moderator, communityId } = await world();
    const socket = await open(nodes[B]!, watcher);
    await emitOk(socket, 'feed:subscribe', { communityId });
    const post = await postAs(nodes[A]!, author, communityId, 'thread');
    const top = await commentAs(nodes[A]!, watcher, post.id, 'hot take');
    const reply = await commentAs(nodes[A]!, author, post.id, 'agreed', top.id);

    const gone = nextEvent(socket, 'feed:comment_deleted');
    await moderateAs(nodes[A]!, moderator, { type: 'comment', id: top.id }, { hide: true });
    expect(await gone).toEqual({ communityId, postId: post.id, commentId: top.id, version: 2 });
    // Replying under a hidden comment is refused for members, so nothing is announced.
    expect((await call(nodes[A]!, 'POST', `/posts/${post.id}/comments`, author, { body: 'more', parentId: top.id })).status).toBe(404);

    const back = collect(socket, 'feed:comment_created');
    const marker = nextEvent(socket, 'feed:post_updated');
    await moderateAs(nodes[A]!, moderator, { type: 'comment', id: top.id }, { hide: false });
    await call(nodes[A]!, 'PATCH', `/posts/${post.id}`, author, { body: 'thread, edited' });
    await marker;
    // Both newer than the copies clients dropped with the hide: the reply's version moved on too.
    expect(back.map((c) => [c.id, c.parentId, c.version])).toEqual([
      [top.id, null, 3],
      [reply.id, top.id, 2],
    ]);
  });

  it('changes to one post committed at once on two nodes get increasing versions, and each event carries its own', async () => {
    const { author, watcher, moderator, communityId } = await world();
    const socket = await open(nodes[B]!, watcher);
    await emitOk(socket, 'feed:subscribe', { communityId });
    const post = await postAs(nodes[A]!, author, communityId, 'draft');
    expect(post.version).toBe(1);
    const updates = collect(socket, 'feed:post_updated');
    const reactions = collect(socket, 'feed:reaction_updated');

    const [edited, pinned, reacted] = await Promise.all([
      call<PostEnvelope>(nodes[A]!, 'PATCH', `/posts/${post.id}`, author, { body: 'final' }),
      call<PostEnvelope>(nodes[B]!, 'POST', `/posts/${post.id}/pin`, moderator, { pinned: true }),
      call<ReactionList>(nodes[B]!, 'POST', `/posts/${post.id}/reactions`, watcher, { emoji: '👍' }),
    ]);
    expect([edited.status, pinned.status, reacted.status]).toEqual([200, 200, 200]);
    const editVersion = edited.body.post.version;
    const pinVersion = pinned.body.post.version;
    // Each change moved the version on once, in the order the three committed.
    expect([editVersion, pinVersion, reacted.body.version].sort((a, b) => a - b)).toEqual([2, 3, 4]);

    // The hide commits last, so its version is above all three, whatever order their events arrive in.
    const gone = nextEvent(socket, 'feed:post_deleted');
    await moderateAs(nodes[A]!, moderator, { type: 'post', id: post.id }, { hide: true });
    expect(await gone).toEqual({ communityId, postId: post.id, version: 5 });

    await eventually(() => updates.length === 2 && reactions.length === 1, 5000, 'the edit, pin and reaction events');
    expect(updates.map((u) => u.version).sort((a, b) => a - b)).toEqual([editVersion, pinVersion].sort((a, b) => a - b));
    expect(reactions[0]).toMatchObject({ postId: post.id, commentId: null, version: reacted.body.version });
    // The later of the edit and the pin was presented after the earlier committed: its copy holds both changes, so a
    // client keeping the highest version ends with the post as it is.
    const latest = updates.reduce((a, b) => (b.version > a.version ? b : a));
    expect(latest).toMatchObject({ body: 'final', pinned: true });
    expect(updates.find((u) => u.version === editVersion)?.body).toBe('final');
    expect(updates.find((u) => u.version === pinVersion)?.pinned).toBe(true);
  });

  it('subscribing is authorized: private communities for members only; public ones for anyone not banned', async () => {
    const priv = await world('private');
    const pub = await world('public');
    const outsider = await open(nodes[A]!, priv.outsider);
    const refused = await emitAck(outsider, 'feed:subscribe', { communityId: priv.communityId });
    expect(refused).toMatchObject({ ok: false, error: { code: 'not_found' } });
    expect(await emitAck(outsider, 'feed:subscribe', { communityId: pub.communityId })).toMatchObject({ ok: true });
    expect(await emitAck(outsider, 'feed:subscribe', { communityId: 'not-a-uuid' })).toMatchObject({ ok: false, error: { code: 'invalid_input' } });

    // Not subscribed to the private feed: its posts never reach this socket, while the public one's do.
    const seen = collect(outsider, 'feed:post_created');
    await postAs(nodes[B]!, priv.author, priv.communityId, 'members only');
    const publicPost = nextEvent(outsider, 'feed:post_created');
    await postAs(nodes[B]!, pub.author, pub.communityId, 'for everyone');
    await publicPost;
    expect(seen.map((p) => p.communityId)).toEqual([pub.communityId]);
  });

  it('a member removed from the community stops receiving its feed events on every node and cannot subscribe again', async () => {
    const { owner, author, watcher, communityId } = await world('private');
    const removed = await open(nodes[B]!, watcher);
    const sentinel = await open(nodes[B]!, author);
    for (const s of [removed, sentinel]) await emitOk(s, 'feed:subscribe', { communityId });
    const seenByRemoved = collect(removed, 'feed:post_created');

    expect((await call(nodes[A]!, 'DELETE', `/communities/${communityId}/members/${watcher.user.id}`, owner)).status).toBe(204);
    // Removal is revoked through the cluster adapter; a post after it must not reach the removed socket.
    const reachedSentinel = nextEvent(sentinel, 'feed:post_created');
    const post = await postAs(nodes[A]!, owner, communityId, 'after the removal');
    expect((await reachedSentinel).id).toBe(post.id);
    const marker = nextEvent(sentinel, 'feed:post_updated');
    await call(nodes[A]!, 'PATCH', `/posts/${post.id}`, owner, { body: 'still after the removal' });
    await marker;
    expect(seenByRemoved).toEqual([]);
    expect(await emitAck(removed, 'feed:subscribe', { communityId })).toMatchObject({ ok: false, error: { code: 'not_found' } });
  });

  it('unsubscribing stops the events', async () => {
    const { author, watcher, communityId } = await world();
    const socket = await open(nodes[B]!, watcher);
    const sentinel = await open(nodes[B]!, author);
    for (const s of [socket, sentinel]) await emitOk(s, 'feed:subscribe', { communityId });
    expect(await emitOk(socket, 'feed:unsubscribe', { communityId })).toEqual({ communityId });
    const seen = collect(socket, 'feed:post_created');
    const reached = nextEvent(sentinel, 'feed:post_created');
    await postAs(nodes[A]!, author, communityId, 'anyone there?');
    await reached;
    expect(seen).toEqual([]);
  });
});
