import { z } from 'zod';
import type { Ack } from './errors.ts';
import { MessageDto } from './chat.ts';
import { UserRef } from './communities.ts';
import type { CommunityIdInput } from './feed.ts';
import { REPORT_REASONS } from './values/moderation.ts';

export const REPORT_TARGET_TYPES = ['message', 'post', 'comment', 'user'] as const;
export type ReportTargetType = (typeof REPORT_TARGET_TYPES)[number];
export { REPORT_REASONS };
export const CASE_STATUSES = ['open', 'claimed', 'resolved', 'dismissed'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];
export const CASE_ACTIONS = ['dismiss', 'hide', 'delete', 'warn', 'timeout', 'kick', 'ban'] as const;
export type CaseAction = (typeof CASE_ACTIONS)[number];
/** Everything the audit log records (case actions plus direct ones). */
export const AUDIT_ACTIONS = [
  ...CASE_ACTIONS,
  'claim',
  'unban',
  'suspend',
  'unsuspend',
  'settings',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];
/** Members who joined less recently than this are "new" for the link limit. */
export const NEW_MEMBER_DAYS = 3;
export const TIMEOUT_MAX_MINUTES = 28 * 24 * 60;
/** A ban with `hideRecentMessages` hides the person's messages from this many hours back. */
export const BAN_HIDE_MESSAGES_HOURS = 24;
/** A kick keeps the person out this long unless `minutes` says otherwise. */
export const KICK_DEFAULT_REJOIN_MINUTES = 60;

const reasonText = z.string().trim().min(1, 'Give a reason.').max(500);

export const CreateReportInput = z
  .strictObject({
    targetType: z.enum(REPORT_TARGET_TYPES),
    targetId: z.uuid(),
    reason: z.enum(REPORT_REASONS),
    note: z.string().trim().max(1000).optional(),
    /** Required when reporting a user: the community whose moderators should look. */
    communityId: z.uuid().optional(),
  })
  .refine((v) => v.targetType !== 'user' || v.communityId, { message: 'Reporting a person needs communityId.', path: ['communityId'] })
  .describe('CreateReportInput');
export type CreateReportInput = z.infer<typeof CreateReportInput>;

/** A report as its reporter sees it (who else reported the same thing is not theirs to know). */
export const ReportDto = z
  .object({
    targetType: z.enum(REPORT_TARGET_TYPES),
    targetId: z.uuid(),
    communityId: z.uuid(),
    reason: z.enum(REPORT_REASONS),
    note: z.string().nullable(),
    createdAt: z.iso.datetime(),
  })
  .describe('Report');
export type ReportDto = z.infer<typeof ReportDto>;
export const ReportEnvelope = z.object({ report: ReportDto }).describe('ReportEnvelope');
export type ReportEnvelope = z.infer<typeof ReportEnvelope>;

