import type { CourseDto, EnrolmentDto, MyCourseDto } from '../../contracts/courses.ts';
import { db, uuids, type Db } from '../../orm/db.ts';
import { authorizeCourse, checkCourseAccess, CoursePolicy, lessonAvailability, loadCourseAccess, visibleCourseIds, type Course } from '../access/course.ts';
import { grantEntitlement } from '../access/entitlement.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import './events.ts';
import { loadCourseDto, loadCourseDtos, loadEnrolmentDto, presentEnrolment } from './presenters.ts';
import { percentOf } from './progress.ts';

/*
 * Enrolment: a learner's place in a course. Enrolling writes the enrolment, the entitlement that opens the lessons
 * (domain/access/entitlement.ts: `free` for a free course, `grant` when staff enrol someone) and the membership of the
 * course discussion, in one transaction. Each is keyed by a unique, so a second or concurrent enrolment changes
 * nothing. A paid course is enrolled by its order (enrolPaidInTx, with an entitlement of source `order`).
 */

export interface EnrolmentOutcome {
  enrolment: EnrolmentDto;
  course: CourseDto;
  /** False when the learner was already enrolled and entitled (nothing changed). */
  changed: boolean;
}

/** Writes the enrolment and the membership of the course discussion; reports what was new. */
async function writeMembership(q: Db, course: Pick<Course, 'id' | 'channel_id'>, userId: string, at: Date): Promise<{ enrolled: boolean; joinedChannel: boolean }> {
  const enrolled = await q
    .insertInto('course_enrolments')
    .values({ course_id: course.id, user_id: userId, enrolled_at: at, last_activity_at: at })
    .onConflict((oc) => oc.columns(['course_id', 'user_id']).doNothing())
    .returning('user_id')
    .executeTakeFirst();
  const joined = await q
    .insertInto('channel_members')
    .values({ channel_id: course.channel_id, user_id: userId })
    .onConflict((oc) => oc.doNothing())
    .returning('user_id')
    .executeTakeFirst();
  return { enrolled: enrolled !== undefined, joinedChannel: joined !== undefined };
}

/** Writes the enrolment, the entitlement and the channel membership; reports what was new. */
async function writeEnrolment(
  q: Db,
  course: Course,
  userId: string,
  grant: { source: 'free' | 'grant'; grantedBy: string | null; at: Date },
): Promise<{ changed: boolean; joinedChannel: boolean }> {
  const granted = await grantEntitlement(q, {
    userId,
    resource: { type: 'course', id: course.id },
    source: grant.source,
    grantedBy: grant.grantedBy,
    at: grant.at,
  });
  const { enrolled, joinedChannel } = await writeMembership(q, course, userId, grant.at);
  return { changed: enrolled || granted, joinedChannel };
}

async function announceEnrolment(
  deps: Deps,
  course: Pick<Course, 'id' | 'channel_id' | 'community_id'>,
  userId: string,
  source: 'free' | 'grant' | 'order',
  joinedChannel: boolean,
) {
  if (joinedChannel) await deps.events.emit('channel.added', { channelId: course.channel_id, communityId: course.community_id, openTo: 'users', userIds: [userId] });
  await deps.events.emit('course.enrolled', { courseId: course.id, userId, source });
}

/**
 * A paid order's course: enrols the buyer and adds them to the course discussion, inside the order's transaction (the
 * order writes the entitlement itself, with its id). Returns whether anything was new and the announcement to make
 * once the transaction has committed.
 */
export async function enrolPaidInTx(
  q: Db,
  courseId: string,
  userId: string,
  at: Date,
): Promise<{ changed: boolean; announce: (deps: Deps) => Promise<void> }> {
  const course = await q.selectFrom('courses').select(['id', 'channel_id', 'community_id']).where('id', '=', courseId).executeTakeFirst();
  if (!course) return { changed: false, announce: async () => {} };
  const { enrolled, joinedChannel } = await writeMembership(q, course, userId, at);
  return {
    changed: enrolled || joinedChannel,
    announce: (deps) => announceEnrolment(deps, course, userId, 'order', joinedChannel),
  };
}

/**
 * Enrols the caller in a published course they may see. Free: enrolled at once. Priced: refused with `conflict` unless
 * the caller already holds an entitlement (a paid order, a staff grant), which enrolling then takes up.
 */
export async function enrol(deps: Deps, actor: Actor, courseId: string): Promise<EnrolmentOutcome> {
  const now = deps.clock.now();
  const outcome = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const access = checkCourseAccess(actor, await loadCourseAccess(q, actor, courseId), 'enrol');
    const { course } = access;
    if (course.price_minor > 0 && !access.entitled) {
      throw new AppError('conflict', 'This is a paid course. Buy it first, then enrol.');
    }
    const written = await writeEnrolment(q, course, actor.userId, { source: 'free', grantedBy: null, at: now });
    return {
      ...written,
      course,
      enrolment: (await loadEnrolmentDto(q, courseId, actor.userId))!,
      dto: await loadCourseDto(deps, q, actor, courseId),
    };
  });
  if (outcome.changed) await announceEnrolment(deps, outcome.course, actor.userId, 'free', outcome.joinedChannel);
  return { enrolment: outcome.enrolment, course: outcome.dto, changed: outcome.changed };
}

