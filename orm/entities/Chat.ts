import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { Channel } from './Channel.ts';
import { Community } from './Community.ts';
import { User } from './User.ts';

/**
 * Chat rows are written with explicit SQL in domain/chat (seq allocation and batching need it); these definitions
 * keep the schema visible to the ORM for reads and for tests.
 */
export const Message = defineEntity({
  name: 'Message',
  tableName: 'messages',
  properties: {
    id: p.uuid().primary(),
    channel: () => p.manyToOne(Channel).deleteRule('cascade'),
    seq: p.bigint('number'),
    author: () => p.manyToOne(User).deleteRule('cascade'),
    clientId: p.string().length(64),
    body: p.text(),
    replyTo: () => p.manyToOne(Message).nullable().deleteRule('set null'),
    threadCount: p.integer().default(0),
    pinnedAt: p.datetime().nullable(),
    pinnedBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    createdAt: p.datetime().onCreate(() => new Date()),
    editedAt: p.datetime().nullable(),
    deletedAt: p.datetime().nullable(),
  },
});
export type IMessage = InferEntity<typeof Message>;

export const CommunityInvite = defineEntity({
  name: 'CommunityInvite',
  tableName: 'community_invites',
  properties: {
    code: p.string().length(32).primary(),
    community: () => p.manyToOne(Community).deleteRule('cascade'),
    createdBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    createdAt: p.datetime().onCreate(() => new Date()),
    expiresAt: p.datetime(),
    uses: p.integer().default(0),
    maxUses: p.integer().default(100),
  },
});

export const UserBlock = defineEntity({
  name: 'UserBlock',
  tableName: 'user_blocks',
  properties: {
    blocker: () => p.manyToOne(User).primary().deleteRule('cascade'),
    blocked: () => p.manyToOne(User).primary().deleteRule('cascade'),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
});

export const ChannelReadState = defineEntity({
  name: 'ChannelReadState',
  tableName: 'channel_read_states',
  properties: {
    channel: () => p.manyToOne(Channel).primary().deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().deleteRule('cascade'),
    lastReadSeq: p.bigint('number').default(0),
    updatedAt: p.datetime().onCreate(() => new Date()),
  },
});
