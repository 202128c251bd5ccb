import type { ChannelDto, CommunityDto, CommunityRole, MemberDto, UserRef } from '../../contracts/communities.ts';

/** PostgreSQL hands back bigint/count as strings and timestamps as Date (or text, depending on the path). */
type Num = string | number;
type Time = Date | string;
const iso = (t: Time) => new Date(t).toISOString();

export interface CommunityRow {
  id: string;
  slug: string;
  name: string;
  description: string;
  visibility: 'public' | 'private';
  created_at: Time;
  member_count: Num;
  my_role: CommunityRole | null;
  my_ban_until: Time | null;
  my_ban_reason: string | null;
}

export function presentCommunity(row: CommunityRow): CommunityDto {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    description: row.description,
    visibility: row.visibility,
    memberCount: Number(row.member_count),
    myRole: row.my_role,
    myBan: row.my_ban_reason === null ? null : { until: row.my_ban_until === null ? null : iso(row.my_ban_until), reason: row.my_ban_reason },
    createdAt: iso(row.created_at),
  };
}

export interface MemberRow {
  user_id: string;
  display_name: string;
  role: CommunityRole;
  joined_at: Time;
}

export function presentMember(row: MemberRow): MemberDto {
  return { user: { id: row.user_id, displayName: row.display_name }, role: row.role, joinedAt: iso(row.joined_at) };
}

export interface ChannelRow {
  id: string;
  community_id: string | null;
  kind: ChannelDto['kind'];
  name: string | null;
  topic: string;
  visibility: 'public' | 'private';
  archived: boolean;
  last_seq: Num;
  unread_count: Num;
  mention_count: Num;
}

/** Only the fields a client may see: members are UserRefs (never e-mails). */
export function presentChannel(row: ChannelRow, members: UserRef[] = []): ChannelDto {
  return {
    id: row.id,
    communityId: row.community_id,
    kind: row.kind,
    name: row.name,
    topic: row.topic,
    visibility: row.visibility,
    archived: row.archived,
    lastSeq: Number(row.last_seq),
    unreadCount: Number(row.unread_count),
    mentionCount: Number(row.mention_count),
    members,
  };
}
