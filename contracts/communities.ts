import { z } from 'zod';

export const COMMUNITY_ROLES = ['owner', 'admin', 'moderator', 'member'] as const;
export type CommunityRole = (typeof COMMUNITY_ROLES)[number];
export const VISIBILITIES = ['public', 'private'] as const;

export const UserRef = z
  .object({
    id: z.uuid(),
    displayName: z.string(),
    /** Where their profile picture is (message authors carry it when they have one). */
    avatarUrl: z.string().nullable().optional(),
  })
  .describe('UserRef');
export type UserRef = z.infer<typeof UserRef>;

export const CreateCommunityInput = z
  .strictObject({
    name: z.string().trim().min(3, 'Name needs at least 3 characters.').max(80),
    description: z.string().trim().max(2000).default(''),
    visibility: z.enum(VISIBILITIES),
  })
  .describe('CreateCommunityInput');
export type CreateCommunityInput = z.infer<typeof CreateCommunityInput>;

export const CommunityDto = z
  .object({
    id: z.uuid(),
    slug: z.string(),
    name: z.string(),
    description: z.string(),
    visibility: z.enum(VISIBILITIES),
    memberCount: z.number().int(),
    /** The caller's role, or null when not a member. */
    myRole: z.enum(COMMUNITY_ROLES).nullable(),
    /** The caller is banned (until null) or kicked (until when rejoining opens again); null when free to join. */
    myBan: z.object({ until: z.iso.datetime().nullable(), reason: z.string() }).nullable(),
    createdAt: z.iso.datetime(),
  })
  .describe('Community');
export type CommunityDto = z.infer<typeof CommunityDto>;

export const ListCommunitiesQuery = z.strictObject({
  q: z.string().trim().max(80).optional(),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

export const CommunityEnvelope = z.object({ community: CommunityDto }).describe('CommunityEnvelope');
export type CommunityEnvelope = z.infer<typeof CommunityEnvelope>;
export const CommunityPage = z.object({ data: z.array(CommunityDto), nextCursor: z.string().nullable() }).describe('CommunityPage');
export type CommunityPage = z.infer<typeof CommunityPage>;

export const IdParam = z.strictObject({ id: z.uuid({ message: 'Must be a UUID.' }) });
export const MemberParams = z.strictObject({ id: z.uuid(), userId: z.uuid() });
/** Cursor pagination of plain lists (members, audit log). */
export const PageQuery = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export const InviteCodeParam = z.strictObject({
  code: z.string().min(8).max(32).regex(/^[A-Za-z0-9_-]+$/, 'Not an invite code.'),
});

export const MemberDto = z
  .object({ user: UserRef, role: z.enum(COMMUNITY_ROLES), joinedAt: z.iso.datetime() })
  .describe('Member');
export type MemberDto = z.infer<typeof MemberDto>;
export const MemberEnvelope = z.object({ member: MemberDto }).describe('MemberEnvelope');
export type MemberEnvelope = z.infer<typeof MemberEnvelope>;
export const MemberPage = z.object({ data: z.array(MemberDto), nextCursor: z.string().nullable() }).describe('MemberPage');
export type MemberPage = z.infer<typeof MemberPage>;

export const UpdateMemberInput = z.strictObject({ role: z.enum(COMMUNITY_ROLES) }).describe('UpdateMemberInput');

export const InviteDto = z.object({ code: z.string(), expiresAt: z.iso.datetime() }).describe('Invite');
export type InviteDto = z.infer<typeof InviteDto>;

export const CHANNEL_KINDS = ['channel', 'dm', 'group_dm', 'classroom', 'course'] as const;
export const CHANNEL_NAME = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9_-]{0,79}$/, 'Use lowercase letters, digits, - and _ (up to 80).');

export const CreateChannelInput = z
  .strictObject({
    name: CHANNEL_NAME,
    visibility: z.enum(VISIBILITIES).default('public'),
    topic: z.string().trim().max(500).default(''),
  })
  .describe('CreateChannelInput');
export type CreateChannelInput = z.infer<typeof CreateChannelInput>;

export const UpdateChannelInput = z
  .strictObject({
    name: CHANNEL_NAME.optional(),
    topic: z.string().trim().max(500).optional(),
    archived: z.boolean().optional(),
  })
  .describe('UpdateChannelInput');

export const ChannelDto = z
  .object({
    id: z.uuid(),
    communityId: z.uuid().nullable(),
    kind: z.enum(CHANNEL_KINDS),
    name: z.string().nullable(),
    topic: z.string(),
    visibility: z.enum(VISIBILITIES),
    archived: z.boolean(),
    lastSeq: z.number().int(),
    unreadCount: z.number().int(),
    mentionCount: z.number().int(),
    /** DMs: the other members. Empty for community channels. */
    members: z.array(UserRef),
  })
  .describe('Channel');
export type ChannelDto = z.infer<typeof ChannelDto>;
export const ChannelEnvelope = z.object({ channel: ChannelDto }).describe('ChannelEnvelope');
export type ChannelEnvelope = z.infer<typeof ChannelEnvelope>;
export const ChannelList = z.object({ data: z.array(ChannelDto) }).describe('ChannelList');
export type ChannelList = z.infer<typeof ChannelList>;

export const AddChannelMemberInput = z.strictObject({ userId: z.uuid() }).describe('AddChannelMemberInput');

export const CreateDmInput = z
  .strictObject({ userIds: z.array(z.uuid()).min(1).max(9, 'Group DMs have at most 10 people.') })
  .describe('CreateDmInput');

export const BlockDto = z.object({ user: UserRef, blockedAt: z.iso.datetime() }).describe('Block');
export type BlockDto = z.infer<typeof BlockDto>;
export const BlockList = z.object({ data: z.array(BlockDto) }).describe('BlockList');
export type BlockList = z.infer<typeof BlockList>;
