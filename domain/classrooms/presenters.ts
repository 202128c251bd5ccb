import { sql } from 'kysely';
import { jsonArrayFrom } from 'kysely/helpers/postgres';
import type { ClassroomDto, RegistrationDto } from '../../contracts/classrooms.ts';
import type { Db } from '../../orm/db.ts';
import { AppError } from '../shared/errors.ts';
import { waitlistOrder } from './waitlist.ts';

const isoOrNull = (at: Date | null) => at?.toISOString() ?? null;

/**
 * Classrooms (`k`) as `userId` sees them: counts, co-hosts, and the caller's own registration and waitlist place.
 * Which classrooms is the caller's business (add the conditions; visibility included).
 */
export function classroomDtoQuery(q: Db, userId: string) {
  return q
    .selectFrom('classrooms as k')
    .innerJoin('users as hu', 'hu.id', 'k.host_id')
    .leftJoin('classroom_registrations as my', (join) => join.onRef('my.classroom_id', '=', 'k.id').on('my.user_id', '=', userId))
    .selectAll('k')
    .select((eb) => {
      const count = (alias: 'r' | 'w') =>
        eb
          .selectFrom(`classroom_registrations as ${alias}`)
          .select(sql<number>`count(*)::int`.as('n'))
          .whereRef(`${alias}.classroom_id`, '=', 'k.id');
      return [
        'hu.display_name as host_name',
        // A count answers one row, always: a scalar, never null.
        count('r').where('r.status', '=', 'registered').$asScalar().as('registered_count'),
        count('r').where('r.status', '=', 'waitlisted').$asScalar().as('waitlist_count'),
        jsonArrayFrom(
          eb
            .selectFrom('classroom_cohosts as h')
            .innerJoin('users as cu', 'cu.id', 'h.user_id')
            .select(['cu.id', 'cu.display_name as displayName'])
            .whereRef('h.classroom_id', '=', 'k.id')
            .orderBy((ob) => ob.fn('lower', ['cu.display_name']))
            .orderBy('cu.id'),
        ).as('cohosts'),
        eb
          .exists(eb.selectFrom('classroom_cohosts as h').select(sql.lit(1).as('one')).whereRef('h.classroom_id', '=', 'k.id').where('h.user_id', '=', userId))
          .$castTo<boolean>()
          .as('is_cohost'),
        'my.status as my_status',
        'my.hold_expires_at as my_hold_expires_at',
        eb
          .case()
          .when('my.status', '=', 'waitlisted')
          .then(
            count('w')
              .innerJoin('classroom_registrations as me', (join) => join.onRef('me.classroom_id', '=', 'w.classroom_id').on('me.user_id', '=', userId))
              .where('w.status', '=', 'waitlisted')
              .where((w) => w(w.refTuple(...waitlistOrder('w')), '<=', w.refTuple(...waitlistOrder('me')))),
          )
          .end()
          .as('my_position'),
      ];
    });
}

type ClassroomDtoRow = Awaited<ReturnType<ReturnType<typeof classroomDtoQuery>['executeTakeFirstOrThrow']>>;

export function presentClassroom(row: ClassroomDtoRow, userId: string): ClassroomDto {
  const k = row;
  const myRegistration = row.my_status === 'registered' || row.my_status === 'waitlisted' || row.my_status === 'held' ? row.my_status : null;
  return {
    id: k.id,
    communityId: k.community_id,
    title: k.title,
    description: k.description,
    startsAt: k.starts_at.toISOString(),
    durationMinutes: k.duration_minutes,
    capacity: k.capacity,
    waitingRoom: k.waiting_room,
    priceMinor: k.price_minor,
    currency: k.currency,
    status: k.status,
    host: { id: k.host_id, displayName: row.host_name },
    cohosts: row.cohosts,
    registeredCount: row.registered_count,
    waitlistCount: row.waitlist_count,
    channelId: k.channel_id,
    startedAt: isoOrNull(k.started_at),
    endedAt: isoOrNull(k.ended_at),
    cancelledAt: isoOrNull(k.cancelled_at),
    myRole: k.host_id === userId ? 'host' : row.is_cohost ? 'cohost' : myRegistration === 'registered' ? 'learner' : null,
    myRegistration,
    myWaitlistPosition: myRegistration === 'waitlisted' ? row.my_position : null,
    myHoldExpiresAt: myRegistration === 'held' ? isoOrNull(row.my_hold_expires_at) : null,
  };
}

export async function loadClassroomDto(q: Db, userId: string, classroomId: string): Promise<ClassroomDto> {
  const row = await classroomDtoQuery(q, userId).where('k.id', '=', classroomId).executeTakeFirst();
  if (!row) throw new AppError('not_found', 'No such classroom.');
  return presentClassroom(row, userId);
}

/** Registered learners first, then the waitlist in order, then cancellations; `userId` narrows to one learner. */
export async function loadRegistrations(q: Db, classroomId: string, userId?: string): Promise<RegistrationDto[]> {
  const rows = await q
    .selectFrom((sub) =>
      sub
        .selectFrom('classroom_registrations as r')
        .innerJoin('users as u', 'u.id', 'r.user_id')
        .select((eb) => [
          'r.user_id',
          'u.display_name',
          'r.status',
          'r.registered_at',
          'r.attended',
          eb
            .case()
            .when('r.status', '=', 'waitlisted')
            .then(eb.cast<number>(eb.fn.agg<number>('row_number').over((ob) => ob.partitionBy('r.status').orderBy(eb.refTuple(...waitlistOrder('r')))), 'integer'))
            .end()
            .as('position'),
        ])
        .where('r.classroom_id', '=', classroomId)
        .as('x'),
    )
    .selectAll('x')
    .$if(userId !== undefined, (qb) => qb.where('x.user_id', '=', userId!))
    .orderBy((ob) => ob.case('x.status').when('registered').then(sql.lit(0)).when('waitlisted').then(sql.lit(1)).else(sql.lit(2)).end())
    .orderBy('x.position', (ob) => ob.asc().nullsLast())
    .orderBy((ob) => ob.fn('lower', ['x.display_name']))
    .orderBy('x.user_id')
    .execute();
  return rows.map((r) => ({
    user: { id: r.user_id, displayName: r.display_name },
    status: r.status,
    waitlistPosition: r.position,
    registeredAt: r.registered_at.toISOString(),
    attended: r.attended,
  }));
}
