import type { ClassroomDto, RegistrationDto, RegistrationStatus } from '../../contracts/classrooms.ts';
import type { UserRef } from '../../contracts/communities.ts';
import { AppError } from '../shared/errors.ts';
import type { Sql } from '../shared/sql.ts';
import { toClassroom, type ClassroomRow } from './access.ts';

type Time = Date | string;
const iso = (t: Time) => new Date(t).toISOString();
const isoOrNull = (t: Time | null) => (t === null ? null : iso(t));

/**
 * The waitlist order: first registered first. `registered_at` comes from the product clock; `updated_at` is the
 * database's own clock at the write, so registrations made at the same product instant still keep their order.
 */
export const waitlistOrder = (alias: string) => `${alias}.registered_at, ${alias}.updated_at, ${alias}.user_id`;

interface ClassroomDtoRow extends ClassroomRow {
  host_name: string;
  registered_count: number;
  waitlist_count: number;
  cohosts: UserRef[];
  is_cohost: boolean;
  my_status: RegistrationStatus | null;
  my_position: number | null;
}

/** `where` may use `k` (classrooms), `co` (communities) and `me.id` (the caller); its parameters follow the caller's id. */
const classroomSelect = (where: string, tail: string) => `
  select k.*, hu.display_name as host_name,
         (select count(*)::int from classroom_registrations r where r.classroom_id = k.id and r.status = 'registered') as registered_count,
         (select count(*)::int from classroom_registrations r where r.classroom_id = k.id and r.status = 'waitlisted') as waitlist_count,
         coalesce((select json_agg(json_build_object('id', cu.id, 'displayName', cu.display_name) order by lower(cu.display_name), cu.id)
                   from classroom_cohosts h join users cu on cu.id = h.user_id where h.classroom_id = k.id), '[]'::json) as cohosts,
         exists (select 1 from classroom_cohosts h where h.classroom_id = k.id and h.user_id = me.id) as is_cohost,
         my.status as my_status,
         case when my.status = 'waitlisted' then (
           select count(*)::int from classroom_registrations w
           where w.classroom_id = k.id and w.status = 'waitlisted'
             and (${waitlistOrder('w')}) <= (${waitlistOrder('my')})
         ) end as my_position
  from classrooms k
  join communities co on co.id = k.community_id
  join users hu on hu.id = k.host_id
  cross join (select ?::uuid as id) me
  left join classroom_registrations my on my.classroom_id = k.id and my.user_id = me.id
  where ${where}
  ${tail}`;

export function presentClassroom(row: ClassroomDtoRow, userId: string): ClassroomDto {
  const k = toClassroom(row);
  const myRegistration = row.my_status === 'registered' || row.my_status === 'waitlisted' ? row.my_status : null;
  return {
    id: k.id,
    communityId: k.communityId,
    title: k.title,
    description: k.description,
    startsAt: k.startsAt.toISOString(),
    durationMinutes: k.durationMinutes,
    capacity: k.capacity,
    waitingRoom: k.waitingRoom,
    priceMinor: k.priceMinor,
    status: k.status,
    host: { id: k.hostId, displayName: row.host_name },
    cohosts: row.cohosts,
    registeredCount: row.registered_count,
    waitlistCount: row.waitlist_count,
    channelId: k.channelId,
    startedAt: isoOrNull(k.startedAt),
    endedAt: isoOrNull(k.endedAt),
    cancelledAt: isoOrNull(k.cancelledAt),
    myRole: k.hostId === userId ? 'host' : row.is_cohost ? 'cohost' : myRegistration === 'registered' ? 'learner' : null,
    myRegistration,
    myWaitlistPosition: myRegistration === 'waitlisted' ? row.my_position : null,
  };
}

/** Classrooms matching `where`, as `userId` sees them. Visibility is the caller's business. */
export async function loadClassroomDtos(
  sql: Sql,
  userId: string,
  where: string,
  params: unknown[],
  tail = 'order by k.starts_at, k.id',
): Promise<ClassroomDto[]> {
  const rows = await sql<ClassroomDtoRow>(classroomSelect(where, tail), [userId, ...params]);
  return rows.map((row) => presentClassroom(row, userId));
}

export async function loadClassroomDto(sql: Sql, userId: string, classroomId: string): Promise<ClassroomDto> {
  const [dto] = await loadClassroomDtos(sql, userId, 'k.id = ?', [classroomId]);
  if (!dto) throw new AppError('not_found', 'No such classroom.');
  return dto;
}

interface RegistrationRow {
  user_id: string;
  display_name: string;
  status: RegistrationStatus;
  position: number | null;
  registered_at: Time;
  attended: boolean | null;
}

/** Registered learners first, then the waitlist in order, then cancellations; `userId` narrows to one learner. */
export async function loadRegistrations(sql: Sql, classroomId: string, userId?: string): Promise<RegistrationDto[]> {
  const rows = await sql<RegistrationRow>(
    `select * from (
       select r.user_id, u.display_name, r.status, r.registered_at, r.updated_at, r.attended,
              case when r.status = 'waitlisted'
                   then (row_number() over (partition by r.status order by ${waitlistOrder('r')}))::int end as position
       from classroom_registrations r join users u on u.id = r.user_id
       where r.classroom_id = ?
     ) x
     where (?::uuid is null or x.user_id = ?::uuid)
     order by case x.status when 'registered' then 0 when 'waitlisted' then 1 else 2 end,
              x.position nulls last, lower(x.display_name), x.user_id`,
    [classroomId, userId ?? null, userId ?? null],
  );
  return rows.map((r) => ({
    user: { id: r.user_id, displayName: r.display_name },
    status: r.status,
    waitlistPosition: r.position,
    registeredAt: iso(r.registered_at),
    attended: r.attended,
  }));
}
