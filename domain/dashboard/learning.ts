import type { DashboardCourseDto, DashboardEbookDto } from '../../contracts/dashboard.ts';
import type { Db } from '../../orm/db.ts';
import { entitledIds } from '../access/entitlement.ts';
import { EbookPolicy, loadEbookAccess } from '../access/ebook.ts';
import { listMyCourses } from '../courses/enrolment.ts';
import type { Actor, Deps } from '../shared/deps.ts';

/**
 * Courses in progress: my enrolments as "My courses" lists them (visible courses, the same next-lesson rule), less the
 * finished ones and those I may no longer learn (a refund revoked the entitlement: the lesson link would refuse me).
 */
export async function coursesInProgress(deps: Deps, q: Db, actor: Actor, limit: number): Promise<DashboardCourseDto[]> {
  const mine = (await listMyCourses(deps, actor)).filter((c) => c.enrolment.completedAt === null && c.percent < 100);
  const entitled = await entitledIds(
    q,
    actor.userId,
    'course',
    mine.map((c) => c.course.id),
  );
  return mine
    .filter((c) => entitled.has(c.course.id))
    .slice(0, limit)
    .map((c) => ({ courseId: c.course.id, title: c.course.title, percent: c.percent, nextLesson: c.continueLesson }));
}

/** How many recent reading positions are looked at to find `limit` ebooks still readable. */
const EBOOK_CANDIDATES = 12;

/**
 * Ebooks I am reading: my reading positions, most recent first, each kept only while EbookPolicy.read still lets me
 * in (an ebook refunded, or taken back, drops out). Judged per ebook with the policy itself: a handful of rows.
 */
export async function ebooksBeingRead(q: Db, actor: Actor, limit: number): Promise<DashboardEbookDto[]> {
  const positions = await q
    .selectFrom('ebook_positions as p')
    .innerJoin('ebooks as e', 'e.id', 'p.ebook_id')
    .innerJoin('ebook_chapters as ch', 'ch.id', 'p.chapter_id')
    .select(['p.ebook_id', 'e.title', 'p.chapter_id', 'ch.title as chapter_title', 'p.updated_at'])
    .where('p.user_id', '=', actor.userId)
    .orderBy('p.updated_at', 'desc')
    .orderBy('p.ebook_id')
    .limit(EBOOK_CANDIDATES)
    .execute();
  const result: DashboardEbookDto[] = [];
  for (const p of positions) {
    if (result.length >= limit) break;
    const access = await loadEbookAccess(q, actor.userId, p.ebook_id);
    if (!access || !EbookPolicy.view(actor, access) || !EbookPolicy.read(actor, access)) continue;
    result.push({ ebookId: p.ebook_id, title: p.title, chapterId: p.chapter_id, chapterTitle: p.chapter_title, readAt: p.updated_at.toISOString() });
  }
  return result;
}
