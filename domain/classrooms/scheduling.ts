import { sql } from 'kysely';
import type { ClassroomDto, CreateClassroomInput, UpdateClassroomInput } from '../../contracts/classrooms.ts';
import { db } from '../../orm/db.ts';
import {
  authorizeClassroom,
  checkClassroomAccess,
  ClassroomPolicy,
  loadClassroomAccess,
  visibleClassroomIds,
} from '../access/classroom.ts';
import { loadCommunityAccess } from '../access/community.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { pushRtcToken } from './actions.ts';
import { evictAfterCommit } from './eviction.ts';
import { classroomDtoQuery, loadClassroomDto, presentClassroom } from './presenters.ts';
import { joinClassChat } from './room.ts';
import { changeRoom, loadHandQueue, loadWaiting, participantsPatch } from './state.ts';
import { assertNotOver } from './status.ts';
import { announcePromoted, countTaken, promoteWaitlisted, seatClockOf } from './waitlist.ts';

function assertNotPast(startsAt: string, now: Date): void {
  if (new Date(startsAt).getTime() >= now.getTime()) return;
  const message = 'startsAt is in the past: choose a time that has not come yet.';
  throw new AppError('invalid_input', message, { details: { fields: { startsAt: message } } });
}

/** `classroom.scheduled`'s payload: the start as a canonical ISO string (what reminder jobs compare against). */
const scheduledEvent = (classroomId: string, startsAt: string) =>
  ({ classroomId, startsAt: new Date(startsAt).toISOString(), status: 'scheduled' }) as const;

/** Schedules a class with its own private chat channel (the host is its first member), in one transaction. */
export async function createClassroom(deps: Deps, actor: Actor, input: CreateClassroomInput): Promise<ClassroomDto> {
  assertNotPast(input.startsAt, deps.clock.now());
  const dto = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const community = await loadCommunityAccess(q, actor.userId, input.communityId);
    if (!ClassroomPolicy.schedule(actor, community.role)) {
      throw new AppError('forbidden', 'Only community owners and admins, and instructors who moderate the community, can schedule classes.');
    }
    const id = crypto.randomUUID();
    const channelId = crypto.randomUUID();
    await q
      .insertInto('channels')
      .values({ id: channelId, community_id: input.communityId, kind: 'classroom', name: null, visibility: 'private', created_by_id: actor.userId })
      .execute();
    await q
      .insertInto('classrooms')
      .values({
        id,
        community_id: input.communityId,
        host_id: actor.userId,
        channel_id: channelId,
        title: input.title,
        description: input.description,
        starts_at: new Date(input.startsAt),
        duration_minutes: input.durationMinutes,
        capacity: input.capacity,
        waiting_room: input.waitingRoom,
        price_minor: input.priceMinor,
        currency: input.currency ?? null,
      })
      .execute();
    await q.insertInto('channel_members').values({ channel_id: channelId, user_id: actor.userId }).execute();
    await deps.events.record(tx, 'classroom.scheduled', scheduledEvent(id, input.startsAt));
    return loadClassroomDto(q, actor.userId, id);
  });
  await deps.events.emit('classroom.scheduled', scheduledEvent(dto.id, dto.startsAt));
  return dto;
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
  const q = db(deps.orm.em.fork());
  if (filter.communityId) {
    const community = await loadCommunityAccess(q, actor.userId, filter.communityId, { requireView: false });
    if (!ClassroomPolicy.view(actor, { communityRole: community.role, communityVisibility: community.visibility })) {
      throw new AppError('not_found', 'No such community.');
    }
  }
  const { communityId, from, to } = filter;
  const rows = await classroomDtoQuery(q, actor.userId)
    .innerJoin('communities as co', 'co.id', 'k.community_id')
    .where('k.status', 'in', ['scheduled', 'live'])
    .where('co.archived_at', 'is', null)
    .where('k.id', 'in', visibleClassroomIds(q, actor))
    .$if(communityId !== undefined, (qb) => qb.where('k.community_id', '=', communityId!))
    .$if(communityId === undefined, (qb) =>
      qb.where((eb) =>
        eb.exists(
          eb
            .selectFrom('community_members as cm')
            .select(sql.lit(1).as('one'))
            .whereRef('cm.community_id', '=', 'k.community_id')
            .where('cm.user_id', '=', actor.userId),
        ),
      ),
    )
    .$if(from !== undefined, (qb) => qb.where((eb) => eb.or([eb('k.starts_at', '>=', new Date(from!)), eb('k.status', '=', 'live')])))
    .$if(to !== undefined, (qb) => qb.where('k.starts_at', '<', new Date(to!)))
    .orderBy('k.starts_at')
    .orderBy('k.id')
    .limit(filter.limit)
    .execute();
  return rows.map((row) => presentClassroom(row, actor.userId));
}

