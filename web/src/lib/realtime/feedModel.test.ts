import { describe, expect, it } from 'vitest';
import type { CommentDto, PostDto } from '$contracts/feed.ts';
import { FeedModel } from './feedModel.ts';

const COMMUNITY = '00000000-0000-4000-8000-000000000001';
const ME = '00000000-0000-4000-8000-0000000000aa';
const OTHER = '00000000-0000-4000-8000-0000000000bb';
const id = (n: number) => `00000000-0000-4000-8000-1000000000${String(n).padStart(2, '0')}`;
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute)).toISOString();

function post(n: number, extra: Partial<PostDto> = {}): PostDto {
  return {
    id: id(n),
    communityId: COMMUNITY,
    author: { id: OTHER, displayName: 'Other' },
    kind: 'text',
    body: `post ${n}`,
    bodyHtml: `<p>post ${n}</p>`,
    linkUrl: null,
    poll: null,
    pinned: false,
    commentCount: 0,
    reactions: [],
    createdAt: at(n),
    editedAt: null,
    hidden: false,
    version: 1,
    ...extra,
  };
}

function comment(n: number, postN: number, extra: Partial<CommentDto> = {}): CommentDto {
  return {
    id: id(50 + n),
    postId: id(postN),
    parentId: null,
    author: { id: OTHER, displayName: 'Other' },
    body: `comment ${n}`,
    bodyHtml: `<p>comment ${n}</p>`,
    reactions: [],
    createdAt: at(n),
    editedAt: null,
    hidden: false,
    version: 1,
    ...extra,
  };
}

const ids = (posts: PostDto[]) => posts.map((p) => p.body);

function community(...posts: PostDto[]) {
  const model = new FeedModel({ mode: 'community', myId: ME });
  model.reset({ data: posts, nextCursor: 'next' });
  return model;
}

describe('FeedModel: new posts wait behind the banner', () => {
  it('holds posts by others until revealed, then puts them on top below pinned posts, newest first', () => {
    const model = community(post(1, { pinned: true }), post(3), post(2));
    expect(ids(model.posts)).toEqual(['post 1', 'post 3', 'post 2']);

    expect(model.postCreated(post(4))).toBe('incoming');
    expect(model.postCreated(post(5))).toBe('incoming');
    // What the reader is looking at does not move.
    expect(ids(model.posts)).toEqual(['post 1', 'post 3', 'post 2']);
    expect(ids(model.incoming)).toEqual(['post 5', 'post 4']);

    const revealed = model.reveal();
    expect(ids(revealed)).toEqual(['post 5', 'post 4']);
    expect(ids(model.posts)).toEqual(['post 1', 'post 5', 'post 4', 'post 3', 'post 2']);
    expect(model.incoming).toEqual([]);
  });

  it("shows the reader's own posts at once, whether the API's answer or the event comes first", () => {
    const model = community(post(1));
    const mine = post(2, { author: { id: ME, displayName: 'Me' } });
    expect(model.postCreated(mine)).toBe('shown');
    model.addMine(mine);
    expect(ids(model.posts)).toEqual(['post 2', 'post 1']);

    const other = community(post(1));
    other.addMine(mine);
    expect(other.postCreated(mine)).toBe('ignored');
    expect(ids(other.posts)).toEqual(['post 2', 'post 1']);
    expect(other.incoming).toEqual([]);
  });

  it('ignores a repeated created event and one for a post already deleted', () => {
    const model = community(post(1));
    model.postCreated(post(2));
    expect(model.postCreated(post(2))).toBe('ignored');
    expect(model.incoming).toHaveLength(1);

    model.postDeleted(id(3));
    expect(model.postCreated(post(3))).toBe('ignored');
    expect(ids(model.incoming)).toEqual(['post 2']);
  });

  it('applies edits and deletions to waiting posts too (the banner count follows)', () => {
    const model = community(post(1));
    model.postCreated(post(2));
    model.postCreated(post(3));
    model.postUpdated(post(2, { body: 'edited', version: 2 }), { fromEvent: true });
    model.postDeleted(id(3));
    expect(ids(model.incoming)).toEqual(['edited']);
  });
});

