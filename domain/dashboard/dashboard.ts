import { sql } from 'kysely';
import { DASHBOARD_CLASS_DAYS, DASHBOARD_ENROLMENT_DAYS, DASHBOARD_LIMITS, type DashboardDto } from '../../contracts/dashboard.ts';
import { db, type Db } from '../../orm/db.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { recentActivity } from './activity.ts';
import { classesSoon } from './classes.ts';
import { coursesInProgress, ebooksBeingRead } from './learning.ts';
import { teachingSummary } from './teaching.ts';
import { unreadSummary } from './unread.ts';

const DAY_MS = 24 * 60 * 60_000;

async function countCommunities(q: Db, userId: string): Promise<number> {
  const row = await q
    .selectFrom('community_members as m')
    .innerJoin('communities as c', 'c.id', 'm.community_id')
    .select(sql<number>`count(*)::int`.as('n'))
    .where('m.user_id', '=', userId)
    .where('c.archived_at', 'is', null)
    .executeTakeFirstOrThrow();
  return row.n;
}

/**
 * GET /me/dashboard — the home page in one answer. Each section asks the access rules of what it lists (see the
 * section's module); they run one after another on one connection rather than holding several per request.
 */
export async function getDashboard(deps: Deps, actor: Actor): Promise<DashboardDto> {
  const q = db(deps.orm.em.fork());
  const now = deps.clock.now();
  const courses = await coursesInProgress(deps, q, actor, DASHBOARD_LIMITS.courses);
  const ebooks = await ebooksBeingRead(q, actor, DASHBOARD_LIMITS.ebooks);
  const classes = await classesSoon(q, actor, now, new Date(now.getTime() + DASHBOARD_CLASS_DAYS * DAY_MS), DASHBOARD_LIMITS.classes);
  const unread = await unreadSummary(q, actor, DASHBOARD_LIMITS.channels);
  const activity = await recentActivity(q, actor, now, DASHBOARD_LIMITS.activity);
  const communityCount = await countCommunities(q, actor.userId);
  const since = new Date(now.getTime() - DASHBOARD_ENROLMENT_DAYS * DAY_MS);
  const teaching = await teachingSummary(q, actor, now, since, DASHBOARD_LIMITS.teachingCourses);
  return { courses, ebooks, classes, unread, activity, communityCount, teaching };
}