export async function getClassroom(deps: Deps, actor: Actor, classroomId: string): Promise<ClassroomDto> {
  const q = db(deps.orm.em.fork());
  await authorizeClassroom(q, actor, classroomId, 'view');
  return loadClassroomDto(q, actor.userId, classroomId);
}

const LIVE_EDITABLE = new Set(['title', 'description']);

/**
 * Edits a scheduled class (only its title and description once live). More seats go to the waitlist at once; fewer
 * seats than learners already registered are refused rather than taking seats away.
 */
export async function updateClassroom(deps: Deps, actor: Actor, classroomId: string, input: UpdateClassroomInput): Promise<ClassroomDto> {
  const now = deps.clock.now();
  const { dto, classroom, promoted, moved } = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { classroom } = await authorizeClassroom(q, actor, classroomId, 'manage', { lock: true });
    assertNotOver(classroom);
    const fields = Object.keys(input).filter((k) => input[k as keyof UpdateClassroomInput] !== undefined);
    if (classroom.status === 'live' && fields.some((f) => !LIVE_EDITABLE.has(f))) {
      throw new AppError('conflict', 'The class is live: only its title and description can change now.');
    }
    if (input.startsAt !== undefined) assertNotPast(input.startsAt, now);
    if (input.capacity !== undefined) {
      const taken = await countTaken(q, classroomId, now);
      if (input.capacity < taken) throw new AppError('conflict', `${taken} learners are registered: the capacity cannot go below that.`);
    }
    const priceMinor = input.priceMinor ?? classroom.price_minor;
    const currency = input.currency === undefined ? classroom.currency : input.currency;
    if (priceMinor > 0 && currency === null) {
      const message = 'A priced class needs a currency.';
      throw new AppError('invalid_input', message, { details: { fields: { currency: message } } });
    }
    await q
      .updateTable('classrooms')
      .set({
        title: input.title,
        description: input.description,
        starts_at: input.startsAt === undefined ? undefined : new Date(input.startsAt),
        duration_minutes: input.durationMinutes,
        capacity: input.capacity,
        waiting_room: input.waitingRoom,
        price_minor: input.priceMinor,
        currency: input.currency,
      })
      .where('id', '=', classroomId)
      .execute();
    const moved = input.startsAt !== undefined && new Date(input.startsAt).getTime() !== classroom.starts_at.getTime();
    // A move is announced as a new schedule (reminders follow it); any other edit as an update.
    if (moved) await deps.events.record(tx, 'classroom.scheduled', scheduledEvent(classroomId, input.startsAt!));
    else await deps.events.record(tx, 'classroom.updated', { classroomId });
    const updated = { ...classroom, capacity: input.capacity ?? classroom.capacity, title: input.title ?? classroom.title, price_minor: priceMinor };
    const promoted =
      input.capacity !== undefined && input.capacity > classroom.capacity ? await promoteWaitlisted(q, updated, seatClockOf(deps)) : [];
    return { dto: await loadClassroomDto(q, actor.userId, classroomId), classroom: updated, promoted, moved };
  });
  await announcePromoted(deps, classroom, promoted);
  if (moved) await deps.events.emit('classroom.scheduled', scheduledEvent(classroomId, dto.startsAt));
  else await deps.events.emit('classroom.updated', { classroomId });
  return dto;
}

/**
 * Calls off a scheduled class and closes its chat. Registered and waitlisted learners are told on every device
 * (`classroom.cancelled`): their place is gone; their registrations stay as the history.
 */
export async function cancelClassroom(deps: Deps, actor: Actor, classroomId: string): Promise<ClassroomDto> {
  const now = deps.clock.now();
  const { result } = await changeRoom(deps, classroomId, async ({ q, tx, classroom }) => {
    checkClassroomAccess(actor, await loadClassroomAccess(q, actor.userId, classroomId), 'manage');
    if (classroom.status === 'live') throw new AppError('conflict', 'The class is live: end it instead of cancelling it.');
    assertNotOver(classroom);
    await q.updateTable('classrooms').set({ status: 'cancelled', cancelled_at: now }).where('id', '=', classroomId).execute();
    await q
      .updateTable('channels')
      .set((eb) => ({ archived_at: eb.fn.coalesce('archived_at', eb.val(now)) }))
      .where('id', '=', classroom.channel_id)
      .execute();
    const learners = await q
      .selectFrom('classroom_registrations')
      .select('user_id')
      .where('classroom_id', '=', classroomId)
      .where('status', 'in', ['registered', 'waitlisted', 'held'])
      .execute();
    const cancelled = { classroomId, communityId: classroom.community_id, learnerIds: learners.map((l) => l.user_id) };
    // Durable too: work that must follow a cancellation (dropping the class's reminder) survives a crash after commit.
    await deps.events.record(tx, 'classroom.cancelled', cancelled);
    return {
      patch: { status: 'cancelled' },
      result: await loadClassroomDto(q, actor.userId, classroomId),
      after: () => deps.events.emit('classroom.cancelled', cancelled),
    };
  });
  return result;
}