/**
 * Staff enrol someone (authors), free of charge whatever the price. The learner must be able to see the course once
 * published: a course of a private community takes its learners from the community's members. Course instructors
 * need no enrolment.
 */
export async function grantEnrolment(deps: Deps, actor: Actor, courseId: string, userId: string): Promise<EnrolmentOutcome> {
  const now = deps.clock.now();
  const outcome = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { course } = await authorizeCourse(q, actor, courseId, 'author');
    const user = await q.selectFrom('users').select('role').where('id', '=', userId).executeTakeFirst();
    if (!user) throw new AppError('not_found', 'No such user.');
    const target = (await loadCourseAccess(q, { userId, sessionId: '', role: user.role }, courseId))!;
    if (target.instructorRole) throw new AppError('conflict', 'That user teaches this course: instructors need no enrolment.');
    if (target.communityVisibility === 'private' && target.communityRole === null && !CoursePolicy.author({ userId, sessionId: '', role: user.role }, target)) {
      throw new AppError('not_found', 'That user is not a member of this community.');
    }
    const written = await writeEnrolment(q, course, userId, { source: 'grant', grantedBy: actor.userId, at: now });
    return { ...written, course, enrolment: (await loadEnrolmentDto(q, courseId, userId))!, dto: await loadCourseDto(deps, q, actor, courseId) };
  });
  if (outcome.changed) await announceEnrolment(deps, outcome.course, userId, 'grant', outcome.joinedChannel);
  return { enrolment: outcome.enrolment, course: outcome.dto, changed: outcome.changed };
}

/**
 * My courses, most recently active first, each with my progress and the lesson to continue with. Courses I can no
 * longer see (unpublished, or I left their private community) are left out; my enrolment and progress stay.
 */
export async function listMyCourses(deps: Deps, actor: Actor): Promise<MyCourseDto[]> {
  const q = db(deps.orm.em.fork());
  const now = deps.clock.now();
  const enrolments = await q
    .selectFrom('course_enrolments as e')
    .innerJoin('users as u', 'u.id', 'e.user_id')
    .selectAll('e')
    .select('u.display_name')
    .where('e.user_id', '=', actor.userId)
    .where('e.course_id', 'in', visibleCourseIds(q, actor))
    .orderBy('e.last_activity_at', 'desc')
    .orderBy('e.course_id')
    .limit(500)
    .execute();
  if (enrolments.length === 0) return [];
  const courseIds = enrolments.map((e) => e.course_id);
  const lessons = await q
    .selectFrom('course_lessons as l')
    .innerJoin('course_modules as m', 'm.id', 'l.module_id')
    .leftJoin('lesson_progress as p', (join) => join.onRef('p.lesson_id', '=', 'l.id').on('p.user_id', '=', actor.userId))
    .select(['l.id', 'l.course_id', 'l.title', 'l.required', 'l.release_type', 'l.release_days', 'l.release_at', 'p.completed_at'])
    .where('l.course_id', '=', (eb) => eb.fn.any(uuids(courseIds)))
    .orderBy('l.course_id')
    .orderBy('m.position')
    .orderBy('m.created_at')
    .orderBy('l.position')
    .orderBy('l.created_at')
    .execute();
  const courses = new Map((await loadCourseDtos(deps, q, actor, courseIds)).map((c) => [c.id, c]));
  return enrolments.flatMap((e) => {
    const course = courses.get(e.course_id);
    if (!course) return [];
    const own = lessons.filter((l) => l.course_id === e.course_id);
    const required = own.filter((l) => l.required);
    const isOpen = (l: (typeof own)[number]) => lessonAvailability(l, e.enrolled_at, now).open;
    const todo = (l: (typeof own)[number]) => l.completed_at === null && isOpen(l);
    // The last lesson opened if it is unfinished, else the next unfinished open one after it, else the first one.
    const lastIndex = own.findIndex((l) => l.id === e.last_lesson_id);
    const next =
      (lastIndex >= 0 && todo(own[lastIndex]!) ? own[lastIndex] : undefined) ??
      own.slice(lastIndex + 1).find(todo) ??
      own.find(todo) ??
      null;
    return [
      {
        course,
        enrolment: presentEnrolment(e, e.display_name),
        percent: percentOf(required.filter((l) => l.completed_at !== null).length, required.length),
        continueLesson: next && { id: next.id, title: next.title },
      },
    ];
  });
}
