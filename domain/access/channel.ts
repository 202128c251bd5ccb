import { expressionBuilder, sql, type Expression, type QueryCreator, type SqlBool } from 'kysely';
import type { CommunityRole } from '../../contracts/communities.ts';
import type { DB } from '../../orm/db.ts';
import type { Actor } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { queriesOf, type Queries } from './queries.ts';
import { isManagingRole, isModeratingRole, isPlatformModerator, MANAGING_ROLES, MODERATING_ROLES } from './roles.ts';

/*
 * Who may do what in a channel, written twice side by side: `ChannelPolicy` decides for one loaded `ChannelAccess`
 * (REST, sockets and jobs call it), and `readableChannelIds` / `moderatedChannelIds` are the same rules as subqueries
 * for lists, counts, search and joins. channel.test.ts builds every case in a real database and proves they agree.
 *
 * The rules by kind:
 * - channel: members of the channel's community; a private one also needs channel membership or a managing role.
 * - dm (1:1): its members, except that someone who blocked you takes the DM away from you (they keep its history).
 * - group_dm: its members.
 * - classroom (in-class chat): the class's admitted participants, while they belong to its community.
 * - course (a course's discussion): its members — the course's instructors and enrolled learners, kept in step by the
 *   course operations; a course may belong to no community, so no community membership is asked for. The course's
 *   instructors moderate it, as well as the community's moderators.
 * A ban or kick ends the community membership (and the private channel memberships with it), so it needs no rule here.
 * Platform moderators and admins read nothing more than anyone else, but moderate every channel they can read.
 */

/** Everything the channel policies need, loaded in one query. */
export interface ChannelAccess {
  channelId: string;
  communityId: string | null;
  kind: 'channel' | 'dm' | 'group_dm' | 'classroom' | 'course';
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
  /** Course channels: the actor teaches the course whose discussion this is. */
  courseInstructor: boolean;
}

/** Pure rules over loaded data, shared by REST and sockets so they cannot disagree. */
export const ChannelPolicy = {
  read(actor: Actor, access: ChannelAccess): boolean {
    // Someone who blocked you takes your 1:1 DM with them away from you; they keep its history themselves.
    if (access.kind === 'dm') return access.channelMember && !access.blockedByOther;
    // In-class chat: the class's admitted participants, while they belong to its community.
    if (access.kind === 'classroom') return access.channelMember && access.communityRole !== null;
    if (access.kind !== 'channel') return access.channelMember;
    if (!access.communityRole) return false;
    return access.visibility === 'public' || access.channelMember || isManagingRole(access.communityRole);
  },
  post(actor: Actor, access: ChannelAccess): boolean {
    return ChannelPolicy.read(actor, access) && !access.archived && !access.blockedInDm;
  },
  /** Delete others' messages, pin, see hidden messages. */
  moderate(actor: Actor, access: ChannelAccess): boolean {
    if (!ChannelPolicy.read(actor, access)) return false;
    if (access.kind === 'course' && access.courseInstructor) return true;
    if (access.kind !== 'channel' && access.kind !== 'classroom' && access.kind !== 'course') return false;
    return isModeratingRole(access.communityRole) || isPlatformModerator(actor);
  },
  /** Rename, archive, manage private membership. */
  manage(actor: Actor, access: ChannelAccess): boolean {
    return access.kind === 'channel' && isManagingRole(access.communityRole);
  },
} as const;

export type ChannelAction = keyof typeof ChannelPolicy;

/** A channel row aliased `c`, the scope the predicates below are written in. */
type ChannelScope = DB & { c: DB['channels'] };
type UserId = string | Expression<string>;

/**
 * `ChannelPolicy.read` over the channel row `c` of the surrounding query, for the user `userId` (a value, or a
 * reference such as `u.id` when the readers are what is being looked for).
 */
