import type { ClassroomStatus, RegistrationStatus } from '../../contracts/classrooms.ts';
import { EARLY_START_MINUTES } from '../../contracts/classrooms.ts';
import type { CommunityRole } from '../../contracts/communities.ts';
import type { Actor } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import type { Sql } from '../shared/sql.ts';

/** A classrooms row, as the domain uses it. */
export interface Classroom {
  id: string;
  communityId: string;
  hostId: string;
  channelId: string;
  title: string;
  description: string;
  startsAt: Date;
  durationMinutes: number;
  capacity: number;
  waitingRoom: boolean;
  priceMinor: number;
  status: ClassroomStatus;
  stateVersion: number;
  muteAllAt: Date | null;
  muteAllById: string | null;
  createdAt: Date;
  startedAt: Date | null;
  endedAt: Date | null;
  cancelledAt: Date | null;
}

export interface ClassroomRow {
  id: string;
  community_id: string;
  host_id: string;
  channel_id: string;
  title: string;
  description: string;
  starts_at: Date | string;
  duration_minutes: number;
  capacity: number;
  waiting_room: boolean;
  price_minor: number;
  status: ClassroomStatus;
  state_version: string | number;
  mute_all_at: Date | string | null;
  mute_all_by_id: string | null;
  created_at: Date | string;
  started_at: Date | string | null;
  ended_at: Date | string | null;
  cancelled_at: Date | string | null;
}

const dateOrNull = (v: Date | string | null) => (v === null ? null : new Date(v));

export function toClassroom(row: ClassroomRow): Classroom {
  return {
    id: row.id,
    communityId: row.community_id,
    hostId: row.host_id,
    channelId: row.channel_id,
    title: row.title,
    description: row.description,
    startsAt: new Date(row.starts_at),
    durationMinutes: row.duration_minutes,
    capacity: row.capacity,
    waitingRoom: row.waiting_room,
    priceMinor: row.price_minor,
    status: row.status,
    stateVersion: Number(row.state_version),
    muteAllAt: dateOrNull(row.mute_all_at),
    muteAllById: row.mute_all_by_id,
    createdAt: new Date(row.created_at),
    startedAt: dateOrNull(row.started_at),
    endedAt: dateOrNull(row.ended_at),
    cancelledAt: dateOrNull(row.cancelled_at),
  };
}

export type Admission = 'waiting' | 'admitted' | 'denied';
export type StageState = 'none' | 'invited' | 'speaker';

/** Everything ClassroomPolicy needs about one user and one classroom, loaded in one query. */
export interface ClassroomAccess {
  classroom: Classroom;
  communityRole: CommunityRole | null;
  communityVisibility: 'public' | 'private';
  isHost: boolean;
  isCohost: boolean;
  registration: RegistrationStatus | null;
  admission: Admission | null;
  stage: StageState | null;
}

const MANAGING: readonly CommunityRole[] = ['owner', 'admin'];

/** Pure rules over loaded data, shared by REST and sockets. */
export const ClassroomPolicy = {
  /** Community owners and admins schedule classes; so do platform instructors who moderate the community. */
  schedule(actor: Actor, communityRole: CommunityRole | null): boolean {
    if (!communityRole) return false;
    return MANAGING.includes(communityRole) || (actor.role === 'instructor' && communityRole === 'moderator');
  },
  view(actor: Actor, a: ClassroomAccess): boolean {
    return a.communityRole !== null || a.communityVisibility === 'public' || actor.role === 'admin';
  },
  /** Edit, cancel, start, end, co-hosts, registrations, attendance: the host, or the community's owners and admins. */
  manage(_actor: Actor, a: ClassroomAccess): boolean {
    if (!a.communityRole) return false;
    return a.isHost || MANAGING.includes(a.communityRole);
  },
  /** Run the room: admit, stage, hands, mute, polls. The host and co-hosts, while members of the community. */
  staff(_actor: Actor, a: ClassroomAccess): boolean {
    return a.communityRole !== null && (a.isHost || a.isCohost);
  },
  register(actor: Actor, a: ClassroomAccess): boolean {
    return a.communityRole !== null && !a.isHost && !a.isCohost;
  },
  /** May come into the live room (a waiting-room class still holds learners until admitted). */
  enter(actor: Actor, a: ClassroomAccess): boolean {
    if (a.admission === 'denied') return false;
    return ClassroomPolicy.staff(actor, a) || (a.communityRole !== null && a.registration === 'registered');
  },
  /** In the room and allowed to act in it (hands, answers). */
  participate(actor: Actor, a: ClassroomAccess): boolean {
    if (!ClassroomPolicy.enter(actor, a)) return false;
    return ClassroomPolicy.staff(actor, a) || !a.classroom.waitingRoom || a.admission === 'admitted';
  },
  /** Sends audio and video: the host, co-hosts and learners on stage. */
  publish(actor: Actor, a: ClassroomAccess): boolean {
    return ClassroomPolicy.staff(actor, a) || (ClassroomPolicy.participate(actor, a) && a.stage === 'speaker');
  },
  /** A video token: participants while live; the host and co-hosts also from EARLY_START_MINUTES before the start. */
  rtcToken(actor: Actor, a: ClassroomAccess, now: Date): boolean {
    if (!ClassroomPolicy.participate(actor, a)) return false;
    if (a.classroom.status === 'live') return true;
    return (
      a.classroom.status === 'scheduled' &&
      ClassroomPolicy.staff(actor, a) &&
      now.getTime() >= a.classroom.startsAt.getTime() - EARLY_START_MINUTES * 60_000
    );
  },
} as const;

