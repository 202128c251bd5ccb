import { sql } from 'kysely';
import type { CourseAnalyticsDto } from '../../contracts/courseLearning.ts';
import { db } from '../../orm/db.ts';
import { authorizeCourse } from '../access/course.ts';
import type { Actor, Deps } from '../shared/deps.ts';

/*
 * What a course's authors see of how it goes, in three set-based statements: the totals, enrolments per day, and one
 * row per lesson carrying its funnel, quiz and drop-off figures. Only enrolled learners count (authors previewing a
 * course leave no enrolment). Rates are percentages with one decimal.
 */

export const ANALYTICS_DAYS = 30;
const DAY_MS = 86_400_000;

const percent = (part: number, whole: number) => (whole > 0 ? Math.round((part * 1000) / whole) / 10 : 0);

/** The last `days` UTC days ending today (on `now`), oldest first, as `YYYY-MM-DD`. */
export function lastDays(now: Date, days: number): string[] {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return Array.from({ length: days }, (_, i) => new Date(today - (days - 1 - i) * DAY_MS).toISOString().slice(0, 10));
}

export async function courseAnalytics(deps: Deps, actor: Actor, courseId: string): Promise<CourseAnalyticsDto> {
  const q = db(deps.orm.em.fork());
  await authorizeCourse(q, actor, courseId, 'author');
  const days = lastDays(deps.clock.now(), ANALYTICS_DAYS);
  const from = new Date(`${days[0]}T00:00:00.000Z`);
  const to = new Date(new Date(`${days.at(-1)}T00:00:00.000Z`).getTime() + DAY_MS);

  const totals = await q
    .selectFrom('course_enrolments')
    .select([sql<number>`count(*)::int`.as('enrolled'), sql<number>`(count(*) filter (where completed_at is not null))::int`.as('completed')])
    .where('course_id', '=', courseId)
    .executeTakeFirstOrThrow();

  const perDay = await q
    .selectFrom('course_enrolments')
    .select([sql<string>`to_char(enrolled_at at time zone 'UTC', 'YYYY-MM-DD')`.as('day'), sql<number>`count(*)::int`.as('count')])
    .where('course_id', '=', courseId)
    .where('enrolled_at', '>=', from)
    .where('enrolled_at', '<', to)
    .groupBy(sql`1`)
    .execute();
  const countByDay = new Map(perDay.map((r) => [r.day, r.count]));

  const lessons = await q
    .with('learners', (w) => w.selectFrom('course_enrolments').select(['user_id', 'completed_at']).where('course_id', '=', courseId))
    .with('outline', (w) =>
      w
        .selectFrom('course_lessons as l')
        .innerJoin('course_modules as m', 'm.id', 'l.module_id')
        .select(['l.id', 'l.title', 'l.kind', sql<number>`(row_number() over (order by m.position, l.position, l.id))::int`.as('ordinal')])
        .where('l.course_id', '=', courseId),
    )
    // Each learner still on the way, at the lesson they completed last (the later one in the outline on a tie).
    .with('last_done', (w) =>
      w
        .selectFrom('lesson_progress as lp')
        .innerJoin('learners as e', 'e.user_id', 'lp.user_id')
        .innerJoin('outline as o', 'o.id', 'lp.lesson_id')
        .select(['lp.user_id', 'lp.lesson_id'])
        .distinctOn('lp.user_id')
        .where('lp.course_id', '=', courseId)
        .where('lp.completed_at', 'is not', null)
        .where('e.completed_at', 'is', null)
        .orderBy('lp.user_id')
        .orderBy('lp.completed_at', 'desc')
        .orderBy('o.ordinal', 'desc'),
    )
    .with('completions', (w) =>
      w
        .selectFrom('lesson_progress as lp')
        .innerJoin('learners as e', 'e.user_id', 'lp.user_id')
        .select(['lp.lesson_id', sql<number>`count(*)::int`.as('completed')])
        .where('lp.course_id', '=', courseId)
        .where('lp.completed_at', 'is not', null)
        .groupBy('lp.lesson_id'),
    )
    .with('quiz_stats', (w) =>
      w
        .selectFrom('quiz_attempts as qa')
        .innerJoin('learners as e', 'e.user_id', 'qa.user_id')
        .select([
          'qa.lesson_id',
          sql<number>`count(*)::int`.as('attempts'),
          sql<number | null>`round(avg(qa.score_percent), 1)::float8`.as('average_score'),
          sql<number>`count(distinct qa.user_id)::int`.as('learners'),
          sql<number>`(count(distinct qa.user_id) filter (where qa.passed))::int`.as('passed_learners'),
        ])
        .where('qa.course_id', '=', courseId)
        .groupBy('qa.lesson_id'),
    )
    .with('stopped', (w) => w.selectFrom('last_done').select(['lesson_id', sql<number>`count(*)::int`.as('stopped')]).groupBy('lesson_id'))
    .selectFrom('outline as o')
    .leftJoin('completions as c', 'c.lesson_id', 'o.id')
    .leftJoin('quiz_stats as s', 's.lesson_id', 'o.id')
    .leftJoin('stopped as d', 'd.lesson_id', 'o.id')
    .select(['o.id', 'o.title', 'o.kind', 'c.completed', 's.attempts', 's.average_score', 's.learners', 's.passed_learners', 'd.stopped'])
    .orderBy('o.ordinal')
    .execute();

  return {
    courseId,
    enrolled: totals.enrolled,
    completed: totals.completed,
    enrolmentsPerDay: days.map((day) => ({ day, count: countByDay.get(day) ?? 0 })),
    lessons: lessons.map((l) => ({
      lessonId: l.id,
      title: l.title,
      completed: l.completed ?? 0,
      completionRate: percent(l.completed ?? 0, totals.enrolled),
    })),
    quizzes: lessons
      .filter((l) => l.kind === 'quiz')
      .map((l) => ({
        lessonId: l.id,
        title: l.title,
        attempts: l.attempts ?? 0,
        learners: l.learners ?? 0,
        averageScore: l.average_score ?? null,
        passRate: percent(l.passed_learners ?? 0, l.learners ?? 0),
      })),
    dropOff: lessons.map((l) => ({ lessonId: l.id, title: l.title, learnersStoppedHere: l.stopped ?? 0 })),
  };
}
