import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from './auth.ts';
import { Community } from './communities.ts';

/** The community feed: posts (text, link, poll), comments with one level of replies, reactions, follows and mutes. */

export const Post = defineEntity({
  name: 'Post',
  tableName: 'posts',
  indexes: [
    {
      name: 'posts_author_recent_idx',
      where: 'deleted_at IS NULL',
      properties: ['author', 'createdAt'],
      columns: [{ name: 'author_id' }, { name: 'created_at', sort: 'DESC' }],
    },
    {
      name: 'posts_community_recent_idx',
      where: 'deleted_at IS NULL',
      properties: ['community', 'createdAt', 'id'],
      columns: [
        { name: 'community_id' },
        { name: 'created_at', sort: 'DESC' },
        { name: 'id' },
      ],
    },
  ],
  checks: [
    {
      name: 'posts_check',
      expression: '(kind = \'poll\'::text) = (poll_options IS NOT NULL)',
    },
    {
      name: 'posts_check1',
      expression: '(kind = \'link\'::text) = (link_url IS NOT NULL)',
    },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    community: () => p.manyToOne(Community).deleteRule('cascade'),
    author: () => p.manyToOne(User).deleteRule('cascade'),
    kind: p.enum(['text', 'link', 'poll']).columnType('varchar(8)'),
    body: p.text(),
    linkUrl: p.text().nullable(),
    pollQuestion: p.string().length(300).nullable(),
    pollOptions: p.json<string[]>().nullable(),
    pinnedAt: p.datetime().nullable(),
    pinnedBy: () => p.manyToOne(User).nullable(),
    commentCount: p.integer().default(0),
    reactionCount: p.integer().default(0),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    editedAt: p.datetime().nullable(),
    deletedAt: p.datetime().nullable(),
    hiddenAt: p.datetime().nullable(),
    hiddenBy: () => p.manyToOne(User).nullable(),
    /** Moved on by every change the live feed announces (domain/feed/versions.ts); clients keep the newest. */
    version: p.integer().default(1),
  },
});
export type IPost = InferEntity<typeof Post>;

export const PostPollVote = defineEntity({
  name: 'PostPollVote',
  tableName: 'post_poll_votes',
  primaryKeys: ['post', 'user'],
  checks: [{ name: 'post_poll_votes_option_check', expression: 'option >= 0' }],
  properties: {
    post: () => p.manyToOne(Post).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    option: p.integer(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IPostPollVote = InferEntity<typeof PostPollVote>;

export const Comment = defineEntity({
  name: 'Comment',
  tableName: 'comments',
  indexes: [
    {
      name: 'comments_author_idx',
      properties: ['author', 'createdAt'],
      columns: [{ name: 'author_id' }, { name: 'created_at', sort: 'DESC' }],
    },
    { name: 'comments_post_idx', properties: ['post', 'createdAt', 'id'] },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    post: () => p.manyToOne(Post).deleteRule('cascade'),
    community: () => p.manyToOne(Community).deleteRule('cascade'),
    parent: () => p.manyToOne(Comment).deleteRule('cascade').nullable(),
    author: () => p.manyToOne(User).deleteRule('cascade'),
    body: p.text(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    editedAt: p.datetime().nullable(),
    deletedAt: p.datetime().nullable(),
    hiddenAt: p.datetime().nullable(),
    hiddenBy: () => p.manyToOne(User).nullable(),
    /** As a post's version. */
    version: p.integer().default(1),
  },
});
export type IComment = InferEntity<typeof Comment>;

export const PostReaction = defineEntity({
  name: 'PostReaction',
  tableName: 'post_reactions',
  primaryKeys: ['post', 'user', 'emoji'],
  properties: {
    post: () => p.manyToOne(Post).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    emoji: p.string().primary().length(32),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IPostReaction = InferEntity<typeof PostReaction>;

export const CommentReaction = defineEntity({
  name: 'CommentReaction',
  tableName: 'comment_reactions',
  primaryKeys: ['comment', 'user', 'emoji'],
  properties: {
    comment: () => p.manyToOne(Comment).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    emoji: p.string().primary().length(32),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type ICommentReaction = InferEntity<typeof CommentReaction>;

export const UserFollow = defineEntity({
  name: 'UserFollow',
  tableName: 'user_follows',
  primaryKeys: ['follower', 'followee'],
  checks: [
    { name: 'user_follows_check', expression: 'follower_id <> followee_id' },
  ],
  properties: {
    follower: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    followee: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade').index('user_follows_followee_idx'),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IUserFollow = InferEntity<typeof UserFollow>;

export const UserMute = defineEntity({
  name: 'UserMute',
  tableName: 'user_mutes',
  primaryKeys: ['muter', 'muted'],
  checks: [{ name: 'user_mutes_check', expression: 'muter_id <> muted_id' }],
  properties: {
    muter: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    muted: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IUserMute = InferEntity<typeof UserMute>;
