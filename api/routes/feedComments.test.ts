import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommentDto } from '../../contracts/feed.ts';
import { registerUsers, type TestUser } from '../../test/communityFactories.ts';
import { api } from '../../test/factories.ts';
import { commentAs, feedCommunity, postAs } from '../../test/feedFactories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());

const call = (user: TestUser | null, method: string, path: string, body?: unknown) =>
  api(node.url, method, `/api/v1${path}`, { token: user?.accessToken, body });

async function world() {
  const [moderator, author, member, outsider] = await registerUsers(node.url, 4);
  const communityId = await feedCommunity(node, [{ user: moderator, role: 'moderator' }, { user: author }, { user: member }]);
  const post = await postAs(node, author, communityId, 'Discuss');
  return { moderator, author, member, outsider, communityId, post };
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

    const detail = await call(member, 'GET', `/posts/${post.id}`);
    expect(ids(detail.body.comments)).toEqual([top.id, reply.id, nested.id]);
    expect(detail.body.post.commentCount).toBe(3);
    expect(detail.body.nextCommentsCursor).toBeNull();
  });

  it('a reply must answer a comment on the same post', async () => {
    const { member, communityId, post, author } = await world();
    const elsewhere = await postAs(node, author, communityId, 'Another');
    const foreign = await commentAs(node, member, elsewhere.id, 'there');
    const res = await call(member, 'POST', `/posts/${post.id}/comments`, { body: 'here', parentId: foreign.id });
    expect(res.status).toBe(404);
    expect((await call(member, 'POST', `/posts/${post.id}/comments`, { body: 'here', parentId: crypto.randomUUID() })).status).toBe(404);
  });

  it('pages through many comments without repeats', async () => {
    const { member, post } = await world();
    const written: string[] = [];
    for (let i = 0; i < 7; i++) written.push((await commentAs(node, member, post.id, `comment ${i}`)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=3${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await call(member, 'GET', `/posts/${post.id}/comments${query}`);
      expect(res.status).toBe(200);
      seen.push(...ids(res.body.data));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(written);
  });

  it('only members comment; only the author edits; the author or a moderator deletes (replies go with a top-level comment)', async () => {
    const { moderator, author, member, outsider, post } = await world();
    expect((await call(outsider, 'POST', `/posts/${post.id}/comments`, { body: 'hi' })).status).toBe(403);
    const top = await commentAs(node, member, post.id, 'top');
    const reply = await commentAs(node, author, post.id, 'reply', top.id);
    const other = await commentAs(node, author, post.id, 'other');

    expect((await call(author, 'PATCH', `/comments/${top.id}`, { body: 'mine now' })).status).toBe(403);
    expect((await call(moderator, 'PATCH', `/comments/${top.id}`, { body: 'mine now' })).status).toBe(403);
    const edited = await call(member, 'PATCH', `/comments/${top.id}`, { body: '**top**' });
    expect(edited.body.comment).toMatchObject({ body: '**top**', bodyHtml: '<p><strong>top</strong></p>', editedAt: expect.any(String) });

    expect((await call(author, 'DELETE', `/comments/${top.id}`)).status).toBe(403);
    expect((await call(member, 'DELETE', `/comments/${top.id}`)).status).toBe(204);
    const afterDelete = await call(member, 'GET', `/posts/${post.id}`);
    expect(ids(afterDelete.body.comments)).toEqual([other.id]);
    expect(afterDelete.body.post.commentCount).toBe(1);
    expect((await call(author, 'PATCH', `/comments/${reply.id}`, { body: 'x' })).status).toBe(404);

    expect((await call(moderator, 'DELETE', `/comments/${other.id}`)).status).toBe(204);
    expect((await call(member, 'GET', `/posts/${post.id}`)).body.comments).toEqual([]);
  });
});

describe('reactions', () => {
  it('toggle on posts and comments and answer the reactions list', async () => {
    const { author, member, outsider, post } = await world();
    const first = await call(member, 'POST', `/posts/${post.id}/reactions`, { emoji: '🎉' });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ reactions: [{ emoji: '🎉', count: 1, userIds: [member.user.id] }] });
    const second = await call(author, 'POST', `/posts/${post.id}/reactions`, { emoji: '🎉' });
    expect(second.body.reactions).toEqual([{ emoji: '🎉', count: 2, userIds: [member.user.id, author.user.id] }]);
    const undone = await call(member, 'POST', `/posts/${post.id}/reactions`, { emoji: '🎉' });
    expect(undone.body.reactions).toEqual([{ emoji: '🎉', count: 1, userIds: [author.user.id] }]);
    expect((await call(outsider, 'POST', `/posts/${post.id}/reactions`, { emoji: '🎉' })).status).toBe(403);

    const comment = await commentAs(node, author, post.id, 'react to me');
    const onComment = await call(member, 'POST', `/comments/${comment.id}/reactions`, { emoji: '❤️' });
    expect(onComment.body).toEqual({ reactions: [{ emoji: '❤️', count: 1, userIds: [member.user.id] }] });
    const detail = await call(member, 'GET', `/posts/${post.id}`);
    expect(detail.body.post.reactions).toEqual([{ emoji: '🎉', count: 1, userIds: [author.user.id] }]);
    expect(detail.body.comments[0].reactions).toEqual([{ emoji: '❤️', count: 1, userIds: [member.user.id] }]);
  });

  it('refuses what is not an emoji', async () => {
    const { member, post } = await world();
    for (const emoji of ['', '<b>', 'two words', 'x'.repeat(33)]) {
      expect((await call(member, 'POST', `/posts/${post.id}/reactions`, { emoji })).status).toBe(400);
    }
  });
});

describe('polls', () => {
  it('one vote per member, changeable; counts and myVote follow', async () => {
    const { author, member, outsider, communityId } = await world();
    const poll = await postAs(node, author, communityId, { body: 'Pick', kind: 'poll', poll: { question: 'Which?', options: ['a', 'b', 'c'] } });
    const voted = await call(member, 'POST', `/posts/${poll.id}/poll/vote`, { option: 1 });
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
    await call(author, 'POST', `/posts/${poll.id}/poll/vote`, { option: 1 });
    const moved = await call(member, 'POST', `/posts/${poll.id}/poll/vote`, { option: 2 });
    expect(moved.body.post.poll.options.map((o: { votes: number }) => o.votes)).toEqual([0, 1, 1]);
    expect(moved.body.post.poll.myVote).toBe(2);
    expect((await call(author, 'GET', `/posts/${poll.id}`)).body.post.poll.myVote).toBe(1);

    expect((await call(member, 'POST', `/posts/${poll.id}/poll/vote`, { option: 3 })).status).toBe(400);
    expect((await call(outsider, 'POST', `/posts/${poll.id}/poll/vote`, { option: 0 })).status).toBe(403);
    const text = await postAs(node, author, communityId, 'no poll here');
    expect((await call(member, 'POST', `/posts/${text.id}/poll/vote`, { option: 0 })).status).toBe(409);
  });
});
