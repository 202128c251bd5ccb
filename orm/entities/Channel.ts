import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { Community } from './Community.ts';
import { User } from './User.ts';

export const CHANNEL_KINDS = ['channel', 'dm', 'group_dm', 'classroom'] as const;
export const CHANNEL_VISIBILITIES = ['public', 'private'] as const;

/**
 * A place where channel events happen. `lastSeq` is the last allocated per-channel sequence number: events are
 * numbered 1, 2, 3… without gaps, allocated in the transaction that stores them.
 */
export const Channel = defineEntity({
  name: 'Channel',
  tableName: 'channels',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    community: () => p.manyToOne(Community).nullable().deleteRule('cascade'),
    kind: p.enum(CHANNEL_KINDS).default('channel'),
    name: p.string().length(80).nullable(),
    topic: p.text().default(''),
    visibility: p.enum(CHANNEL_VISIBILITIES).default('public'),
    lastSeq: p.bigint('number').default(0),
    createdBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    createdAt: p.datetime().onCreate(() => new Date()),
    archivedAt: p.datetime().nullable(),
    /** 1:1 DMs only: the two user ids, sorted, joined by ':'. */
    dmKey: p.string().length(80).nullable(),
  },
});
export type IChannel = InferEntity<typeof Channel>;

/** Explicit membership: private channels and DMs. Public channels are readable by every community member. */
export const ChannelMember = defineEntity({
  name: 'ChannelMember',
  tableName: 'channel_members',
  properties: {
    channel: () => p.manyToOne(Channel).primary().deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().deleteRule('cascade'),
    addedAt: p.datetime().onCreate(() => new Date()),
  },
});
