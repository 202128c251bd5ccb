import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import { User } from './User.ts';

export const COMMUNITY_VISIBILITIES = ['public', 'private'] as const;
export const COMMUNITY_ROLES = ['owner', 'admin', 'moderator', 'member'] as const;

export const Community = defineEntity({
  name: 'Community',
  tableName: 'communities',
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    slug: p.string().length(64).unique(),
    name: p.string().length(80),
    description: p.text().default(''),
    visibility: p.enum(COMMUNITY_VISIBILITIES).default('public'),
    createdBy: () => p.manyToOne(User).nullable().deleteRule('set null'),
    isDemo: p.boolean().default(false),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p.datetime().onCreate(() => new Date()).onUpdate(() => new Date()),
    archivedAt: p.datetime().nullable(),
  },
});
export type ICommunity = InferEntity<typeof Community>;

export const CommunityMember = defineEntity({
  name: 'CommunityMember',
  tableName: 'community_members',
  properties: {
    community: () => p.manyToOne(Community).primary().deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().deleteRule('cascade'),
    role: p.enum(COMMUNITY_ROLES).default('member'),
    joinedAt: p.datetime().onCreate(() => new Date()),
  },
});