export const CasesQuery = z.strictObject({
  status: z.enum(CASE_STATUSES).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export const CaseActionInput = z
  .strictObject({
    action: z.enum(CASE_ACTIONS),
    reason: reasonText,
    /** timeout: required (1 … 28 days); kick: how long rejoining is refused (default KICK_DEFAULT_REJOIN_MINUTES). */
    minutes: z.number().int().min(1).max(TIMEOUT_MAX_MINUTES).optional(),
    /**
     * ban only: also hide the person's messages of the last BAN_HIDE_MESSAGES_HOURS in the community's channels (as a
     * moderator's hide does, in the same transaction). Off unless asked for.
     */
    hideRecentMessages: z.boolean().optional(),
  })
  .refine((v) => v.action !== 'timeout' || v.minutes !== undefined, { message: 'A timeout needs minutes.', path: ['minutes'] })
  .refine((v) => !v.hideRecentMessages || v.action === 'ban', {
    message: 'Only a ban can also hide recent messages.',
    path: ['hideRecentMessages'],
  })
  .describe('CaseActionInput');
export type CaseActionInput = z.infer<typeof CaseActionInput>;

export const BanInput = z
  .strictObject({
    userId: z.uuid(),
    reason: reasonText,
    /** Also hide their messages of the last BAN_HIDE_MESSAGES_HOURS in the community's channels (off unless asked). */
    hideRecentMessages: z.boolean().optional(),
  })
  .describe('BanInput');
export const SuspendInput = z.strictObject({ reason: reasonText }).describe('SuspendInput');

export const ModerationSettingsInput = z
  .strictObject({
    wordFilter: z
      .strictObject({
        words: z.array(z.string().trim().min(1).max(64)).max(500),
        mode: z.enum(['block', 'flag']),
      })
      .optional(),
    /** Seconds between messages per member, by channel id; 0 turns slow mode off. Moderators are exempt. */
    slowMode: z.record(z.uuid(), z.number().int().min(0).max(21_600)).optional(),
    /** Most links a member who joined less than NEW_MEMBER_DAYS ago may put in one message, post or comment; null: no limit. */
    newMemberLinkLimit: z.number().int().min(0).max(50).nullable().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'Change at least one setting.')
  .describe('ModerationSettingsInput');
export type ModerationSettingsInput = z.infer<typeof ModerationSettingsInput>;

export const ModerationSettingsDto = z
  .object({
    communityId: z.uuid(),
    wordFilter: z.object({ words: z.array(z.string()), mode: z.enum(['block', 'flag']) }),
    slowMode: z.record(z.string(), z.number().int()),
    newMemberLinkLimit: z.number().int().nullable(),
  })
  .describe('ModerationSettings');
export type ModerationSettingsDto = z.infer<typeof ModerationSettingsDto>;
export const ModerationSettingsEnvelope = z.object({ settings: ModerationSettingsDto }).describe('ModerationSettingsEnvelope');
export type ModerationSettingsEnvelope = z.infer<typeof ModerationSettingsEnvelope>;

/** What was reported, as the moderator sees it (hidden and deleted content included, marked). */
export const CaseTargetDto = z.object({
  type: z.enum(REPORT_TARGET_TYPES),
  id: z.uuid(),
  author: UserRef.nullable(),
  /** Text of the message, post or comment (empty for users). */
  body: z.string(),
  channelId: z.uuid().nullable(),
  postId: z.uuid().nullable(),
  hidden: z.boolean(),
  deleted: z.boolean(),
  createdAt: z.iso.datetime().nullable(),
});

export const CaseDto = z
  .object({
    id: z.uuid(),
    communityId: z.uuid(),
    target: CaseTargetDto,
    status: z.enum(CASE_STATUSES),
    /** Reports merged into this case. */
    reportCount: z.number().int(),
    reasons: z.record(z.string(), z.number().int()),
    claimedBy: UserRef.nullable(),
    claimedAt: z.iso.datetime().nullable(),
    resolution: z.object({ action: z.enum(CASE_ACTIONS), by: UserRef, reason: z.string(), at: z.iso.datetime() }).nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .describe('ModerationCase');
export type CaseDto = z.infer<typeof CaseDto>;
export const CaseEnvelope = z.object({ case: CaseDto }).describe('CaseEnvelope');
export type CaseEnvelope = z.infer<typeof CaseEnvelope>;
export const CasePage = z.object({ data: z.array(CaseDto), nextCursor: z.string().nullable() }).describe('CasePage');
export type CasePage = z.infer<typeof CasePage>;

export const AuditEntryDto = z
  .object({
    id: z.string(),
    communityId: z.uuid().nullable(),
    actor: UserRef,
    action: z.enum(AUDIT_ACTIONS),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    targetUser: UserRef.nullable(),
    caseId: z.uuid().nullable(),
    reason: z.string(),
    before: z.unknown(),
    after: z.unknown(),
    createdAt: z.iso.datetime(),
  })
  .describe('AuditEntry');
export type AuditEntryDto = z.infer<typeof AuditEntryDto>;
export const AuditPage = z.object({ data: z.array(AuditEntryDto), nextCursor: z.string().nullable() }).describe('AuditPage');
export type AuditPage = z.infer<typeof AuditPage>;

export const CaseDetailDto = CaseDto.extend({
  reports: z.array(z.object({ reporter: UserRef, reason: z.enum(REPORT_REASONS), note: z.string().nullable(), createdAt: z.iso.datetime() })),
  context: z.object({
    /** For messages: up to 5 before and after in the same channel. */
    surrounding: z.array(MessageDto),
    /** The author's latest messages, posts and comments in this community. */
    authorHistory: z.array(z.object({ type: z.enum(['message', 'post', 'comment']), id: z.uuid(), body: z.string(), createdAt: z.iso.datetime() })),
    /** Earlier moderation of the author in this community. */
    priorActions: z.array(AuditEntryDto),
  }),
}).describe('ModerationCaseDetail');
export type CaseDetailDto = z.infer<typeof CaseDetailDto>;
export const CaseDetailEnvelope = z.object({ case: CaseDetailDto }).describe('CaseDetailEnvelope');
export type CaseDetailEnvelope = z.infer<typeof CaseDetailEnvelope>;

export const BanDto = z
  .object({ user: UserRef, reason: z.string(), bannedBy: UserRef.nullable(), createdAt: z.iso.datetime(), expiresAt: z.iso.datetime().nullable() })
  .describe('Ban');
export type BanDto = z.infer<typeof BanDto>;
export const BanEnvelope = z.object({ ban: BanDto }).describe('BanEnvelope');
export type BanEnvelope = z.infer<typeof BanEnvelope>;
export const BanList = z.object({ data: z.array(BanDto) }).describe('BanList');
export type BanList = z.infer<typeof BanList>;

/**
 * A restriction on the caller in one community (`GET /me/restrictions`): a running timeout (no sending, posting,
 * commenting or reacting until `until`) or a ban (a kick's block has an `until`; a ban for good has none).
 */
export const RestrictionDto = z
  .object({
    communityId: z.uuid(),
    communityName: z.string(),
    kind: z.enum(['timeout', 'ban']),
    reason: z.string(),
    until: z.iso.datetime().nullable(),
  })
  .describe('Restriction');
export type RestrictionDto = z.infer<typeof RestrictionDto>;
export const RestrictionList = z.object({ data: z.array(RestrictionDto) }).describe('RestrictionList');
export type RestrictionList = z.infer<typeof RestrictionList>;

/** A platform suspension: every session of the person was revoked. */
export const SuspensionDto = z
  .object({ user: UserRef, reason: z.string(), suspendedAt: z.iso.datetime(), sessionsRevoked: z.number().int() })
  .describe('Suspension');
export type SuspensionDto = z.infer<typeof SuspensionDto>;
export const SuspensionEnvelope = z.object({ suspension: SuspensionDto }).describe('SuspensionEnvelope');
export type SuspensionEnvelope = z.infer<typeof SuspensionEnvelope>;

export interface ModerationServerEvents {
  /** To `rooms.moderation(communityId)`: that community's moderators who subscribed. */
  'moderation:case_created': (kase: CaseDto) => void;
  'moderation:case_updated': (kase: CaseDto) => void;
  /** To the user's room: a moderator warned them. */
  'moderation:warned': (event: { communityId: string; reason: string }) => void;
  /** To the user's room: they cannot send, post, comment or react in the community until `until`. */
  'moderation:timed_out': (event: { communityId: string; until: string; reason: string }) => void;
  /** To the user's room: removed from the community (kick or ban); its channels follow as `channel:removed`. */
  'community:removed': (event: { communityId: string; reason: string; ban: boolean; rejoinAfter: string | null }) => void;
}

export interface ModerationClientEvents {
  'moderation:subscribe': (input: z.input<typeof CommunityIdInput>, ack: Ack<{ communityId: string }>) => void;
  'moderation:unsubscribe': (input: z.input<typeof CommunityIdInput>, ack: Ack<{ communityId: string }>) => void;
}
