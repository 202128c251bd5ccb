import { sql } from 'kysely';
import type { DashboardClassDto } from '../../contracts/dashboard.ts';
import type { Db } from '../../orm/db.ts';
import { visibleClassroomIds } from '../access/classroom.ts';
import { classroomDtoQuery, presentClassroom } from '../classrooms/presenters.ts';
import type { Actor } from '../shared/deps.ts';

/**
 * Scheduled and live classes as `actor` sees them (ClassroomPolicy.view as visibleClassroomIds), in communities they
 * belong to (registering, hosting and co-hosting all need the membership), soonest first.
 */
function myClasses(q: Db, actor: Actor) {
  return classroomDtoQuery(q, actor.userId)
    .innerJoin('communities as co', 'co.id', 'k.community_id')
    .select('co.name as community_name')
    .where('k.status', 'in', ['scheduled', 'live'])
    .where('co.archived_at', 'is', null)
    .where('k.id', 'in', visibleClassroomIds(q, actor))
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('community_members as cm')
          .select(sql.lit(1).as('one'))
          .whereRef('cm.community_id', '=', 'k.community_id')
          .where('cm.user_id', '=', actor.userId),
      ),
    )
    .orderBy('k.starts_at')
    .orderBy('k.id');
}

type ClassRow = Awaited<ReturnType<ReturnType<typeof myClasses>['executeTakeFirstOrThrow']>>;

function presentDashboardClass(row: ClassRow, userId: string): DashboardClassDto {
  const c = presentClassroom(row, userId);
  return {
    id: c.id,
    communityId: c.communityId,
    communityName: row.community_name,
    title: c.title,
    startsAt: c.startsAt,
    durationMinutes: c.durationMinutes,
    status: c.status,
    host: c.host,
    myRole: c.myRole,
    myRegistration: c.myRegistration,
    // Who the live room lets in (ClassroomPolicy.enter): its staff and registered learners.
    canJoin: c.status === 'live' && (c.myRole === 'host' || c.myRole === 'cohost' || c.myRegistration === 'registered'),
  };
}

/** Live classes, then those starting before `until`, in my communities. */
export async function classesSoon(q: Db, actor: Actor, now: Date, until: Date, limit: number): Promise<DashboardClassDto[]> {
  const rows = await myClasses(q, actor)
    .where((eb) => eb.or([eb('k.status', '=', 'live'), eb.and([eb('k.starts_at', '>=', now), eb('k.starts_at', '<', until)])]))
    .limit(limit)
    .execute();
  const classes = rows.map((row) => presentDashboardClass(row, actor.userId));
  // What can be joined now first, then by start time (the query's order).
  return [...classes.filter((c) => c.status === 'live'), ...classes.filter((c) => c.status !== 'live')];
}

/** The next class I host or co-host: live now (it began earlier, so it comes first), or the soonest one ahead. */
export async function nextClassIHost(q: Db, actor: Actor, now: Date): Promise<DashboardClassDto | null> {
  const row = await myClasses(q, actor)
    .where((eb) =>
      eb.or([
        eb('k.host_id', '=', actor.userId),
        eb.exists(eb.selectFrom('classroom_cohosts as h').select(sql.lit(1).as('one')).whereRef('h.classroom_id', '=', 'k.id').where('h.user_id', '=', actor.userId)),
      ]),
    )
    .where((eb) => eb.or([eb('k.status', '=', 'live'), eb('k.starts_at', '>=', now)]))
    .limit(1)
    .executeTakeFirst();
  return row ? presentDashboardClass(row, actor.userId) : null;
}
