import type { ClassroomDto, CreateClassroomInput, UpdateClassroomInput } from '../../contracts/classrooms.ts';
import { rooms } from '../../contracts/realtime.ts';
import { loadCommunityAccess } from '../communities/membership.ts';
import { announceChannelAdded, revokeChannelAccess } from '../communities/revoke.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { sqlOf } from '../shared/sql.ts';
import { authorizeClassroom, checkClassroomAccess, ClassroomPolicy, loadClassroomAccess, type Classroom } from './access.ts';
import { loadClassroomDto, loadClassroomDtos } from './presenters.ts';
import { pushRtcToken } from './actions.ts';
import { evictAfterCommit } from './registrations.ts';
import { changeRoom, loadHandQueue, loadWaiting, participantsPatch } from './state.ts';
import { notifyPromoted, promoteWaitlisted } from './waitlist.ts';

function assertNotPast(startsAt: string, now: Date): void {
  if (new Date(startsAt).getTime() >= now.getTime()) return;
  const message = 'startsAt is in the past: choose a time that has not come yet.';
  throw new AppError('invalid_input', message, { details: { fields: { startsAt: message } } });
}

function assertNotOver(classroom: Classroom): void {
  if (classroom.status === 'ended') throw new AppError('conflict', 'This class has ended.');
  if (classroom.status === 'cancelled') throw new AppError('conflict', 'This class was cancelled.');
}