describe('FeedModel: pages', () => {
  it('appends later pages without repeating posts already on the page', () => {
    const model = community(post(9), post(8));
    model.postCreated(post(10));
    model.appendPage({ data: [post(8), post(7), post(10)], nextCursor: null });
    expect(ids(model.posts)).toEqual(['post 9', 'post 8', 'post 7']);
    expect(ids(model.incoming)).toEqual(['post 10']);
    expect(model.nextCursor).toBeNull();
  });

  it('keeps deleted posts out of pages read before the deletion', () => {
    const model = community(post(9));
    model.postDeleted(id(8));
    model.appendPage({ data: [post(8), post(7)], nextCursor: null });
    expect(ids(model.posts)).toEqual(['post 9', 'post 7']);
  });

  it('after a reconnect: updates what it has, queues what it missed, drops what was deleted in the covered range', () => {
    const model = community(post(5), post(4), post(3), post(2));
    model.refreshHead({ data: [post(6), post(5, { body: 'five, edited' }), post(3)], nextCursor: 'more' });
    expect(ids(model.incoming)).toEqual(['post 6']);
    // Post 4 is newer than the page's oldest post and missing from it: gone. Post 2 is older than the page: kept.
    expect(ids(model.posts)).toEqual(['five, edited', 'post 3', 'post 2']);
  });

  it("after a reconnect, the home feed only announces posts newer than the reader's (ranking moves older ones up)", () => {
    const model = new FeedModel({ mode: 'home', myId: ME });
    model.reset({ data: [post(5), post(4)], nextCursor: 'more' });
    model.refreshHead({ data: [post(6), post(2), post(5)], nextCursor: 'more' });
    expect(ids(model.incoming)).toEqual(['post 6']);
    expect(ids(model.posts)).toEqual(['post 5', 'post 4']);
  });

  it('keeps posts that arrived after the catch-up request went out', () => {
    const model = community(post(2), post(1));
    const before = model.knownIds();
    model.postCreated(post(3));
    model.refreshHead({ data: [post(2), post(1)], nextCursor: null }, before);
    expect(ids(model.incoming)).toEqual(['post 3']);
  });

  it('moves a post to the top when pinned and back among the others when unpinned', () => {
    const model = community(post(3), post(2), post(1));
    model.postUpdated(post(1, { pinned: true, version: 2 }), { fromEvent: true });
    expect(ids(model.posts)).toEqual(['post 1', 'post 3', 'post 2']);
    model.postUpdated(post(1, { pinned: false, version: 3 }), { fromEvent: true });
    expect(ids(model.posts)).toEqual(['post 3', 'post 2', 'post 1']);
  });

  it("keeps the home feed's ranking and puts revealed posts on top", () => {
    const model = new FeedModel({ mode: 'home', myId: ME });
    model.reset({ data: [post(1), post(3), post(2)], nextCursor: null });
    model.postCreated(post(4));
    model.reveal();
    expect(ids(model.posts)).toEqual(['post 4', 'post 1', 'post 3', 'post 2']);
  });
});