/**
 * Makes a community member a co-host: they run the room with the host and join the class chat. A registration of
 * theirs is given up (co-hosts take no seat), which may promote a waitlisted learner. Adding twice changes nothing.
 */
export async function addCohost(deps: Deps, actor: Actor, classroomId: string, userId: string): Promise<ClassroomDto> {
  const { result } = await changeRoom(deps, classroomId, async ({ q, classroom }) => {
    checkClassroomAccess(actor, await loadClassroomAccess(q, actor.userId, classroomId), 'manage');
    assertNotOver(classroom);
    if (userId === classroom.host_id) throw new AppError('conflict', 'The host already runs this class.');
    const member = await q
      .selectFrom('community_members')
      .select('user_id')
      .where('community_id', '=', classroom.community_id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!member) throw new AppError('not_found', 'That user is not a member of this community.');
    const added = await q
      .insertInto('classroom_cohosts')
      .values({ classroom_id: classroomId, user_id: userId })
      .onConflict((oc) => oc.doNothing())
      .returning('user_id')
      .execute();
    if (!added.length) return { patch: null, result: await loadClassroomDto(q, actor.userId, classroomId) };
    const registration = await q
      .selectFrom('classroom_registrations')
      .select('status')
      .where('classroom_id', '=', classroomId)
      .where('user_id', '=', userId)
      .where('status', '<>', 'cancelled')
      .executeTakeFirst();
    if (registration) {
      await q
        .updateTable('classroom_registrations')
        .set({ status: 'cancelled', updated_at: sql<Date>`clock_timestamp()` })
        .where('classroom_id', '=', classroomId)
        .where('user_id', '=', userId)
        .execute();
    }
    const freed = registration?.status === 'registered' || registration?.status === 'held';
    const promoted = freed ? await promoteWaitlisted(q, classroom, seatClockOf(deps)) : [];
    // Staff run the room rather than queue in it.
    await q
      .updateTable('classroom_participants')
      .set({ hand_raised_at: null, hand_order: null, stage: 'none', admission: 'admitted' })
      .where('classroom_id', '=', classroomId)
      .where('user_id', '=', userId)
      .execute();
    await joinClassChat(q, classroom.channel_id, userId);
    return {
      patch: {
        ...(await participantsPatch(q, classroomId, [userId])),
        handQueue: await loadHandQueue(q, classroomId),
        waiting: await loadWaiting(q, classroomId),
      },
      result: await loadClassroomDto(q, actor.userId, classroomId),
      after: async () => {
        await announcePromoted(deps, classroom, promoted);
        await deps.events.emit('channel.added', { channelId: classroom.channel_id, communityId: classroom.community_id, openTo: 'users', userIds: [userId] });
        await deps.events.emit('classroom.cohost_added', { classroomId, userId });
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
  const { result } = await changeRoom(deps, classroomId, async ({ q, classroom }) => {
    checkClassroomAccess(actor, await loadClassroomAccess(q, actor.userId, classroomId), 'manage');
    const removed = await q
      .deleteFrom('classroom_cohosts')
      .where('classroom_id', '=', classroomId)
      .where('user_id', '=', userId)
      .returning('user_id')
      .execute();
    if (!removed.length) throw new AppError('not_found', 'That user is not a co-host of this class.');
    await q.deleteFrom('channel_members').where('channel_id', '=', classroom.channel_id).where('user_id', '=', userId).execute();
    return {
      patch: await participantsPatch(q, classroomId, [userId]),
      result: await loadClassroomDto(q, actor.userId, classroomId),
      after: async () => {
        await deps.events.emit('channel.access_revoked', { userId, channelIds: [classroom.channel_id] });
        await deps.events.emit('classroom.cohost_removed', { classroomId, userId });
        // Staff may be in the room before the start as well.
        if (classroom.status === 'scheduled' || classroom.status === 'live') await evictAfterCommit(deps, classroomId, userId, 'removed');
      },
    };
  });
  return result;
}