export function channelReadableBy(userId: UserId): Expression<SqlBool> {
  const eb = expressionBuilder<ChannelScope, 'c'>();
  const inChannel = eb.exists(
    eb.selectFrom('channel_members as rm').select(sql.lit(1).as('one')).whereRef('rm.channel_id', '=', 'c.id').where('rm.user_id', '=', userId),
  );
  const inCommunity = (roles?: readonly CommunityRole[]) =>
    eb.exists(
      eb
        .selectFrom('community_members as rc')
        .select(sql.lit(1).as('one'))
        .whereRef('rc.community_id', '=', 'c.community_id')
        .where('rc.user_id', '=', userId)
        .$if(roles !== undefined, (qb) => qb.where('rc.role', 'in', roles!)),
    );
  const blockedByOther = eb.exists(
    eb
      .selectFrom('channel_members as ro')
      .innerJoin('user_blocks as rb', 'rb.blocker_id', 'ro.user_id')
      .select(sql.lit(1).as('one'))
      .whereRef('ro.channel_id', '=', 'c.id')
      .where('ro.user_id', '<>', userId)
      .where('rb.blocked_id', '=', userId),
  );
  return eb.or([
    eb.and([eb('c.kind', '=', 'channel'), inCommunity(), eb.or([eb('c.visibility', '=', 'public'), inChannel, inCommunity(MANAGING_ROLES)])]),
    eb.and([eb('c.kind', '=', 'dm'), inChannel, eb.not(blockedByOther)]),
    eb.and([eb('c.kind', '=', 'group_dm'), inChannel]),
    eb.and([eb('c.kind', '=', 'classroom'), inChannel, inCommunity()]),
    eb.and([eb('c.kind', '=', 'course'), inChannel]),
  ]);
}

/** `ChannelPolicy.moderate` over the channel row `c` of the surrounding query, for `actor`. */
export function channelModeratedBy(actor: Pick<Actor, 'userId' | 'role'>): Expression<SqlBool> {
  const eb = expressionBuilder<ChannelScope, 'c'>();
  const byRole = isPlatformModerator(actor)
    ? sql<SqlBool>`true`
    : eb.exists(
        eb
          .selectFrom('community_members as mc')
          .select(sql.lit(1).as('one'))
          .whereRef('mc.community_id', '=', 'c.community_id')
          .where('mc.user_id', '=', actor.userId)
          .where('mc.role', 'in', MODERATING_ROLES),
      );
  const teachesCourse = eb.exists(
    eb
      .selectFrom('course_instructors as ti')
      .innerJoin('courses as tk', 'tk.id', 'ti.course_id')
      .select(sql.lit(1).as('one'))
      .whereRef('tk.channel_id', '=', 'c.id')
      .where('ti.user_id', '=', actor.userId),
  );
  return eb.and([
    channelReadableBy(actor.userId),
    eb.or([
      eb.and([eb('c.kind', 'in', ['channel', 'classroom', 'course']), byRole]),
      eb.and([eb('c.kind', '=', 'course'), teachesCourse]),
    ]),
  ]);
}

/**
 * The channels matching `rule` for `userId`, looked for only where they can be: among the user's channel memberships,
 * and among the community channels of the user's communities (every rule but the community channel's requires channel
 * membership). The statement starts from the user's own rows instead of every channel; `rule` has the final word.
 */
function channelIdsWhere(q: QueryCreator<DB>, userId: string, rule: Expression<SqlBool>) {
  return q
    .selectFrom('channels as c')
    .select('c.id')
    .where('c.id', 'in', q.selectFrom('channel_members as mine').select('mine.channel_id').where('mine.user_id', '=', userId))
    .where(rule)
    .union(
      q
        .selectFrom('channels as c')
        .select('c.id')
        .where('c.kind', '=', 'channel')
        .where('c.community_id', 'in', q.selectFrom('community_members as mine').select('mine.community_id').where('mine.user_id', '=', userId))
        .where(rule),
    );
}

/** The ids of the channels `actor` may read: `ChannelPolicy.read` as a subquery, for lists, counts, search and joins. */
export function readableChannelIds(q: QueryCreator<DB>, actor: Pick<Actor, 'userId'>) {
  return channelIdsWhere(q, actor.userId, channelReadableBy(actor.userId));
}

/** The ids of the channels `actor` moderates (`ChannelPolicy.moderate`): where hidden messages show, marked. */
export function moderatedChannelIds(q: QueryCreator<DB>, actor: Pick<Actor, 'userId' | 'role'>) {
  return channelIdsWhere(q, actor.userId, channelModeratedBy(actor));
}

export const accessKey = (userId: string, channelId: string) => `${userId}:${channelId}`;

