import { z } from 'zod';
import type { Ack } from './errors.ts';
import { ReactionDto } from './chat.ts';
import { UserRef } from './communities.ts';
import { FEED_POLL_MAX_OPTIONS, POST_BODY_MAX } from './values/feed.ts';

export { FEED_POLL_MAX_OPTIONS, POST_BODY_MAX };
export const COMMENT_BODY_MAX = 4_000;
export const POST_KINDS = ['text', 'link', 'poll'] as const;
export type PostKind = (typeof POST_KINDS)[number];

const emoji = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[^\s<>]+$/u, 'Not an emoji.');
/** Markdown subset: paragraphs, line breaks, **bold**, *italic*, `code`, fenced code, - lists, > quotes, http(s) links. */
const postBody = z.string().trim().min(1, 'Write something first.').max(POST_BODY_MAX, `Posts can be at most ${POST_BODY_MAX} characters.`);
const commentBody = z
  .string()
  .trim()
  .min(1, 'Write something first.')
  .max(COMMENT_BODY_MAX, `Comments can be at most ${COMMENT_BODY_MAX} characters.`);

export const FeedPollInput = z.strictObject({
  question: z.string().trim().min(1).max(300),
  options: z.array(z.string().trim().min(1).max(120)).min(2).max(FEED_POLL_MAX_OPTIONS),
});

export const CreatePostInput = z
  .strictObject({
    body: postBody,
    kind: z.enum(POST_KINDS).default('text'),
    /** Required for `link` posts: http(s) only. */
    linkUrl: z.url({ protocol: /^https?$/, message: 'A link must be an http(s) URL.' }).max(2000).optional(),
    /** Required for `poll` posts. */
    poll: FeedPollInput.optional(),
  })
  .refine((v) => v.kind !== 'link' || v.linkUrl, { message: 'A link post needs linkUrl.', path: ['linkUrl'] })
  .refine((v) => v.kind !== 'poll' || v.poll, { message: 'A poll post needs poll.', path: ['poll'] })
  .refine((v) => v.kind === 'poll' || !v.poll, { message: 'Only poll posts carry a poll.', path: ['poll'] })
  .refine((v) => v.kind === 'link' || !v.linkUrl, { message: 'Only link posts carry linkUrl.', path: ['linkUrl'] })
  .describe('CreatePostInput');
export type CreatePostInput = z.infer<typeof CreatePostInput>;

export const UpdatePostInput = z.strictObject({ body: postBody }).describe('UpdatePostInput');
export const PinPostInput = z.strictObject({ pinned: z.boolean() });
export const CreateCommentInput = z
  .strictObject({ body: commentBody, parentId: z.uuid().optional() })
  .describe('CreateCommentInput');
export const UpdateCommentInput = z.strictObject({ body: commentBody });
export const ReactionInput = z.strictObject({ emoji }).describe('ReactionInput');
export const FeedPollVoteInput = z.strictObject({ option: z.number().int().min(0).max(FEED_POLL_MAX_OPTIONS - 1) });
export const FeedQuery = z.strictObject({
  /** Opaque; from the previous page's nextCursor. */
  cursor: z.string().max(500).optional(),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});

export const FeedPollDto = z.object({
  question: z.string(),
  options: z.array(z.object({ text: z.string(), votes: z.number().int() })),
  /** The caller's vote (option index), or null. */
  myVote: z.number().int().nullable(),
});

export const PostDto = z
  .object({
    id: z.uuid(),
    communityId: z.uuid(),
    author: UserRef,
    kind: z.enum(POST_KINDS),
    /** The markdown source (for editing). */
    body: z.string(),
    /** Rendered from the markdown subset on the server; everything else escaped. Safe to insert as HTML. */
    bodyHtml: z.string(),
    linkUrl: z.string().nullable(),
    poll: FeedPollDto.nullable(),
    pinned: z.boolean(),
    commentCount: z.number().int(),
    reactions: z.array(ReactionDto),
    createdAt: z.iso.datetime(),
    editedAt: z.iso.datetime().nullable(),
    /** Moderators only ever see hidden posts (members never receive them); the console marks them. */
    hidden: z.boolean(),
    /**
     * Moved on by every change that live events announce (edit, pin, poll counts, reactions, hide, unhide, delete).
     * Of two copies of a post the higher version is the newer, whichever arrived last.
     */
    version: z.number().int(),
  })
  .describe('Post');