/** Schedules a class with its own private chat channel (the host is its first member), in one transaction. */
export async function createClassroom(deps: Deps, actor: Actor, input: CreateClassroomInput): Promise<ClassroomDto> {
  assertNotPast(input.startsAt, deps.clock.now());
  return deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    const community = await loadCommunityAccess(sql, actor.userId, input.communityId);
    if (!ClassroomPolicy.schedule(actor, community.role)) {
      throw new AppError('forbidden', 'Only community owners and admins, and instructors who moderate the community, can schedule classes.');
    }
    const id = crypto.randomUUID();
    const channelId = crypto.randomUUID();
    await sql(`insert into channels (id, community_id, kind, name, visibility, created_by_id) values (?, ?, 'classroom', null, 'private', ?)`, [
      channelId,
      input.communityId,
      actor.userId,
    ]);
    await sql(
      `insert into classrooms (id, community_id, host_id, channel_id, title, description, starts_at, duration_minutes, capacity,
                               waiting_room, price_minor)
       values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id,
        input.communityId,
        actor.userId,
        channelId,
        input.title,
        input.description,
        input.startsAt,
        input.durationMinutes,
        input.capacity,
        input.waitingRoom,
        input.priceMinor,
      ],
    );
    await sql('insert into channel_members (channel_id, user_id) values (?, ?)', [channelId, actor.userId]);
    return loadClassroomDto(sql, actor.userId, id);
  });
}

export interface ListClassroomsFilter {
  communityId?: string;
  from?: string;
  to?: string;
  limit: number;
}

/**
 * Scheduled and live classes, soonest first: of one community the caller may see, or of every community the caller
 * belongs to. `from` keeps live classes that began earlier; `to` bounds the start.
 */
export async function listClassrooms(deps: Deps, actor: Actor, filter: ListClassroomsFilter): Promise<ClassroomDto[]> {
  const sql = sqlOf(deps.orm.em.fork());
  const conditions = [`k.status in ('scheduled', 'live')`, 'co.archived_at is null'];
  const params: unknown[] = [];
  if (filter.communityId) {
    const community = await loadCommunityAccess(sql, actor.userId, filter.communityId, { requireView: false });
    const visible = community.role !== null || community.visibility === 'public' || actor.role === 'admin';
    if (!visible) throw new AppError('not_found', 'No such community.');
    conditions.push('k.community_id = ?');
    params.push(filter.communityId);
  } else {
    conditions.push('exists (select 1 from community_members cm where cm.community_id = k.community_id and cm.user_id = me.id)');
  }
  if (filter.from) {
    conditions.push(`(k.starts_at >= ?::timestamptz or k.status = 'live')`);
    params.push(filter.from);
  }
  if (filter.to) {
    conditions.push('k.starts_at < ?::timestamptz');
    params.push(filter.to);
  }
  return loadClassroomDtos(sql, actor.userId, conditions.join(' and '), [...params, filter.limit], 'order by k.starts_at, k.id limit ?');
}

export async function getClassroom(deps: Deps, actor: Actor, classroomId: string): Promise<ClassroomDto> {
  const sql = sqlOf(deps.orm.em.fork());
  await authorizeClassroom(sql, actor, classroomId, 'view');
  return loadClassroomDto(sql, actor.userId, classroomId);
}

const LIVE_EDITABLE = new Set(['title', 'description']);

/**
 * Edits a scheduled class (only its title and description once live). More seats go to the waitlist at once; fewer
 * seats than learners already registered are refused rather than taking seats away.
 */
export async function updateClassroom(deps: Deps, actor: Actor, classroomId: string, input: UpdateClassroomInput): Promise<ClassroomDto> {
  const now = deps.clock.now();
  const { dto, classroom, promoted } = await deps.orm.em.fork().transactional(async (tx) => {
    const sql = sqlOf(tx);
    const { classroom } = await authorizeClassroom(sql, actor, classroomId, 'manage', { lock: true });
    assertNotOver(classroom);
    const fields = Object.keys(input).filter((k) => input[k as keyof UpdateClassroomInput] !== undefined);
    if (classroom.status === 'live' && fields.some((f) => !LIVE_EDITABLE.has(f))) {
      throw new AppError('conflict', 'The class is live: only its title and description can change now.');
    }
    if (input.startsAt !== undefined) assertNotPast(input.startsAt, now);
    if (input.capacity !== undefined) {
      const [taken] = await sql<{ n: number }>(
        `select count(*)::int as n from classroom_registrations where classroom_id = ? and status = 'registered'`,
        [classroomId],
      );
      if (input.capacity < (taken?.n ?? 0)) {
        throw new AppError('conflict', `${taken!.n} learners are registered: the capacity cannot go below that.`);
      }
    }
    const columns: Record<keyof UpdateClassroomInput, string> = {
      title: 'title',
      description: 'description',
      startsAt: 'starts_at',
      durationMinutes: 'duration_minutes',
      capacity: 'capacity',
      waitingRoom: 'waiting_room',
      priceMinor: 'price_minor',
    };
    const sets = fields.map((f) => `${columns[f as keyof UpdateClassroomInput]} = ?`);
    await sql(`update classrooms set ${sets.join(', ')} where id = ?`, [...fields.map((f) => input[f as keyof UpdateClassroomInput]), classroomId]);
    const updated = { ...classroom, capacity: input.capacity ?? classroom.capacity, title: input.title ?? classroom.title };
    const promoted = input.capacity !== undefined && input.capacity > classroom.capacity ? await promoteWaitlisted(sql, updated) : [];
    return { dto: await loadClassroomDto(sql, actor.userId, classroomId), classroom: updated, promoted };
  });
  notifyPromoted(deps, classroom, promoted);
  return dto;
}

/**
 * Calls off a scheduled class and closes its chat. Registered and waitlisted learners are told on every device with
 * `classroom:removed` (reason `unregistered`): their place is gone; their registrations stay as the history.
 */
export async function cancelClassroom(deps: Deps, actor: Actor, classroomId: string): Promise<ClassroomDto> {
  const now = deps.clock.now();
  const { result } = await changeRoom(deps, classroomId, async (_tx, { sql, classroom }) => {
    checkClassroomAccess(actor, await loadClassroomAccess(sql, actor.userId, classroomId), 'manage');
    if (classroom.status === 'live') throw new AppError('conflict', 'The class is live: end it instead of cancelling it.');
    assertNotOver(classroom);
    await sql(`update classrooms set status = 'cancelled', cancelled_at = ? where id = ?`, [now, classroomId]);
    await sql('update channels set archived_at = coalesce(archived_at, ?) where id = ?', [now, classroom.channelId]);
    const learners = await sql<{ user_id: string }>(
      `select user_id from classroom_registrations where classroom_id = ? and status in ('registered', 'waitlisted')`,
      [classroomId],
    );
    return {
      patch: { status: 'cancelled' },
      result: await loadClassroomDto(sql, actor.userId, classroomId),
      after: () => {
        if (!learners.length) return;
        deps.publisher.toRoom(
          learners.map((l) => rooms.user(l.user_id)),
          'classroom:removed',
          { classroomId, reason: 'unregistered' },
        );
      },
    };
  });
  return result;
}

/**
 * Makes a community member a co-host: they run the room with the host and join the class chat. A registration of
 * theirs is given up (co-hosts take no seat), which may promote a waitlisted learner. Adding twice changes nothing.
 */
export async function addCohost(deps: Deps, actor: Actor, classroomId: string, userId: string): Promise<ClassroomDto> {
  const { result } = await changeRoom(deps, classroomId, async (_tx, { sql, classroom }) => {
    checkClassroomAccess(actor, await loadClassroomAccess(sql, actor.userId, classroomId), 'manage');
    assertNotOver(classroom);
    if (userId === classroom.hostId) throw new AppError('conflict', 'The host already runs this class.');
    const [member] = await sql('select 1 as ok from community_members where community_id = ? and user_id = ?', [classroom.communityId, userId]);
    if (!member) throw new AppError('not_found', 'That user is not a member of this community.');
    const added = await sql('insert into classroom_cohosts (classroom_id, user_id) values (?, ?) on conflict do nothing returning user_id', [
      classroomId,
      userId,
    ]);
    if (!added.length) return { patch: null, result: await loadClassroomDto(sql, actor.userId, classroomId) };
    const [registration] = await sql<{ status: string }>(
      `select status from classroom_registrations where classroom_id = ? and user_id = ? and status <> 'cancelled'`,
      [classroomId, userId],
    );
    if (registration) {
      await sql(`update classroom_registrations set status = 'cancelled', updated_at = clock_timestamp() where classroom_id = ? and user_id = ?`, [
        classroomId,
        userId,
      ]);
    }
    const promoted = registration?.status === 'registered' ? await promoteWaitlisted(sql, classroom) : [];
    // Staff run the room rather than queue in it.
    await sql(`update classroom_participants set hand_raised_at = null, hand_order = null, stage = 'none', admission = 'admitted'
               where classroom_id = ? and user_id = ?`, [classroomId, userId]);
    await sql('insert into channel_members (channel_id, user_id) values (?, ?) on conflict do nothing', [classroom.channelId, userId]);
    return {
      patch: {
        ...(await participantsPatch(sql, classroomId, [userId])),
        handQueue: await loadHandQueue(sql, classroomId),
        waiting: await loadWaiting(sql, classroomId),
      },
      result: await loadClassroomDto(sql, actor.userId, classroomId),
      after: async () => {
        notifyPromoted(deps, classroom, promoted);
        announceChannelAdded(deps, rooms.user(userId), classroom.channelId, classroom.communityId);
        deps.publisher.joinRoom(rooms.user(userId), rooms.classroomStaff(classroomId));
        // Already in the room as a learner: their video switches to publishing.
        if (classroom.status === 'live') await pushRtcToken(deps, classroomId, userId);
      },
    };
  });
  return result;
}

/**
 * Takes a co-host off the class. They hold no registration, so they have no place in it any more: they leave the
 * class chat and, if they are in the room, the room, on every node.
 */
export async function removeCohost(deps: Deps, actor: Actor, classroomId: string, userId: string): Promise<ClassroomDto> {
  const { result } = await changeRoom(deps, classroomId, async (_tx, { sql, classroom }) => {
    checkClassroomAccess(actor, await loadClassroomAccess(sql, actor.userId, classroomId), 'manage');
    const removed = await sql('delete from classroom_cohosts where classroom_id = ? and user_id = ? returning user_id', [classroomId, userId]);
    if (!removed.length) throw new AppError('not_found', 'That user is not a co-host of this class.');
    await sql('delete from channel_members where channel_id = ? and user_id = ?', [classroom.channelId, userId]);
    return {
      patch: await participantsPatch(sql, classroomId, [userId]),
      result: await loadClassroomDto(sql, actor.userId, classroomId),
      after: async () => {
        revokeChannelAccess(deps, userId, [classroom.channelId]);
        deps.publisher.leaveRoom(rooms.user(userId), rooms.classroomStaff(classroomId));
        // Staff may be in the room before the start as well.
        if (classroom.status === 'scheduled' || classroom.status === 'live') await evictAfterCommit(deps, classroomId, userId, 'removed');
      },
    };
  });
  return result;
}