export type ClassroomAction = Exclude<keyof typeof ClassroomPolicy, 'schedule' | 'rtcToken'>;

interface AccessRow extends ClassroomRow {
  community_role: CommunityRole | null;
  community_visibility: 'public' | 'private';
  is_cohost: boolean;
  registration: RegistrationStatus | null;
  admission: Admission | null;
  stage: StageState | null;
}

/** `lock`: takes the classroom row FOR UPDATE (inside a transaction) so changes to one class are serialized. */
export async function loadClassroomAccess(
  sql: Sql,
  userId: string,
  classroomId: string,
  options: { lock?: boolean } = {},
): Promise<ClassroomAccess | null> {
  const [row] = await sql<AccessRow>(
    `select k.*, cm.role as community_role, co.visibility as community_visibility,
            exists (select 1 from classroom_cohosts h where h.classroom_id = k.id and h.user_id = ?::uuid) as is_cohost,
            r.status as registration, p.admission, p.stage
     from classrooms k
     join communities co on co.id = k.community_id
     left join community_members cm on cm.community_id = k.community_id and cm.user_id = ?::uuid
     left join classroom_registrations r on r.classroom_id = k.id and r.user_id = ?::uuid
     left join classroom_participants p on p.classroom_id = k.id and p.user_id = ?::uuid
     where k.id = ?${options.lock ? ' for update of k' : ''}`,
    [userId, userId, userId, userId, classroomId],
  );
  if (!row) return null;
  return {
    classroom: toClassroom(row),
    communityRole: row.community_role,
    communityVisibility: row.community_visibility,
    isHost: row.host_id === userId,
    isCohost: row.is_cohost,
    registration: row.registration,
    admission: row.admission,
    stage: row.stage,
  };
}

const REFUSALS: Record<ClassroomAction, string> = {
  view: 'No such classroom.',
  manage: 'Only the host or a community admin can do that.',
  staff: 'Only the host and co-hosts can do that.',
  register: 'Only members of the community can register (hosts and co-hosts need not).',
  enter: 'Register for this class to join it.',
  participate: 'Wait until the host admits you.',
  publish: 'Only the host, co-hosts and learners on stage can do that.',
};

/**
 * Checks one action. A classroom the actor may not even see answers `not_found`, so its existence is not revealed;
 * a visible one answers `forbidden` with the reason.
 */
export function checkClassroomAccess(actor: Actor, access: ClassroomAccess | null, action: ClassroomAction): ClassroomAccess {
  if (!access || !ClassroomPolicy.view(actor, access)) throw new AppError('not_found', 'No such classroom.');
  if (!ClassroomPolicy[action](actor, access)) {
    if (access.admission === 'denied') throw new AppError('forbidden', 'The host did not admit you to this class.');
    throw new AppError('forbidden', REFUSALS[action]);
  }
  return access;
}

export async function authorizeClassroom(
  sql: Sql,
  actor: Actor,
  classroomId: string,
  action: ClassroomAction,
  options: { lock?: boolean } = {},
): Promise<ClassroomAccess> {
  return checkClassroomAccess(actor, await loadClassroomAccess(sql, actor.userId, classroomId, options), action);
}

/** Room actions need a live class. */
export function assertLive(classroom: Classroom): void {
  if (classroom.status === 'live') return;
  const why: Record<ClassroomStatus, string> = {
    scheduled: 'This class has not started yet.',
    live: '',
    ended: 'This class has ended.',
    cancelled: 'This class was cancelled.',
  };
  throw new AppError('conflict', why[classroom.status]);
}