export type PostDto = z.infer<typeof PostDto>;

export const CommentDto = z
  .object({
    id: z.uuid(),
    postId: z.uuid(),
    /** One level of replies: a reply's parent is a top-level comment. */
    parentId: z.uuid().nullable(),
    author: UserRef,
    body: z.string(),
    bodyHtml: z.string(),
    reactions: z.array(ReactionDto),
    createdAt: z.iso.datetime(),
    editedAt: z.iso.datetime().nullable(),
    hidden: z.boolean(),
    /** As a post's version: edits, reactions, hide, unhide and delete move it on. */
    version: z.number().int(),
  })
  .describe('Comment');
export type CommentDto = z.infer<typeof CommentDto>;

export const FeedPage = z.object({ data: z.array(PostDto), nextCursor: z.string().nullable() }).describe('FeedPage');
export type FeedPage = z.infer<typeof FeedPage>;
export const PostEnvelope = z.object({ post: PostDto }).describe('PostEnvelope');
export type PostEnvelope = z.infer<typeof PostEnvelope>;
export const CommentEnvelope = z.object({ comment: CommentDto }).describe('CommentEnvelope');
export type CommentEnvelope = z.infer<typeof CommentEnvelope>;
/** A post with its first comments, oldest first; `nextCommentsCursor` pages the rest (`GET /posts/:id/comments`). */
export const PostWithComments = z
  .object({ post: PostDto, comments: z.array(CommentDto), nextCommentsCursor: z.string().nullable() })
  .describe('PostWithComments');
export type PostWithComments = z.infer<typeof PostWithComments>;
export const CommentPage = z.object({ data: z.array(CommentDto), nextCursor: z.string().nullable() }).describe('CommentPage');
export type CommentPage = z.infer<typeof CommentPage>;
/** A post's or comment's reactions after toggling one, with the version of the post or comment that toggle produced. */
export const ReactionList = z.object({ reactions: z.array(ReactionDto), version: z.number().int() }).describe('ReactionList');
export type ReactionList = z.infer<typeof ReactionList>;

/** Where the caller stands with someone (`GET /users/:id/relationship`), with that person's follower counts. */
export const Relationship = z
  .object({
    userId: z.uuid(),
    following: z.boolean(),
    followsMe: z.boolean(),
    muted: z.boolean(),
    blocked: z.boolean(),
    followerCount: z.number().int(),
    followingCount: z.number().int(),
  })
  .describe('Relationship');
export type Relationship = z.infer<typeof Relationship>;

export const CommunityIdInput = z.strictObject({ communityId: z.uuid() });

/**
 * Every feed event names the version of its post or comment that the change produced (posts and comments carry their
 * own, see PostDto.version). Events of one item may arrive out of order when its changes commit close together on two
 * nodes; clients apply an item's event only when its version is newer than the copy they hold.
 */
export interface FeedServerEvents {
  /** To `rooms.feed(communityId)`: subscribers who may read the community (members never get hidden content). */
  'feed:post_created': (post: PostDto) => void;
  'feed:post_updated': (post: PostDto) => void;
  /** Deleted, or hidden by a moderator: gone for members. `version`: the post's version after that change. */
  'feed:post_deleted': (event: { communityId: string; postId: string; version: number }) => void;
  'feed:comment_created': (comment: CommentDto & { communityId: string }) => void;
  'feed:comment_updated': (comment: CommentDto & { communityId: string }) => void;
  /** `version`: the comment's version after that change. */
  'feed:comment_deleted': (event: { communityId: string; postId: string; commentId: string; version: number }) => void;
  /** `version`: the version of the post (commentId null) or of the comment after the toggle. */
  'feed:reaction_updated': (event: {
    communityId: string;
    postId: string;
    commentId: string | null;
    reactions: ReactionDto[];
    version: number;
  }) => void;
}

export interface FeedClientEvents {
  'feed:subscribe': (input: z.input<typeof CommunityIdInput>, ack: Ack<{ communityId: string }>) => void;
  'feed:unsubscribe': (input: z.input<typeof CommunityIdInput>, ack: Ack<{ communityId: string }>) => void;
}
