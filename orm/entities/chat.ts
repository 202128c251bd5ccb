import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { CHANNEL_KINDS, VISIBILITIES } from '../../contracts/communities.ts';
import { User } from './auth.ts';
import { Community } from './communities.ts';

/**
 * Channels and everything that happens in them. `channels.last_seq` is the last allocated per-channel sequence number:
 * events are numbered 1, 2, 3… without gaps, allocated in the transaction that stores them; the uniques carry the
 * guarantees ((channel_id, seq), (author_id, client_id)).
 */

export const Channel = defineEntity({
  name: 'Channel',
  tableName: 'channels',
  uniques: [
    {
      name: 'channels_community_name_unique',
      expression: 'CREATE UNIQUE INDEX channels_community_name_unique ON public.channels USING btree (community_id, lower((name)::text)) WHERE (kind = \'channel\'::text)',
    },
    {
      name: 'channels_dm_key_unique',
      where: 'dm_key IS NOT NULL',
      properties: ['dmKey'],
    },
  ],
  checks: [
    { name: 'channels_last_seq_check', expression: 'last_seq >= 0' },
    {
      name: 'channels_named_in_community',
      expression: '(kind <> \'channel\'::text) OR ((community_id IS NOT NULL) AND (name IS NOT NULL))',
    },
    {
      name: 'channels_slow_mode_seconds_check',
      expression: '(slow_mode_seconds >= 0) AND (slow_mode_seconds <= 21600)',
    },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    community: () => p.manyToOne(Community).deleteRule('cascade').nullable(),
    kind: p.enum(CHANNEL_KINDS).default('channel'),
    name: p.string().length(80).nullable(),
    topic: p.text().default(''),
    visibility: p.enum(VISIBILITIES).default('public'),
    lastSeq: p.bigint('number').defaultRaw(`0`),
    createdBy: () => p.manyToOne(User).nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    archivedAt: p.datetime().nullable(),
    dmKey: p.string().length(80).nullable(),
    slowModeSeconds: p.integer().default(0),
  },
});
export type IChannel = InferEntity<typeof Channel>;

export const ChannelMember = defineEntity({
  name: 'ChannelMember',
  tableName: 'channel_members',
  primaryKeys: ['channel', 'user'],
  properties: {
    channel: () => p.manyToOne(Channel).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade').index('channel_members_user_idx'),
    addedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IChannelMember = InferEntity<typeof ChannelMember>;

export const Message = defineEntity({
  name: 'Message',
  tableName: 'messages',
  indexes: [
    {
      name: 'messages_author_recent_idx',
      properties: ['author', 'createdAt'],
      columns: [{ name: 'author_id' }, { name: 'created_at', sort: 'DESC' }],
    },
    {
      name: 'messages_reply_idx',
      where: 'reply_to_id IS NOT NULL',
      properties: ['replyTo'],
    },
    { name: 'messages_search_idx', properties: ['search'], type: 'gin' },
  ],
  uniques: [
    { name: 'messages_author_client_unique', properties: ['author', 'clientId'] },
    { name: 'messages_channel_seq_unique', properties: ['channel', 'seq'] },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    channel: () => p.manyToOne(Channel).deleteRule('cascade'),
    seq: p.bigint('number'),
    author: () => p.manyToOne(User).deleteRule('cascade'),
    clientId: p.string().length(64),
    body: p.text(),
    replyTo: () => p.manyToOne(Message).nullable(),
    threadCount: p.integer().default(0),
    pinnedAt: p.datetime().nullable(),
    pinnedBy: () => p.manyToOne(User).nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    editedAt: p.datetime().nullable(),
    deletedAt: p.datetime().nullable(),
    search: p.string().columnType('tsvector').generated('to_tsvector(\'simple\'::regconfig, search_fold(body)) stored').nullable(),
    hiddenAt: p.datetime().nullable(),
    hiddenBy: () => p.manyToOne(User).nullable(),
  },
});
export type IMessage = InferEntity<typeof Message>;

export const ChannelEvent = defineEntity({
  name: 'ChannelEvent',
  tableName: 'channel_events',
  primaryKeys: ['channel', 'seq'],
  properties: {
    channel: () => p.manyToOne(Channel).primary().updateRule('no action').deleteRule('cascade'),
    seq: p.bigint('number').primary(),
    type: p.enum(['message:created', 'message:updated', 'message:deleted', 'reaction:updated']).columnType('varchar(32)'),
    message: () => p.manyToOne(Message).deleteRule('cascade'),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IChannelEvent = InferEntity<typeof ChannelEvent>;

export const MessageReaction = defineEntity({
  name: 'MessageReaction',
  tableName: 'message_reactions',
  primaryKeys: ['message', 'user', 'emoji'],
  properties: {
    message: () => p.manyToOne(Message).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    emoji: p.string().primary().length(32),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IMessageReaction = InferEntity<typeof MessageReaction>;

export const MessageMention = defineEntity({
  name: 'MessageMention',
  tableName: 'message_mentions',
  primaryKeys: ['message', 'user'],
  indexes: [
    { name: 'message_mentions_user_idx', properties: ['user', 'channel', 'seq'] },
  ],
  properties: {
    message: () => p.manyToOne(Message).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    channel: () => p.manyToOne(Channel).deleteRule('cascade'),
    seq: p.bigint('number'),
  },
});
export type IMessageMention = InferEntity<typeof MessageMention>;

/**
 * Stored messages that may notify someone (a mention, a thread reply, a direct message) and whose notifications are not
 * made yet: written by the send path in the statement that stores the messages, removed once the notifications exist.
 * The notification module works through them right after the commit on the sending node; its sweep takes over what a
 * node that died left behind (domain/notifications/messageNotices.ts).
 */
export const MessageNotice = defineEntity({
  name: 'MessageNotice',
  tableName: 'message_notices',
  indexes: [{ name: 'message_notices_created_idx', properties: ['createdAt'] }],
  properties: {
    message: () => p.manyToOne(Message).primary().updateRule('no action').deleteRule('cascade'),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    /** Sweeps that tried and failed; one that keeps failing stays, left alone, for a person to look at. */
    attempts: p.smallint().default(0),
  },
});
export type IMessageNotice = InferEntity<typeof MessageNotice>;

export const ChannelReadState = defineEntity({
  name: 'ChannelReadState',
  tableName: 'channel_read_states',
  primaryKeys: ['channel', 'user'],
  properties: {
    channel: () => p.manyToOne(Channel).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    lastReadSeq: p.bigint('number').defaultRaw(`0`),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IChannelReadState = InferEntity<typeof ChannelReadState>;
