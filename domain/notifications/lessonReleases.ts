import { sql } from 'kysely';
import { db } from '../../orm/db.ts';
import { entitledTo } from '../access/entitlement.ts';
import type { Deps } from '../shared/deps.ts';
import { periodicSweep } from '../shared/jobs.ts';
import { notify, type NewNotification } from './notify.ts';

/*
 * "A lesson is now open": a drip lesson (days after the learner's enrolment, or on a date) tells each learner when it
 * opens for them. Nothing marks that moment, so a periodic job (one pending cluster-wide, by job key, every
 * LESSON_RELEASE_EVERY_MS) looks for releases that fell due on the domain clock within the last LESSON_RELEASE_LOOK_BACK_MS
 * and notifies them, each once per learner (`lesson:<id>:released`), however often the sweep sees it. The look-back
 * is far longer than the period, so a late or retried run misses nothing, yet bounded, so a queue stopped for days does
 * not announce long-open lessons.
 *
 * Only lessons that opened AFTER the learner enrolled (one open at enrolment is not news), of published courses the
 * learner may still learn: an active entitlement, and the course visible to them (a private community's course is
 * for its members).
 */

export const LESSON_RELEASE_EVERY_MS = 5 * 60_000;
export const LESSON_RELEASE_LOOK_BACK_MS = 24 * 3600_000;
const TASK = 'notifications.lesson_releases' as const;
const KEY = 'lesson-releases';
const BATCH = 500;

declare module '../shared/jobs.ts' {
  interface JobPayloads {
    /** The periodic sweep for drip lessons that opened (one pending, re-queued by each run). */
    'notifications.lesson_releases': Record<string, never>;
  }
}

const sweep = periodicSweep(TASK, KEY, LESSON_RELEASE_EVERY_MS, notifyLessonReleases);

/** Queues the periodic sweep (a restart neither adds nor delays one). */
export const scheduleLessonReleases = sweep.schedule;

/** Notifies every learner whose drip lesson opened within the look-back, once each. Returns how many were new. */
export async function notifyLessonReleases(deps: Deps): Promise<number> {
  const q = db(deps.orm.em.fork());
  const now = deps.clock.now();
  const since = new Date(now.getTime() - LESSON_RELEASE_LOOK_BACK_MS);
  // When the lesson opens for this learner: its date, or their enrolment plus its days.
  const opensAt = sql<Date>`case when l.release_type = 'onDate' then l.release_at else e.enrolled_at + make_interval(days => l.release_days) end`;
  const releases = q
    .selectFrom('course_enrolments as e')
    .innerJoin('courses as k', 'k.id', 'e.course_id')
    .innerJoin('course_lessons as l', 'l.course_id', 'k.id')
    .select(['e.user_id', 'e.enrolled_at', 'l.id as lesson_id', 'l.title', 'k.id as course_id', 'k.title as course_title', 'k.community_id'])
    .select(opensAt.as('opens_at'))
    .where('k.status', '=', 'published')
    .where('l.release_type', 'in', ['afterEnrolment', 'onDate'])
    .where((eb) => entitledTo(eb.ref('e.user_id'), 'course', eb.ref('k.id')))
    .where((eb) =>
      eb.or([
        eb('k.community_id', 'is', null),
        eb.exists(eb.selectFrom('communities as vc').select('vc.id').whereRef('vc.id', '=', 'k.community_id').where('vc.visibility', '=', 'public')),
        eb.exists(
          eb.selectFrom('community_members as vm').select('vm.user_id').whereRef('vm.community_id', '=', 'k.community_id').whereRef('vm.user_id', '=', 'e.user_id'),
        ),
      ]),
    );
  let created = 0;
  let after: { user_id: string; lesson_id: string } | null = null;
  for (;;) {
    let page = q
      .selectFrom(releases.as('r'))
      .selectAll('r')
      // Open at enrolment already: not news.
      .where(sql<boolean>`r.opens_at > r.enrolled_at`)
      .where('r.opens_at', '>', since)
      .where('r.opens_at', '<=', now)
      .orderBy('r.user_id')
      .orderBy('r.lesson_id')
      .limit(BATCH);
    if (after) {
      const { user_id, lesson_id } = after;
      page = page.where((eb) => eb(eb.refTuple('r.user_id', 'r.lesson_id'), '>', eb.tuple(user_id, lesson_id)));
    }
    const rows = await page.execute();
    created += await notify(
      deps,
      rows.map(
        (r): NewNotification => ({
          userId: r.user_id,
          kind: 'lesson_released',
          sourceKey: `lesson:${r.lesson_id}:released`,
          communityId: r.community_id,
          subjectType: 'lesson',
          subjectId: r.lesson_id,
          title: `“${r.title}” is now open in ${r.course_title}`,
          url: `/app/courses/${r.course_id}/lessons/${r.lesson_id}`,
        }),
      ),
    );
    const last = rows[rows.length - 1];
    if (rows.length < BATCH || !last) return created;
    after = last;
  }
}

/** 'notifications.lesson_releases': queues the next sweep, then notifies the lessons that opened. */
export const lessonReleaseJob = sweep.job;
