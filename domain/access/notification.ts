import { expressionBuilder, sql, type Expression, type QueryCreator, type SqlBool } from 'kysely';
import type { DB } from '../../orm/db.ts';
import { readableChannelIds } from './channel.ts';
import { classroomVisibleTo } from './classroom.ts';
import { communityVisibleTo } from './community.ts';
import { courseAuthoredBy, courseVisibleTo } from './course.ts';
import { entitledTo } from './entitlement.ts';
import { postOpenTo } from './post.ts';

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

/** Over the notification row `n` of recipient `userId`: whether they may still see it. */
export function notificationVisibleTo(q: QueryCreator<DB>, userId: string): Expression<SqlBool> {
  const eb = expressionBuilder<Scope, 'n'>();
  const viewer = { userId, sessionId: '', role: 'user' as const };
  const about = (type: string, exists: Expression<SqlBool>) => eb.and([eb('n.subject_type', '=', type), exists]);
  const readableMessage = eb.exists(
    eb
      .selectFrom('messages as m')
      .select('m.id')
      .whereRef('m.id', '=', 'n.subject_id')
      .where('m.deleted_at', 'is', null)
      .where('m.hidden_at', 'is', null)
      .where('m.channel_id', 'in', readableChannelIds(q, { userId })),
  );
  const openPost = eb.exists(
    eb
      .selectFrom('posts as p')
      .innerJoin('communities as c', 'c.id', 'p.community_id')
      .select(sql.lit(1).as('one'))
      .whereRef('p.id', '=', 'n.subject_id')
      .where(postOpenTo(userId, false))
      .where(communityVisibleTo(userId)),
  );
  const learnableLesson = eb.exists(
    eb
      .selectFrom('course_lessons as l')
      .innerJoin('courses as k', 'k.id', 'l.course_id')
      .select(sql.lit(1).as('one'))
      .whereRef('l.id', '=', 'n.subject_id')
      .where((w) => w.or([courseAuthoredBy(viewer), w.and([entitledTo(userId, 'course', w.ref('k.id')), courseVisibleTo(viewer)])])),
  );
  const visibleClassroom = eb.exists(
    eb.selectFrom('classrooms as k').select(sql.lit(1).as('one')).whereRef('k.id', '=', 'n.subject_id').where(classroomVisibleTo(viewer)),
  );
  const visibleCommunity = eb.exists(
    eb.selectFrom('communities as c').select(sql.lit(1).as('one')).whereRef('c.id', '=', 'n.subject_id').where(communityVisibleTo(userId)),
  );
  const actorBlocked = eb.exists(
    eb.selectFrom('user_blocks as b').select('b.blocker_id').where('b.blocker_id', '=', userId).whereRef('b.blocked_id', '=', 'n.actor_id'),
  );
  return eb.and([
    eb.or([
      eb('n.subject_type', 'not in', ['message', 'post', 'lesson', 'classroom', 'community']),
      about('message', readableMessage),
      about('post', openPost),
      about('lesson', learnableLesson),
      about('classroom', visibleClassroom),
      about('community', visibleCommunity),
    ]),
    eb.not(actorBlocked),
  ]);
}
