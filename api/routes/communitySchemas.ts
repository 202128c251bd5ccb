import { z } from 'zod';
import { ChannelDto, CommunityDto, MemberDto, UserRef } from '../../contracts/communities.ts';

/*
 * Envelopes and parameters that contracts/communities.ts does not define yet. They belong there (the web client
 * needs them too); kept here meanwhile so routes validate and document them.
 */

export const CommunityEnvelope = z.object({ community: CommunityDto }).describe('CommunityEnvelope');
export const CommunityPage = z.object({ data: z.array(CommunityDto), nextCursor: z.string().nullable() }).describe('CommunityPage');
export const MemberEnvelope = z.object({ member: MemberDto }).describe('MemberEnvelope');
export const MemberPage = z.object({ data: z.array(MemberDto), nextCursor: z.string().nullable() }).describe('MemberPage');
export const ChannelEnvelope = z.object({ channel: ChannelDto }).describe('ChannelEnvelope');
export const ChannelList = z.object({ data: z.array(ChannelDto) }).describe('ChannelList');
export const BlockDto = z.object({ user: UserRef, blockedAt: z.iso.datetime() }).describe('Block');
export const BlockList = z.object({ data: z.array(BlockDto) }).describe('BlockList');

export const PageQuery = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});
export const InviteCodeParam = z.strictObject({
  code: z.string().min(8).max(32).regex(/^[A-Za-z0-9_-]+$/, 'Not an invite code.'),
});
