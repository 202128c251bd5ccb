import type { EntityManager } from '@mikro-orm/postgresql';
import type { CommunityRole } from '../../contracts/communities.ts';
import { AppError } from '../shared/errors.ts';
import { sqlOf } from '../shared/sql.ts';
import type { Actor } from '../shared/deps.ts';

/** Everything the channel policies need, loaded in one query. */
export interface ChannelAccess {
  channelId: string;
  communityId: string | null;
  kind: 'channel' | 'dm' | 'group_dm' | 'classroom';
  visibility: 'public' | 'private';
  archived: boolean;
  lastSeq: number;
  /** The actor's role in the channel's community, or null. */
  communityRole: CommunityRole | null;
  /** Explicit channel membership (private channels, DMs). */
  channelMember: boolean;
  /** DMs: another member has blocked the actor or the actor has blocked another member. */
  blockedInDm: boolean;
  /** DMs: another member has blocked the actor (one way). */
  blockedByOther: boolean;
}

const MODERATING_ROLES: readonly CommunityRole[] = ['owner', 'admin', 'moderator'];
const MANAGING_ROLES: readonly CommunityRole[] = ['owner', 'admin'];

/** Pure rules over loaded data, shared by REST and sockets so they cannot disagree. */
export const ChannelPolicy = {
  read(actor: Actor, access: ChannelAccess): boolean {
    // Someone who blocked you takes your 1:1 DM with them away from you; they keep its history themselves.
    if (access.kind === 'dm') return access.channelMember && !access.blockedByOther;
    // In-class chat: the class's admitted participants, while they belong to its community.
    if (access.kind === 'classroom') return access.channelMember && access.communityRole !== null;
    if (access.kind !== 'channel') return access.channelMember;
    if (!access.communityRole) return false;
    return access.visibility === 'public' || access.channelMember || MANAGING_ROLES.includes(access.communityRole);
  },
  post(actor: Actor, access: ChannelAccess): boolean {
    return ChannelPolicy.read(actor, access) && !access.archived && !access.blockedInDm;
  },
  /** Delete others' messages, pin. */
  moderate(actor: Actor, access: ChannelAccess): boolean {
    if (!ChannelPolicy.read(actor, access)) return false;
    if (access.kind !== 'channel' && access.kind !== 'classroom') return false;
    return MODERATING_ROLES.includes(access.communityRole!) || actor.role === 'moderator' || actor.role === 'admin';
  },
  /** Rename, archive, manage private membership. */
  manage(actor: Actor, access: ChannelAccess): boolean {
    return access.kind === 'channel' && access.communityRole !== null && MANAGING_ROLES.includes(access.communityRole);
  },
} as const;

export type ChannelAction = keyof typeof ChannelPolicy;

interface AccessRow {
  user_id: string;
  channel_id: string;
  community_id: string | null;
  kind: ChannelAccess['kind'];
  visibility: ChannelAccess['visibility'];
  archived: boolean;
  last_seq: string | number;
  community_role: CommunityRole | null;
  channel_member: boolean;
  blocked_in_dm: boolean;
  blocked_by_other: boolean;
}

const ACCESS_SQL = `
  select p.user_id, c.id as channel_id, c.community_id, c.kind, c.visibility, c.archived_at is not null as archived, c.last_seq,
         cm.role as community_role,
         exists (select 1 from channel_members m where m.channel_id = c.id and m.user_id = p.user_id) as channel_member,
         (c.kind in ('dm', 'group_dm') and exists (
            select 1 from channel_members other
            join user_blocks b on (b.blocker_id = other.user_id and b.blocked_id = p.user_id)
                               or (b.blocker_id = p.user_id and b.blocked_id = other.user_id)
            where other.channel_id = c.id and other.user_id <> p.user_id)) as blocked_in_dm,
         (c.kind in ('dm', 'group_dm') and exists (
            select 1 from channel_members other
            join user_blocks b on b.blocker_id = other.user_id and b.blocked_id = p.user_id
            where other.channel_id = c.id and other.user_id <> p.user_id)) as blocked_by_other
  from unnest(?::uuid[], ?::uuid[]) as p(user_id, channel_id)
  join channels c on c.id = p.channel_id
  left join community_members cm on cm.community_id = c.community_id and cm.user_id = p.user_id`;

const accessKey = (userId: string, channelId: string) => `${userId}:${channelId}`;

/** Access for many (user, channel) pairs in one query; keyed by `${userId}:${channelId}`, missing channels absent. */
export async function loadChannelAccessMany(
  em: EntityManager,
  pairs: readonly { userId: string; channelId: string }[],
): Promise<Map<string, ChannelAccess>> {
  const result = new Map<string, ChannelAccess>();
  if (!pairs.length) return result;
  const rows = await sqlOf(em)<AccessRow>(ACCESS_SQL, [pairs.map((p) => p.userId), pairs.map((p) => p.channelId)]);
  for (const row of rows) {
    result.set(accessKey(row.user_id, row.channel_id), {
      channelId: row.channel_id,
      communityId: row.community_id,
      kind: row.kind,
      visibility: row.visibility,
      archived: row.archived,
      lastSeq: Number(row.last_seq),
      communityRole: row.community_role,
      channelMember: row.channel_member,
      blockedInDm: row.blocked_in_dm,
      blockedByOther: row.blocked_by_other,
    });
  }
  return result;
}

export async function loadChannelAccess(em: EntityManager, userId: string, channelId: string): Promise<ChannelAccess | null> {
  return (await loadChannelAccessMany(em, [{ userId, channelId }])).get(accessKey(userId, channelId)) ?? null;
}

export { accessKey };

const REFUSALS: Record<ChannelAction, string> = {
  read: 'You cannot see this channel.',
  post: 'You cannot post in this channel.',
  moderate: 'Only moderators can do that here.',
  manage: 'Only community admins can manage this channel.',
};

/**
 * Loads access and checks one action. A channel the actor may not even read answers `not_found`, so its existence
 * is not revealed; readable-but-refused answers `forbidden` (archived channels and blocked DMs say why).
 */
export async function authorizeChannel(
  em: EntityManager,
  actor: Actor,
  channelId: string,
  action: ChannelAction,
): Promise<ChannelAccess> {
  return checkChannelAccess(actor, await loadChannelAccess(em, actor.userId, channelId), action);
}

/** The checks of authorizeChannel over access loaded beforehand (e.g. in bulk). */
export function checkChannelAccess(actor: Actor, access: ChannelAccess | null | undefined, action: ChannelAction): ChannelAccess {
  if (!access || !ChannelPolicy.read(actor, access)) throw new AppError('not_found', 'No such channel.');
  if (!ChannelPolicy[action](actor, access)) {
    if (action === 'post' && access.archived) throw new AppError('forbidden', 'This channel is archived.');
    if (action === 'post' && access.blockedInDm) throw new AppError('forbidden', 'You cannot message this person.');
    throw new AppError('forbidden', REFUSALS[action]);
  }
  return access;
}
