import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { COMMUNITY_ROLES, VISIBILITIES } from '../../contracts/communities.ts';
import { User } from './auth.ts';

/** Communities, their members (with roles) and invites, and blocks between people. */

export const Community = defineEntity({
  name: 'Community',
  tableName: 'communities',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    slug: p.string().length(64).unique('communities_slug_unique'),
    name: p.string().length(80),
    description: p.text().default(''),
    visibility: p.enum(VISIBILITIES).default('public'),
    createdBy: () => p.manyToOne(User).nullable(),
    isDemo: p.boolean().default(false),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    archivedAt: p.datetime().nullable(),
  },
});
export type ICommunity = InferEntity<typeof Community>;

export const CommunityMember = defineEntity({
  name: 'CommunityMember',
  tableName: 'community_members',
  primaryKeys: ['community', 'user'],
  properties: {
    community: () => p.manyToOne(Community).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade').index('community_members_user_idx'),
    role: p.enum(COMMUNITY_ROLES).default('member'),
    joinedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type ICommunityMember = InferEntity<typeof CommunityMember>;

export const CommunityInvite = defineEntity({
  name: 'CommunityInvite',
  tableName: 'community_invites',
  properties: {
    code: p.string().primary().length(32),
    community: () => p.manyToOne(Community).deleteRule('cascade'),
    createdBy: () => p.manyToOne(User).nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    expiresAt: p.datetime(),
    uses: p.integer().default(0),
    maxUses: p.integer().default(100),
  },
});
export type ICommunityInvite = InferEntity<typeof CommunityInvite>;

export const UserBlock = defineEntity({
  name: 'UserBlock',
  tableName: 'user_blocks',
  primaryKeys: ['blocker', 'blocked'],
  checks: [
    { name: 'user_blocks_not_self', expression: 'blocker_id <> blocked_id' },
  ],
  properties: {
    blocker: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    blocked: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade').index('user_blocks_blocked_idx'),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IUserBlock = InferEntity<typeof UserBlock>;