/** Access for many (user, channel) pairs in one statement; keyed by `accessKey`, missing channels absent. */
export async function loadChannelAccessMany(
  source: Queries,
  pairs: readonly { userId: string; channelId: string }[],
): Promise<Map<string, ChannelAccess>> {
  const result = new Map<string, ChannelAccess>();
  if (!pairs.length) return result;
  const blockedBy = (direction: 'either' | 'byOther') => {
    const eb = expressionBuilder<DB & { c: DB['channels']; p: { user_id: string } }, 'c' | 'p'>();
    return eb.and([
      eb('c.kind', 'in', ['dm', 'group_dm']),
      eb.exists(
        eb
          .selectFrom('channel_members as other')
          .innerJoin('user_blocks as b', (join) =>
            direction === 'byOther'
              ? join.onRef('b.blocker_id', '=', 'other.user_id').onRef('b.blocked_id', '=', 'p.user_id')
              : join.on((on) =>
                  on.or([
                    on.and([on('b.blocker_id', '=', on.ref('other.user_id')), on('b.blocked_id', '=', on.ref('p.user_id'))]),
                    on.and([on('b.blocker_id', '=', on.ref('p.user_id')), on('b.blocked_id', '=', on.ref('other.user_id'))]),
                  ]),
                ),
          )
          .select(sql.lit(1).as('one'))
          .whereRef('other.channel_id', '=', 'c.id')
          .whereRef('other.user_id', '<>', 'p.user_id'),
      ),
    ]);
  };
  const rows = await queriesOf(source)
    .selectFrom(
      sql<{ user_id: string; channel_id: string }>`unnest(${pairs.map((p) => p.userId)}::uuid[], ${pairs.map((p) => p.channelId)}::uuid[])`.as<'p'>(
        sql`p(user_id, channel_id)`,
      ),
    )
    .innerJoin('channels as c', 'c.id', 'p.channel_id')
    .leftJoin('community_members as cm', (join) => join.onRef('cm.community_id', '=', 'c.community_id').onRef('cm.user_id', '=', 'p.user_id'))
    .select((eb) => [
      'p.user_id',
      'p.channel_id',
      'c.community_id',
      'c.kind',
      'c.visibility',
      'c.archived_at',
      'c.last_seq',
      'cm.role',
      eb
        .exists(eb.selectFrom('channel_members as m').select(sql.lit(1).as('one')).whereRef('m.channel_id', '=', 'c.id').whereRef('m.user_id', '=', 'p.user_id'))
        .$castTo<boolean>()
        .as('channel_member'),
      blockedBy('either').$castTo<boolean>().as('blocked_in_dm'),
      blockedBy('byOther').$castTo<boolean>().as('blocked_by_other'),
      eb
        .exists(
          eb
            .selectFrom('course_instructors as ti')
            .innerJoin('courses as tk', 'tk.id', 'ti.course_id')
            .select(sql.lit(1).as('one'))
            .whereRef('tk.channel_id', '=', 'c.id')
            .whereRef('ti.user_id', '=', 'p.user_id'),
        )
        .$castTo<boolean>()
        .as('course_instructor'),
    ])
    .execute();
  for (const row of rows) {
    result.set(accessKey(row.user_id, row.channel_id), {
      channelId: row.channel_id,
      communityId: row.community_id,
      kind: row.kind,
      visibility: row.visibility,
      archived: row.archived_at !== null,
      lastSeq: row.last_seq,
      communityRole: row.role,
      channelMember: row.channel_member,
      blockedInDm: row.blocked_in_dm,
      blockedByOther: row.blocked_by_other,
      courseInstructor: row.course_instructor,
    });
  }
  return result;
}

/**
 * Of many (user, channel) pairs, those whose user may read the channel now (ChannelPolicy.read over the access
 * loadChannelAccessMany loads, in one statement): a set of `accessKey`s. Each user is judged as themself, without a
 * platform role — what they take part in, not what an administrator could open.
 */
export async function readableChannelPairs(source: Queries, pairs: readonly { userId: string; channelId: string }[]): Promise<Set<string>> {
  const access = await loadChannelAccessMany(source, pairs);
  const readable = new Set<string>();
  for (const { userId, channelId } of pairs) {
    const theirs = access.get(accessKey(userId, channelId));
    if (theirs && ChannelPolicy.read({ userId, sessionId: '', role: 'user' }, theirs)) readable.add(accessKey(userId, channelId));
  }
  return readable;
}

export async function loadChannelAccess(source: Queries, userId: string, channelId: string): Promise<ChannelAccess | null> {
  return (await loadChannelAccessMany(source, [{ userId, channelId }])).get(accessKey(userId, channelId)) ?? null;
}

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
export async function authorizeChannel(source: Queries, actor: Actor, channelId: string, action: ChannelAction): Promise<ChannelAccess> {
  return checkChannelAccess(actor, await loadChannelAccess(source, actor.userId, channelId), action);
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
