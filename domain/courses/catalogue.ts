import { sql } from 'kysely';
import { z } from 'zod';
import type { CourseDetailDto, CoursePage, ListCoursesQuery } from '../../contracts/courses.ts';
import { db } from '../../orm/db.ts';
import { authorizeCourse, visibleCourseIds, type Viewer } from '../access/course.ts';
import { encodeCursor, decodeCursor } from '../communities/cursor.ts';
import type { Deps } from '../shared/deps.ts';
import { loadCourseDto, loadCourseDtos, loadEnrolmentDto, loadOutline } from './presenters.ts';
import { loadProgress } from './progress.ts';

/** published_at (to the microsecond, UTC) then id, newest first: both fixed once published, so pages stay stable. */
const CourseCursor = z.tuple([z.iso.datetime({ precision: 6 }), z.uuid()]);

/**
 * The catalogue: published courses the viewer may see (signed-out visitors included), newest first, by community,
 * level or tag. A course of a private community is listed to its members only.
 */
export async function listCourses(deps: Deps, viewer: Viewer, query: ListCoursesQuery): Promise<CoursePage> {
  const q = db(deps.orm.em.fork());
  const after = decodeCursor(CourseCursor, query.cursor);
  const { communityId, level, tag } = query;
  const rows = await q
    .selectFrom('courses as k')
    .select(['k.id', sql<string>`to_char(k.published_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`.as('published_key')])
    .where('k.status', '=', 'published')
    .where('k.id', 'in', visibleCourseIds(q, viewer))
    .$if(communityId !== undefined, (qb) => qb.where('k.community_id', '=', communityId!))
    .$if(level !== undefined, (qb) => qb.where('k.level', '=', level!))
    .$if(tag !== undefined, (qb) => qb.where(sql<boolean>`k.tags @> array[${tag!}]::text[]`))
    .$if(after !== undefined, (qb) => qb.where(sql<boolean>`(k.published_at, k.id) < (${after![0]}::timestamptz, ${after![1]}::uuid)`))
    .orderBy('k.published_at', 'desc')
    .orderBy('k.id', 'desc')
    .limit(query.limit + 1)
    .execute();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  return {
    data: await loadCourseDtos(deps, q, viewer, page.map((r) => r.id)),
    nextCursor: rows.length > query.limit && last ? encodeCursor([last.published_key, last.id]) : null,
  };
}

/**
 * The course page: the course, its outline (titles, kinds, locks and release dates — never a lesson's content), and
 * the viewer's enrolment and progress. Authors see drafts too; to everyone else they do not exist.
 */
export async function getCourse(deps: Deps, viewer: Viewer, courseId: string): Promise<CourseDetailDto> {
  const q = db(deps.orm.em.fork());
  const access = await authorizeCourse(q, viewer, courseId, 'view');
  const enrolled = viewer !== null && access.enrolment !== null;
  return {
    course: await loadCourseDto(deps, q, viewer, courseId),
    modules: await loadOutline(q, viewer, access, deps.clock.now()),
    enrolment: enrolled ? await loadEnrolmentDto(q, courseId, viewer.userId) : null,
    progress: enrolled ? await loadProgress(q, courseId, viewer.userId) : null,
  };
}
