import { defineEntity, p, type InferEntity } from '@mikro-orm/core';
import type { AuditAction, CaseAction, REPORT_REASONS } from '../../contracts/moderation.ts';

type ReportReason = (typeof REPORT_REASONS)[number];
import { User } from './auth.ts';
import { Community } from './communities.ts';

/** Moderation: merged cases with their reports, the append-only audit log, bans, time-outs and per-community automod settings. */

export const ModerationCase = defineEntity({
  name: 'ModerationCase',
  tableName: 'moderation_cases',
  indexes: [
    {
      name: 'moderation_cases_queue_idx',
      properties: ['community', 'status', 'updatedAt', 'id'],
      columns: [
        { name: 'community_id' },
        { name: 'status' },
        { name: 'updated_at', sort: 'DESC' },
        { name: 'id' },
      ],
    },
  ],
  uniques: [
    {
      name: 'moderation_cases_active_target_unique',
      where: '(status)::text = ANY ((ARRAY[\'open\'::character varying, \'claimed\'::character varying])::text[])',
      properties: ['community', 'targetType', 'targetId'],
    },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    community: () => p.manyToOne(Community).deleteRule('cascade'),
    targetType: p.enum(['message', 'post', 'comment', 'user']).columnType('varchar(16)'),
    targetId: p.uuid(),
    targetUser: () => p.manyToOne(User).nullable(),
    status: p.enum(['open', 'claimed', 'resolved', 'dismissed']).default('open').columnType('varchar(16)'),
    reportCount: p.integer().default(0),
    automod: p.boolean().default(false),
    automodWords: p.array().columnType('text[]').defaultRaw(`'{}'`),
    claimedBy: () => p.manyToOne(User).nullable(),
    claimedAt: p.datetime().nullable(),
    resolutionAction: p.string().length(16).$type<CaseAction>().nullable(),
    resolvedBy: () => p.manyToOne(User).nullable(),
    resolutionReason: p.text().nullable(),
    resolvedAt: p.datetime().nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IModerationCase = InferEntity<typeof ModerationCase>;

export const Report = defineEntity({
  name: 'Report',
  tableName: 'reports',
  uniques: [
    { name: 'reports_case_reporter_unique', properties: ['case', 'reporter'] },
  ],
  properties: {
    id: p.uuid().primary().onCreate(() => crypto.randomUUID()),
    case: () => p.manyToOne(ModerationCase).deleteRule('cascade'),
    reporter: () => p.manyToOne(User).deleteRule('cascade'),
    reason: p.string().length(32).$type<ReportReason>(),
    note: p.text().nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IReport = InferEntity<typeof Report>;

export const ModerationAuditEntry = defineEntity({
  name: 'ModerationAuditEntry',
  tableName: 'moderation_audit',
  // Append-only: the trigger (and its function, both from the migration) refuses every UPDATE and DELETE.
  triggers: [
    {
      name: 'moderation_audit_no_change',
      timing: 'before',
      events: ['update', 'delete'],
      forEach: 'row',
      expression:
        'create trigger moderation_audit_no_change before update or delete on moderation_audit for each row execute function moderation_audit_append_only()',
    },
  ],
  indexes: [
    { name: 'moderation_audit_community_idx', properties: ['communityId', 'id'] },
    {
      name: 'moderation_audit_target_user_idx',
      properties: ['targetUserId', 'communityId', 'id'],
    },
  ],
  properties: {
    id: p.bigint('number').primary().autoincrement(),
    communityId: p.uuid().nullable(),
    actorId: p.uuid(),
    action: p.string().length(16).$type<AuditAction>(),
    targetType: p.string().length(16).nullable(),
    targetId: p.text().nullable(),
    targetUserId: p.uuid().nullable(),
    caseId: p.uuid().nullable(),
    reason: p.text().default(''),
    before: p.json<Record<string, unknown>>().nullable(),
    after: p.json<Record<string, unknown>>().nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type IModerationAuditEntry = InferEntity<typeof ModerationAuditEntry>;

export const CommunityBan = defineEntity({
  name: 'CommunityBan',
  tableName: 'community_bans',
  primaryKeys: ['community', 'user'],
  properties: {
    community: () => p.manyToOne(Community).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    reason: p.text(),
    bannedBy: () => p.manyToOne(User).nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
    expiresAt: p.datetime().nullable(),
  },
});
export type ICommunityBan = InferEntity<typeof CommunityBan>;

export const CommunityTimeout = defineEntity({
  name: 'CommunityTimeout',
  tableName: 'community_timeouts',
  primaryKeys: ['community', 'user'],
  properties: {
    community: () => p.manyToOne(Community).primary().updateRule('no action').deleteRule('cascade'),
    user: () => p.manyToOne(User).primary().updateRule('no action').deleteRule('cascade'),
    until: p.datetime(),
    reason: p.text(),
    createdBy: () => p.manyToOne(User).nullable(),
    createdAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type ICommunityTimeout = InferEntity<typeof CommunityTimeout>;

export const CommunityModerationSettings = defineEntity({
  name: 'CommunityModerationSettings',
  tableName: 'community_moderation_settings',
  checks: [
    {
      name: 'community_moderation_settings_new_member_link_limit_check',
      expression: '(new_member_link_limit IS NULL) OR (new_member_link_limit >= 0)',
    },
  ],
  properties: {
    community: () => p.oneToOne(Community).owner().primary().updateRule('no action').deleteRule('cascade'),
    wordFilterWords: p.array().columnType('text[]').defaultRaw(`'{}'`),
    wordFilterMode: p.enum(['block', 'flag']).default('flag').columnType('varchar(8)'),
    newMemberLinkLimit: p.integer().nullable(),
    updatedAt: p.datetime().defaultRaw(`now()`).onCreate(() => new Date()),
  },
});
export type ICommunityModerationSettings = InferEntity<typeof CommunityModerationSettings>;
