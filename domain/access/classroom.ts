import { expressionBuilder, sql, type Expression, type QueryCreator, type Selectable, type SqlBool } from 'kysely';
import { EARLY_START_MINUTES } from '../../contracts/classrooms.ts';
import type { CommunityRole } from '../../contracts/communities.ts';
import type { DB, Db } from '../../orm/db.ts';
import type { Actor } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { isManagingRole, isPlatformAdmin } from './roles.ts';

/*
 * Who may do what in a live classroom. `ClassroomPolicy` decides for one loaded `ClassroomAccess` (REST, sockets and
 * the after-commit work call it); `visibleClassroomIds` is its view rule as a subquery for the classroom list.
 * classroom.test.ts builds every case in a real database and proves the two agree.
 *
 * The rules:
 * - A class is visible wherever its community is (members; anyone for a public community) and to platform admins.
 * - The host, and the community's owners and admins, manage it; the host and co-hosts run the room while they belong
 *   to the community. Learners register (hosts and co-hosts do not) and come in once registered, unless the host
 *   turned them away.
 * - A ban or kick ends the community membership, so it needs no rule here: the community role is already gone.
 */

/** A classrooms row. */
export type Classroom = Selectable<DB['classrooms']>;
type Participant = Selectable<DB['classroom_participants']>;
export type Admission = Participant['admission'];
export type StageState = Participant['stage'];
export type RegistrationState = Selectable<DB['classroom_registrations']>['status'];

/** Everything ClassroomPolicy needs about one user and one classroom, loaded in one query. */
export interface ClassroomAccess {
  classroom: Classroom;
  communityRole: CommunityRole | null;
  communityVisibility: 'public' | 'private';
  isHost: boolean;
  isCohost: boolean;
  registration: RegistrationState | null;
  admission: Admission | null;
  stage: StageState | null;
}

/** Pure rules over loaded data, shared by REST and sockets. */
export const ClassroomPolicy = {
  /** Community owners and admins schedule classes; so do platform instructors who moderate the community. */
  schedule(actor: Actor, communityRole: CommunityRole | null): boolean {
    if (!communityRole) return false;
    return isManagingRole(communityRole) || (actor.role === 'instructor' && communityRole === 'moderator');
  },
  /** The classes of a community are visible to whoever sees the community, and to platform admins. */
  view(actor: Actor, a: Pick<ClassroomAccess, 'communityRole' | 'communityVisibility'>): boolean {
    return a.communityRole !== null || a.communityVisibility === 'public' || isPlatformAdmin(actor);
  },
  /** Edit, cancel, start, end, co-hosts, registrations, attendance: the host, or the community's owners and admins. */
  manage(_actor: Actor, a: ClassroomAccess): boolean {
    if (!a.communityRole) return false;
    return a.isHost || isManagingRole(a.communityRole);
  },
  /** Run the room: admit, stage, hands, mute, polls. The host and co-hosts, while members of the community. */
  staff(_actor: Actor, a: ClassroomAccess): boolean {
    return a.communityRole !== null && (a.isHost || a.isCohost);
  },
  register(_actor: Actor, a: ClassroomAccess): boolean {
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
    return ClassroomPolicy.staff(actor, a) || !a.classroom.waiting_room || a.admission === 'admitted';
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
      now.getTime() >= a.classroom.starts_at.getTime() - EARLY_START_MINUTES * 60_000
    );
  },
} as const;

export type ClassroomAction = Exclude<keyof typeof ClassroomPolicy, 'schedule' | 'rtcToken'>;

/**
 * `lock`: takes the classroom row FOR UPDATE (inside a transaction) so changes to one class are serialized. The
 * community standing (role, visibility) is joined in rather than loaded apart: every room action loads this, once.
 */
export async function loadClassroomAccess(
  q: Db,
  userId: string,
  classroomId: string,
  options: { lock?: boolean } = {},
): Promise<ClassroomAccess | null> {
  let query = q
    .selectFrom('classrooms as k')
    .innerJoin('communities as co', 'co.id', 'k.community_id')
    .leftJoin('community_members as cm', (join) => join.onRef('cm.community_id', '=', 'k.community_id').on('cm.user_id', '=', userId))
    .leftJoin('classroom_registrations as r', (join) => join.onRef('r.classroom_id', '=', 'k.id').on('r.user_id', '=', userId))
    .leftJoin('classroom_participants as p', (join) => join.onRef('p.classroom_id', '=', 'k.id').on('p.user_id', '=', userId))
    .selectAll('k')
    .select((eb) => [
      'cm.role as community_role',
      'co.visibility as community_visibility',
      eb
        .exists(eb.selectFrom('classroom_cohosts as h').select(sql.lit(1).as('one')).whereRef('h.classroom_id', '=', 'k.id').where('h.user_id', '=', userId))
        .$castTo<boolean>()
        .as('is_cohost'),
      'r.status as registration',
      'p.admission',
      'p.stage',
    ])
    .where('k.id', '=', classroomId);
  if (options.lock) query = query.forUpdate('k');
  const row = await query.executeTakeFirst();
  if (!row) return null;
  const { community_role, community_visibility, is_cohost, registration, admission, stage, ...classroom } = row;
  return {
    classroom: classroom as Classroom, // channel_id: see Classroom
    communityRole: community_role,
    communityVisibility: community_visibility,
    isHost: classroom.host_id === userId,
    isCohost: is_cohost,
    registration,
    admission,
    stage,
  };
}

/** A classrooms row aliased `k`, the scope the predicate below is written in. */
type ClassroomScope = DB & { k: DB['classrooms'] };

/** `ClassroomPolicy.view` over the classroom row `k` of the surrounding query, for `actor`. */
export function classroomVisibleTo(actor: Pick<Actor, 'userId' | 'role'>): Expression<SqlBool> {
  if (isPlatformAdmin(actor)) return sql<SqlBool>`true`;
  const eb = expressionBuilder<ClassroomScope, 'k'>();
  return eb.or([
    eb.exists(
      eb.selectFrom('communities as vc').select(sql.lit(1).as('one')).whereRef('vc.id', '=', 'k.community_id').where('vc.visibility', '=', 'public'),
    ),
    eb.exists(
      eb
        .selectFrom('community_members as vm')
        .select(sql.lit(1).as('one'))
        .whereRef('vm.community_id', '=', 'k.community_id')
        .where('vm.user_id', '=', actor.userId),
    ),
  ]);
}

/** The ids of the classrooms `actor` may see: `ClassroomPolicy.view` as a subquery, for the classroom list. */
export function visibleClassroomIds(q: QueryCreator<DB>, actor: Pick<Actor, 'userId' | 'role'>) {
  return q.selectFrom('classrooms as k').select('k.id').where(classroomVisibleTo(actor));
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
  q: Db,
  actor: Actor,
  classroomId: string,
  action: ClassroomAction,
  options: { lock?: boolean } = {},
): Promise<ClassroomAccess> {
  return checkClassroomAccess(actor, await loadClassroomAccess(q, actor.userId, classroomId, options), action);
}
