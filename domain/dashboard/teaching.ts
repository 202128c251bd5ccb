import { sql } from 'kysely';
import type { DashboardTeachingDto } from '../../contracts/dashboard.ts';
import type { Db } from '../../orm/db.ts';
import { courseAuthoredBy } from '../access/course.ts';
import type { Actor } from '../shared/deps.ts';
import { nextClassIHost } from './classes.ts';

/**
 * An instructor is someone who teaches a course (a seat among its instructors) or hosts or co-hosts a class. Community
 * owners who never taught are not: their community pages already show them what they run.
 */
async function isInstructor(q: Db, userId: string): Promise<boolean> {
  const row = await q
    .selectNoFrom((eb) =>
      eb
        .or([
          eb.exists(eb.selectFrom('course_instructors').select(sql.lit(1).as('one')).where('user_id', '=', userId)),
          eb.exists(eb.selectFrom('classrooms').select(sql.lit(1).as('one')).where('host_id', '=', userId)),
          eb.exists(eb.selectFrom('classroom_cohosts').select(sql.lit(1).as('one')).where('user_id', '=', userId)),
        ])
        .$castTo<boolean>()
        .as('teaches'),
    )
    .executeTakeFirstOrThrow();
  return row.teaches;
}

/**
 * The instructor's corner: their next class, learners who enrolled in their courses since `since`, and assignment
 * submissions waiting for a grade. Courses are those they are an instructor of and may author (CoursePolicy.author as
 * courseAuthoredBy), so grading links lead somewhere they are let in. Null for people who teach nothing.
 */
export async function teachingSummary(q: Db, actor: Actor, now: Date, since: Date, limit: number): Promise<DashboardTeachingDto | null> {
  if (!(await isInstructor(q, actor.userId))) return null;
  const courses = await q
    .selectFrom('courses as k')
    .select((eb) => [
      'k.id',
      'k.title',
      eb
        .selectFrom('course_enrolments as e')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('e.course_id', '=', 'k.id')
        .where('e.enrolled_at', '>=', since)
        .where('e.user_id', '<>', actor.userId)
        .$asScalar()
        .as('new_enrolments'),
      eb
        .selectFrom('assignment_submissions as s')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('s.course_id', '=', 'k.id')
        .where('s.status', '=', 'submitted')
        .$asScalar()
        .as('to_grade'),
    ])
    .where('k.id', 'in', q.selectFrom('course_instructors').select('course_id').where('user_id', '=', actor.userId))
    .where(courseAuthoredBy(actor))
    .execute();
  const busy = courses
    .filter((c) => c.new_enrolments > 0 || c.to_grade > 0)
    .sort((a, b) => b.to_grade - a.to_grade || b.new_enrolments - a.new_enrolments || a.title.localeCompare(b.title));
  return {
    nextClass: await nextClassIHost(q, actor, now),
    newEnrolments: courses.reduce((sum, c) => sum + c.new_enrolments, 0),
    toGrade: courses.reduce((sum, c) => sum + c.to_grade, 0),
    courses: busy.slice(0, limit).map((c) => ({ courseId: c.id, title: c.title, newEnrolments: c.new_enrolments, toGrade: c.to_grade })),
  };
}
