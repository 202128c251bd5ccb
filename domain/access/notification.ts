import { expressionBuilder, sql, type Expression, type QueryCreator, type SqlBool } from 'kysely';
import { uuids, type DB } from '../../orm/db.ts';
import { accessKey, readableChannelIds, readableChannelPairs } from './channel.ts';
import { classroomVisibleTo } from './classroom.ts';
import { communityVisibleTo } from './community.ts';
import { courseAuthoredBy, courseVisibleTo } from './course.ts';
import { entitledTo } from './entitlement.ts';
import { postOpenTo } from './post.ts';
import { queriesOf, type Queries } from './queries.ts';

/*
 * A notification is shown only while its recipient may still read what it is about, by the same rules as the
 * policies of that thing:
 *   message    — not hidden or deleted, in a channel they may read (ChannelPolicy: removed from it or the community,
 *                a blocked DM, all end it);
 *   post       — open to them (PostPolicy: not hidden, deleted or behind a block) in a community they may see;
 *   lesson     — they may learn its course (CoursePolicy.learn: entitled to a visible course, or teaching it), so a
 *                refund takes "lesson released" and "assignment graded" with it;
 *   classroom  — visible to them (ClassroomPolicy.view);
 *   community  — visible to them (CommunityPolicy.view).
 * Orders, certificates and people stay theirs. One whose actor the recipient has blocked never shows. Creating one
 * asks the same question (the creators check before storing), so nobody is told about what they cannot read.
 *
 * Platform roles are not consulted: a notification is about what the recipient takes part in, not what an
 * administrator could open.
 */

type Scope = DB & { n: DB['notifications'] };

/** The subject types whose notifications are re-checked against the subject's own policy. */
export const CHECKED_SUBJECTS = ['message', 'post', 'lesson', 'classroom', 'community'] as const;

/**
 * Over the notification row `n` of recipient `userId`: whether they may still see it.
 *
 * `subjects`, when given, lists the only subject types the rows asked about can have (the caller read them first,
 * e.g. the types among someone's unread notifications): rows of any other type are left out, and the rules of the
 * checked types not listed are not built into the statement at all, which spares PostgreSQL planning them (planning
 * the whole predicate costs milliseconds; a short list, a fraction of that).
 */
export function notificationVisibleTo(q: QueryCreator<DB>, userId: string, subjects?: readonly string[]): Expression<SqlBool> {
  const eb = expressionBuilder<Scope, 'n'>();
  const viewer = { userId, sessionId: '', role: 'user' as const };
  const about = (type: string, exists: Expression<SqlBool>) => eb.and([eb('n.subject_type', '=', type), exists]);
  const actorBlocked = eb.exists(
    eb.selectFrom('user_blocks as b').select('b.blocker_id').where('b.blocker_id', '=', userId).whereRef('b.blocked_id', '=', 'n.actor_id'),
  );
  // Each rule is built only when asked for (see `subjects`).
  const rules: Record<(typeof CHECKED_SUBJECTS)[number], () => Expression<SqlBool>> = {
    message: () =>
      eb.exists(
        eb
          .selectFrom('messages as m')
          .select('m.id')
          .whereRef('m.id', '=', 'n.subject_id')
          .where('m.deleted_at', 'is', null)
          .where('m.hidden_at', 'is', null)
          .where('m.channel_id', 'in', readableChannelIds(q, { userId })),
      ),
    post: () =>
      eb.exists(
        eb
          .selectFrom('posts as p')
          .innerJoin('communities as c', 'c.id', 'p.community_id')
          .select(sql.lit(1).as('one'))
          .whereRef('p.id', '=', 'n.subject_id')
          .where(postOpenTo(userId, false))
          .where(communityVisibleTo(userId)),
      ),
    lesson: () =>
      eb.exists(
        eb
          .selectFrom('course_lessons as l')
          .innerJoin('courses as k', 'k.id', 'l.course_id')
          .select(sql.lit(1).as('one'))
          .whereRef('l.id', '=', 'n.subject_id')
          .where((w) => w.or([courseAuthoredBy(viewer), w.and([entitledTo(userId, 'course', w.ref('k.id')), courseVisibleTo(viewer)])])),
      ),
    classroom: () =>
      eb.exists(eb.selectFrom('classrooms as k').select(sql.lit(1).as('one')).whereRef('k.id', '=', 'n.subject_id').where(classroomVisibleTo(viewer))),
    community: () =>
      eb.exists(eb.selectFrom('communities as c').select(sql.lit(1).as('one')).whereRef('c.id', '=', 'n.subject_id').where(communityVisibleTo(userId))),
  };
  const checked = CHECKED_SUBJECTS.filter((type) => !subjects || subjects.includes(type));
  const unchecked = subjects ? subjects.filter((type) => !(CHECKED_SUBJECTS as readonly string[]).includes(type)) : null;
  const branches = [
    ...(unchecked === null ? [eb('n.subject_type', 'not in', [...CHECKED_SUBJECTS])] : unchecked.length ? [eb('n.subject_type', 'in', unchecked)] : []),
    ...checked.map((type) => about(type, rules[type]())),
  ];
  return eb.and([branches.length ? eb.or(branches) : eb.lit(false), eb.not(actorBlocked)]);
}