describe('FeedModel: polls, comments and reactions', () => {
  it("keeps the reader's own vote when a broadcast update arrives", () => {
    const poll = { question: 'Q', options: [{ text: 'a', votes: 1 }, { text: 'b', votes: 0 }], myVote: 0 };
    const model = community(post(1, { kind: 'poll', poll }));
    const counted = { ...poll, options: [{ text: 'a', votes: 1 }, { text: 'b', votes: 1 }], myVote: null };
    model.postUpdated(post(1, { kind: 'poll', poll: counted, version: 2 }), { fromEvent: true });
    expect(model.posts[0]?.poll).toEqual({ question: 'Q', options: [{ text: 'a', votes: 1 }, { text: 'b', votes: 1 }], myVote: 0 });
    model.postUpdated(post(1, { kind: 'poll', poll: { ...poll, myVote: 1 }, version: 3 }), { fromEvent: false });
    expect(model.posts[0]?.poll?.myVote).toBe(1);
  });

  it('counts each new comment once, whether it arrives as the answer, the event or both', () => {
    const model = community(post(1, { commentCount: 2 }));
    expect(model.commentCreated(comment(1, 1))).toBe(true);
    expect(model.commentCreated(comment(1, 1))).toBe(false);
    expect(model.posts[0]?.commentCount).toBe(3);
    expect(model.comments(id(1)).map((c) => c.body)).toEqual(['comment 1']);
  });

  it('merges loaded comments with ones that arrived while the request was out, oldest first', () => {
    const model = community(post(1, { commentCount: 2 }));
    model.commentCreated(comment(3, 1));
    model.setComments(id(1), [comment(2, 1), comment(1, 1)]);
    expect(model.comments(id(1)).map((c) => c.body)).toEqual(['comment 1', 'comment 2', 'comment 3']);
    expect(model.posts[0]?.commentCount).toBe(3);
    expect(model.commentsLoaded(id(1))).toBe(true);
  });

  it('removes a deleted comment with its replies and never brings it back', () => {
    const model = community(post(1, { commentCount: 3 }));
    model.setComments(id(1), [comment(1, 1), comment(2, 1, { parentId: id(51) }), comment(3, 1)]);
    model.commentDeleted(id(1), id(51));
    expect(model.comments(id(1)).map((c) => c.body)).toEqual(['comment 3']);
    expect(model.posts[0]?.commentCount).toBe(1);
    model.commentCreated(comment(1, 1));
    model.setComments(id(1), [comment(1, 1), comment(3, 1)]);
    expect(model.comments(id(1)).map((c) => c.body)).toEqual(['comment 3']);
  });

  it('applies reactions to posts and comments', () => {
    const model = community(post(1));
    model.setComments(id(1), [comment(1, 1)]);
    const reactions = [{ emoji: '👍', count: 1, userIds: [OTHER] }];
    model.reactionUpdated({ postId: id(1), commentId: null, reactions, version: 2 });
    model.reactionUpdated({ postId: id(1), commentId: id(51), reactions, version: 2 });
    expect(model.posts[0]?.reactions).toEqual(reactions);
    expect(model.comments(id(1))[0]?.reactions).toEqual(reactions);
  });

  it('hides a muted author everywhere, including posts that arrive later', () => {
    const model = community(post(1), post(2, { author: { id: ME, displayName: 'Me' } }));
    model.setComments(id(2), [comment(1, 2)]);
    model.hideAuthor(OTHER);
    expect(ids(model.posts)).toEqual(['post 2']);
    expect(model.comments(id(2))).toEqual([]);
    expect(model.postCreated(post(3))).toBe('ignored');
  });
});

