import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommentDto } from '../../contracts/feed.ts';
import { seedWorld } from '../../test/communities.ts';
import { call } from '../../test/factories.ts';
import { commentAs, postAs } from '../../test/feedFactories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());


/** A post to discuss in a community with a moderator, its author, another member and an outsider. */
async function world() {
  const people = await seedWorld(node, { people: { moderator: 'moderator', author: 'member', member: 'member', outsider: null } });
  return { ...people, post: await postAs(node, people.author, people.communityId, 'Discuss') };
}

const ids = (comments: CommentDto[]) => comments.map((c) => c.id);

describe('comments', () => {
  it('comments and replies come oldest first; a reply to a reply attaches to its top-level comment', async () => {
    const { author, member, post } = await world();
    const top = await commentAs(node, member, post.id, 'First!');
    const reply = await commentAs(node, author, post.id, 'Thanks', top.id);
    const nested = await commentAs(node, member, post.id, 'You are welcome', reply.id);
    expect(reply.parentId).toBe(top.id);
    expect(nested.parentId).toBe(top.id);

    const detail = await call(node, 'GET', `/posts/${post.id}`, member);
    expect(ids(detail.body.comments)).toEqual([top.id, reply.id, nested.id]);
    expect(detail.body.post.commentCount).toBe(3);
    expect(detail.body.nextCommentsCursor).toBeNull();
  });

  it('a reply must answer a comment on the same post', async () => {
    const { member, communityId, post, author } = await world();
    const elsewhere = await postAs(node, author, communityId, 'Another');
    const foreign = await commentAs(node, member, elsewhere.id, 'there');
    const res = await call(node, 'POST', `/posts/${post.id}/comments`, member, { body: 'here', parentId: foreign.id });
    expect(res.status).toBe(404);
    expect((await call(node, 'POST', `/posts/${post.id}/comments`, member, { body: 'here', parentId: crypto.randomUUID() })).status).toBe(404);
  });

  it('pages through many comments without repeats', async () => {
    const { member, post } = await world();
    const written: string[] = [];
    for (let i = 0; i < 7; i++) written.push((await commentAs(node, member, post.id, `comment ${i}`)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await call(node, 'GET', `/posts/${post.id}/comments${query}`, member);
      expect(res.status).toBe(200);
      seen.push(...ids(res.body.data));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(written);
  });

  it('only members comment; only the author edits; the author or a moderator deletes (replies go with a top-level comment)', async () => {
    const { moderator, author, member, outsider, post } = await world();
    expect((await call(node, 'POST', `/posts/${post.id}/comments`, outsider, { body: 'hi' })).status).toBe(403);
    const top = await commentAs(node, member, post.id, 'top');
    const reply = await commentAs(node, author, post.id, 'reply', top.id);
    const other = await commentAs(node, author, post.id, 'other');

    expect((await call(node, 'PATCH', `/comments/${top.id}`, author, { body: 'mine now' })).status).toBe(403);
    expect((await call(node, 'PATCH', `/comments/${top.id}`, moderator, { body: 'mine now' })).status).toBe(403);
    const edited = await call(node, 'PATCH', `/comments/${top.id}`, member, { body: '**top**' });
    expect(edited.body.comment).toMatchObject({ body: '**top**', bodyHtml: '<p><strong>top</strong></p>', editedAt: expect.any(String) });

    expect((await call(node, 'DELETE', `/comments/${top.id}`, author)).status).toBe(403);
    expect((await call(node, 'DELETE', `/comments/${top.id}`, member)).status).toBe(204);
    const afterDelete = await call(node, 'GET', `/posts/${post.id}`, member);
    expect(ids(afterDelete.body.comments)).toEqual([other.id]);
    expect(afterDelete.body.post.commentCount).toBe(1);
    expect((await call(node, 'PATCH', `/comments/${reply.id}`, author, { body: 'x' })).status).toBe(404);

    expect((await call(node, 'DELETE', `/comments/${other.id}`, moderator)).status).toBe(204);
    expect((await call(node, 'GET', `/posts/${post.id}`, member)).body.comments).toEqual([]);
  });
});

describe('reactions', () => {
  it('toggle on posts and comments and answer the reactions list', async () => {
    const { author, member, outsider, post } = await world();
    const first = await call(node, 'POST', `/posts/${post.id}/reactions`, member, { emoji: '🎉' });
    expect(first.status).toBe(200);
    // With the post's version after the toggle (each toggle moves it on).
    expect(first.body).toEqual({ reactions: [{ emoji: '🎉', count: 1, userIds: [member.user.id] }], version: post.version + 1 });
    const second = await call(node, 'POST', `/posts/${post.id}/reactions`, author, { emoji: '🎉' });
    expect(second.body.reactions).toEqual([{ emoji: '🎉', count: 2, userIds: [member.user.id, author.user.id] }]);
    expect(second.body.version).toBe(post.version + 2);
    const undone = await call(node, 'POST', `/posts/${post.id}/reactions`, member, { emoji: '🎉' });
    expect(undone.body.reactions).toEqual([{ emoji: '🎉', count: 1, userIds: [author.user.id] }]);
    expect((await call(node, 'POST', `/posts/${post.id}/reactions`, outsider, { emoji: '🎉' })).status).toBe(403);

    const comment = await commentAs(node, author, post.id, 'react to me');
    const onComment = await call(node, 'POST', `/comments/${comment.id}/reactions`, member, { emoji: '❤️' });
    expect(onComment.body).toEqual({ reactions: [{ emoji: '❤️', count: 1, userIds: [member.user.id] }], version: comment.version + 1 });
    const detail = await call(node, 'GET', `/posts/${post.id}`, member);
    expect(detail.body.post).toMatchObject({ reactions: [{ emoji: '🎉', count: 1, userIds: [author.user.id] }], version: post.version + 3 });
    expect(detail.body.comments[0]).toMatchObject({ reactions: [{ emoji: '❤️', count: 1, userIds: [member.user.id] }], version: comment.version + 1 });
  });

  it('refuses what is not an emoji', async () => {
    const { member, post } = await world();
    for (const emoji of ['', '<b>', 'two words', 'x'.repeat(33)]) {
      expect((await call(node, 'POST', `/posts/${post.id}/reactions`, member, { emoji })).status).toBe(400);
    }
  });
});

describe('polls', () => {
  it('one vote per member, changeable; counts and myVote follow', async () => {
    const { author, member, outsider, communityId } = await world();
    const poll = await postAs(node, author, communityId, { body: 'Pick', kind: 'poll', poll: { question: 'Which?', options: ['a', 'b', 'c'] } });
    const voted = await call(node, 'POST', `/posts/${poll.id}/poll/vote`, member, { option: 1 });
    expect(voted.status).toBe(200);
    expect(voted.body.post.poll).toEqual({
      question: 'Which?',
      options: [
        { text: 'a', votes: 0 },
        { text: 'b', votes: 1 },
        { text: 'c', votes: 0 },
      ],
      myVote: 1,
    });
    await call(node, 'POST', `/posts/${poll.id}/poll/vote`, author, { option: 1 });
    const moved = await call(node, 'POST', `/posts/${poll.id}/poll/vote`, member, { option: 2 });
    expect(moved.body.post.poll.options.map((o: { votes: number }) => o.votes)).toEqual([0, 1, 1]);
    expect(moved.body.post.poll.myVote).toBe(2);
    expect((await call(node, 'GET', `/posts/${poll.id}`, author)).body.post.poll.myVote).toBe(1);

    expect((await call(node, 'POST', `/posts/${poll.id}/poll/vote`, member, { option: 3 })).status).toBe(400);
    expect((await call(node, 'POST', `/posts/${poll.id}/poll/vote`, outsider, { option: 0 })).status).toBe(403);
    const text = await postAs(node, author, communityId, 'no poll here');
    expect((await call(node, 'POST', `/posts/${text.id}/poll/vote`, member, { option: 0 })).status).toBe(409);
  });
});
