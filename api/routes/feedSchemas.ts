import { z } from 'zod';
import { ReactionDto } from '../../contracts/chat.ts';
import { CommentDto, PostDto } from '../../contracts/feed.ts';

/*
 * Response envelopes of the feed routes that contracts/feed.ts does not define (the web client can build them from
 * PostDto and CommentDto). Kept here so routes document them; they belong in contracts/ once the web needs them named.
 */

export const PostEnvelope = z.object({ post: PostDto }).describe('PostEnvelope');
export const CommentEnvelope = z.object({ comment: CommentDto }).describe('CommentEnvelope');
export const PostWithComments = z
  .object({ post: PostDto, comments: z.array(CommentDto), nextCommentsCursor: z.string().nullable() })
  .describe('PostWithComments');
export const CommentPage = z.object({ data: z.array(CommentDto), nextCursor: z.string().nullable() }).describe('CommentPage');
export const ReactionList = z.object({ reactions: z.array(ReactionDto) }).describe('ReactionList');
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