describe('FeedModel: changes to one item apply by its version, not by arrival', () => {
  it('an edit that committed before a hide but arrives after it does not bring the post back', () => {
    const model = community(post(2), post(1));
    // The hide produced version 3; the edit (version 2) was published on another node and is delivered last.
    model.postDeleted(id(1), 3);
    model.postUpdated(post(1, { body: 'edited', version: 2 }), { fromEvent: true });
    expect(model.postCreated(post(1, { body: 'edited', version: 2 }))).toBe('ignored');
    // A page read before the hide does not bring it back either.
    model.appendPage({ data: [post(1, { body: 'edited', version: 2 })], nextCursor: null });
    expect(ids(model.posts)).toEqual(['post 2']);
    expect(model.incoming).toEqual([]);
  });

  it('a hide delivered after the unhide that followed it is ignored', () => {
    const model = community(post(2), post(1));
    // Hidden at 2, unhidden at 3; the unhide arrives first.
    expect(model.postCreated(post(1, { version: 3 }))).toBe('ignored');
    model.postDeleted(id(1), 2);
    expect(ids(model.posts)).toEqual(['post 2', 'post 1']);
  });

  it('an unhide, newer than the hide, brings a removed post back; a repeat of the hide does not take it away again', () => {
    const model = community(post(2), post(1));
    model.postDeleted(id(1), 2);
    expect(ids(model.posts)).toEqual(['post 2']);
    expect(model.postCreated(post(1, { version: 3 }))).toBe('incoming');
    model.postDeleted(id(1), 2);
    expect(ids(model.incoming)).toEqual(['post 1']);
  });

  it('an older edit arriving after a newer one changes nothing; the API answer at the same version still applies', () => {
    const model = community(post(1));
    model.postUpdated(post(1, { body: 'second', version: 3 }), { fromEvent: true });
    model.postUpdated(post(1, { body: 'first', version: 2 }), { fromEvent: true });
    expect(model.posts[0]?.body).toBe('second');
    const poll = { question: 'Q', options: [{ text: 'a', votes: 1 }], myVote: 0 };
    model.postUpdated(post(1, { body: 'second', kind: 'poll', poll, version: 3 }), { fromEvent: false });
    expect(model.posts[0]?.poll?.myVote).toBe(0);
  });

  it("the reader's own deletion is final whatever version arrives later", () => {
    const model = community(post(1));
    model.postDeleted(id(1));
    expect(model.postCreated(post(1, { version: 99 }))).toBe('ignored');
    expect(model.posts).toEqual([]);
  });

  it('reactions apply by the version of their post or comment', () => {
    const model = community(post(1));
    model.setComments(id(1), [comment(1, 1)]);
    const newer = [{ emoji: '🎉', count: 2, userIds: [OTHER, ME] }];
    const older = [{ emoji: '🎉', count: 1, userIds: [OTHER] }];
    model.reactionUpdated({ postId: id(1), commentId: null, reactions: newer, version: 3 });
    model.reactionUpdated({ postId: id(1), commentId: null, reactions: older, version: 2 });
    model.reactionUpdated({ postId: id(1), commentId: id(51), reactions: newer, version: 3 });
    model.reactionUpdated({ postId: id(1), commentId: id(51), reactions: older, version: 2 });
    expect(model.posts[0]?.reactions).toEqual(newer);
    expect(model.posts[0]?.version).toBe(3);
    expect(model.comments(id(1))[0]?.reactions).toEqual(newer);
    // An edit from before the last reaction arrives late: it would take the reactions back.
    model.postUpdated(post(1, { body: 'edited', version: 2 }), { fromEvent: true });
    expect(model.posts[0]?.body).toBe('post 1');
  });

  it('a hidden comment stays gone when an older edit arrives late, and comes back with its replies when unhidden', () => {
    const model = community(post(1, { commentCount: 3 }));
    model.setComments(id(1), [comment(1, 1), comment(2, 1, { parentId: id(51) }), comment(3, 1)]);

    model.commentDeleted(id(1), id(51), 3);
    model.commentUpdated(comment(1, 1, { body: 'edited', version: 2 }));
    expect(model.commentCreated(comment(1, 1, { body: 'edited', version: 2 }))).toBe(false);
    expect(model.comments(id(1)).map((c) => c.body)).toEqual(['comment 3']);
    expect(model.posts[0]?.commentCount).toBe(1);

    // Unhidden: the comment at a version newer than its hide, its reply newer than the copy dropped with it.
    expect(model.commentCreated(comment(1, 1, { version: 4 }))).toBe(true);
    expect(model.commentCreated(comment(2, 1, { parentId: id(51), version: 2 }))).toBe(true);
    // The hide again, delivered late, and the reply's old copy from a page read before: neither counts.
    model.commentDeleted(id(1), id(51), 3);
    expect(model.commentCreated(comment(2, 1, { parentId: id(51), version: 1 }))).toBe(false);
    expect(model.comments(id(1)).map((c) => c.body)).toEqual(['comment 1', 'comment 2', 'comment 3']);
    expect(model.posts[0]?.commentCount).toBe(3);
  });
});