/**
 * How many of `userId`'s unread notifications they may still see: notificationVisibleTo asked another way, cheap to plan
 * (the unread count is sent with every notification stored, so this runs as often as mentions are made, and the
 * whole predicate is planned anew each time). See countVisibleUnreadOf.
 */
export async function countVisibleUnread(source: Queries, userId: string): Promise<number> {
  return (await countVisibleUnreadOf(source, [userId])).get(userId) ?? 0;
}

/**
 * countVisibleUnread for several recipients at once. One statement counts their unread notifications by recipient and
 * subject type and, for those about live messages (not deleted or hidden) whose actor the recipient has not blocked,
 * by channel; the (recipient, channel) pairs are judged by ChannelPolicy.read over the access the send path loads (one
 * statement for all), and the other types present by the predicate narrowed to them, per recipient (usually none).
 */
export async function countVisibleUnreadOf(source: Queries, userIds: readonly string[]): Promise<Map<string, number>> {
  const q = queriesOf(source);
  const totals = new Map(userIds.map((userId) => [userId, 0]));
  if (userIds.length === 0) return totals;
  const groups = await q
    .selectFrom('notifications as n')
    .leftJoin('messages as m', (join) =>
      join.onRef('m.id', '=', 'n.subject_id').on('n.subject_type', '=', 'message').on('m.deleted_at', 'is', null).on('m.hidden_at', 'is', null),
    )
    .select(['n.user_id', 'n.subject_type', 'm.channel_id', sql<number>`count(*)::int`.as('n')])
    .where('n.user_id', '=', sql<string>`any(${uuids(userIds)})`)
    .where('n.read_at', 'is', null)
    .where((eb) =>
      eb.not(eb.exists(eb.selectFrom('user_blocks as b').select('b.blocker_id').whereRef('b.blocker_id', '=', 'n.user_id').whereRef('b.blocked_id', '=', 'n.actor_id'))),
    )
    .groupBy(['n.user_id', 'n.subject_type', 'm.channel_id'])
    .execute();
  const perChannel = groups.flatMap((g) => (g.subject_type === 'message' && g.channel_id !== null ? [{ userId: g.user_id, channelId: g.channel_id, n: g.n }] : []));
  if (perChannel.length) {
    const readable = await readableChannelPairs(q, perChannel);
    for (const { userId, channelId, n } of perChannel) if (readable.has(accessKey(userId, channelId))) totals.set(userId, totals.get(userId)! + n);
  }
  const others = new Map<string, Set<string>>();
  for (const g of groups) if (g.subject_type !== 'message') others.set(g.user_id, (others.get(g.user_id) ?? new Set()).add(g.subject_type));
  for (const [userId, types] of others) {
    const row = await q
      .selectFrom('notifications as n')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('n.user_id', '=', userId)
      .where('n.read_at', 'is', null)
      .where(notificationVisibleTo(q, userId, [...types]))
      .executeTakeFirstOrThrow();
    totals.set(userId, totals.get(userId)! + row.n);
  }
  return totals;
}
