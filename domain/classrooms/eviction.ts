import { sql } from 'kysely';
import { db, type Db } from '../../orm/db.ts';
import type { Classroom } from '../access/classroom.ts';
import type { Deps } from '../shared/deps.ts';
import { closeAttendance } from './connections.ts';
import type { EvictionReason } from './events.ts';
import { changeRoom, loadHandQueue, loadParticipants, loadWaiting, participantsPatch, type PatchFields } from './state.ts';
import { announcePromoted, promoteWaitlisted, seatClockOf } from './waitlist.ts';

export type { EvictionReason } from './events.ts';

/**
 * Takes someone out of a room inside a room change: their connections go, their attendance interval ends, and they
 * leave the roster, the hand queue, the stage and the waiting room. A denied learner keeps a `denied` row so they
 * are refused from now on; the others lose their row (a learner who registers again starts afresh).
 * Returns the patch (null when they were not in the room at all), whether they were waiting, and the after-commit
 * announcement of their leaving (`wasInRoom` decides whether they are told why).
 */
export async function evictInRoom(
  q: Db,
  classroom: Classroom,
  userId: string,
  reason: EvictionReason,
  now: Date,
): Promise<{ patch: PatchFields | null; wasWaiting: boolean; announce: (deps: Deps, wasInRoom: boolean) => Promise<void> }> {
  const classroomId = classroom.id;
  const onRosterBefore = (await loadParticipants(q, classroomId, [userId])).length > 0;
  const connections = await q
    .deleteFrom('classroom_connections')
    .where('classroom_id', '=', classroomId)
    .where('user_id', '=', userId)
    .returning('socket_id')
    .execute();
  await closeAttendance(q, classroomId, [userId], now);
  const before = await q
    .selectFrom('classroom_participants')
    .select((eb) => ['admission', eb('hand_raised_at', 'is not', null).$castTo<boolean>().as('hand_raised')])
    .where('classroom_id', '=', classroomId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (reason === 'denied') {
    await q
      .insertInto('classroom_participants')
      .values({ classroom_id: classroomId, user_id: userId, admission: 'denied' })
      .onConflict((oc) =>
        oc.columns(['classroom_id', 'user_id']).doUpdateSet({ admission: 'denied', waiting_since: null, hand_raised_at: null, hand_order: null, stage: 'none' }),
      )
      .execute();
  } else {
    await q.deleteFrom('classroom_participants').where('classroom_id', '=', classroomId).where('user_id', '=', userId).execute();
  }
  // A community removal already took every channel of the community away (and announced it).
  const leavesChat = reason !== 'removed';
  if (leavesChat) await q.deleteFrom('channel_members').where('channel_id', '=', classroom.channel_id).where('user_id', '=', userId).execute();

  const announce = async (deps: Deps, wasInRoom: boolean) => {
    if (leavesChat) await deps.events.emit('channel.access_revoked', { userId, channelIds: [classroom.channel_id] });
    await deps.events.emit('classroom.participant_removed', { classroomId, userId, reason, wasInRoom });
  };
  const wasWaiting = before?.admission === 'waiting';
  if (!connections.length && !before) return { patch: null, wasWaiting, announce };
  const patch: PatchFields = onRosterBefore ? await participantsPatch(q, classroomId, [userId]) : {};
  if (wasWaiting) patch.waiting = await loadWaiting(q, classroomId);
  if (before?.hand_raised) patch.handQueue = await loadHandQueue(q, classroomId);
  return { patch: Object.keys(patch).length ? patch : null, wasWaiting, announce };
}

/**
 * Takes a user out of one room on every node: the room hears of it (`removed`), the user's sockets are told
 * `classroom:removed` and leave the room. For registration cancellations and removals; call after the change that
 * took their access away has committed, so a re-join is refused.
 */
export async function evictFromRoom(deps: Deps, classroomId: string, userId: string, reason: EvictionReason): Promise<boolean> {
  const now = deps.clock.now();
  const { result } = await changeRoom(deps, classroomId, async ({ classroom, q }) => {
    const evicted = await evictInRoom(q, classroom, userId, reason, now);
    return {
      patch: evicted.patch,
      result: evicted.patch !== null,
      after: async () => {
        if (evicted.patch) await evicted.announce(deps, true);
      },
    };
  });
  return result;
}

/**
 * After commit: out of the room on every node (a no-op for someone not in it). The change that took their place away
 * has committed and the policies already refuse them, so a failure here is logged rather than failing the request.
 */
export async function evictAfterCommit(deps: Deps, classroomId: string, userId: string, reason: 'removed' | 'unregistered'): Promise<void> {
  try {
    await evictFromRoom(deps, classroomId, userId, reason);
  } catch (err) {
    deps.logger.warn({ err: String(err), classroomId, userId }, 'classrooms: taking someone out of the room failed');
  }
}

/**
 * After someone left or was removed from a community (after commit), in every scheduled or live class of it: their
 * seat or waitlist place is given up (the next waitlisted member is promoted and told), they stop being a co-host,
 * and they are out of the room on every node. Failures are logged, not thrown: the membership change has committed,
 * and the policies already refuse them everything in those classes.
 */
export async function removeFromCommunityClassrooms(deps: Deps, userId: string, communityId: string): Promise<void> {
  try {
    const classrooms = await db(deps.orm.em.fork())
      .selectFrom('classrooms as k')
      .select('k.id')
      .where('k.community_id', '=', communityId)
      .where('k.status', 'in', ['scheduled', 'live'])
      .where((eb) => {
        const one = sql.lit(1).as('one');
        return eb.or([
          eb.exists(eb.selectFrom('classroom_participants as p').select(one).whereRef('p.classroom_id', '=', 'k.id').where('p.user_id', '=', userId)),
          eb.exists(eb.selectFrom('classroom_connections as c').select(one).whereRef('c.classroom_id', '=', 'k.id').where('c.user_id', '=', userId)),
          eb.exists(eb.selectFrom('classroom_cohosts as h').select(one).whereRef('h.classroom_id', '=', 'k.id').where('h.user_id', '=', userId)),
          eb.exists(
            eb
              .selectFrom('classroom_registrations as r')
              .select(one)
              .whereRef('r.classroom_id', '=', 'k.id')
              .where('r.user_id', '=', userId)
              .where('r.status', 'in', ['registered', 'waitlisted', 'held']),
          ),
        ]);
      })
      .execute();
    for (const { id } of classrooms) await releaseFormerMember(deps, id, userId);
  } catch (err) {
    deps.logger.warn({ err: String(err), userId, communityId }, 'classrooms: removing a former member from classes failed');
  }
}

async function releaseFormerMember(deps: Deps, classroomId: string, userId: string): Promise<void> {
  const now = deps.clock.now();
  await changeRoom(deps, classroomId, async ({ classroom, q }) => {
    const onRoster = (await loadParticipants(q, classroomId, [userId])).length > 0;
    await q.deleteFrom('classroom_cohosts').where('classroom_id', '=', classroomId).where('user_id', '=', userId).execute();
    await q
      .updateTable('classroom_registrations')
      .set({ status: 'cancelled', hold_expires_at: null, updated_at: sql<Date>`clock_timestamp()` })
      .where('classroom_id', '=', classroomId)
      .where('user_id', '=', userId)
      .where('status', 'in', ['registered', 'waitlisted', 'held'])
      .execute();
    const promoted = await promoteWaitlisted(q, classroom, seatClockOf(deps));
    const evicted = await evictInRoom(q, classroom, userId, 'removed', now);
    const patch: PatchFields = { ...(evicted.patch ?? {}), ...(onRoster ? await participantsPatch(q, classroomId, [userId]) : {}) };
    const inRoom = evicted.patch !== null || onRoster;
    return {
      patch: Object.keys(patch).length ? patch : null,
      result: undefined,
      after: async () => {
        await announcePromoted(deps, classroom, promoted);
        await evicted.announce(deps, inRoom);
      },
    };
  });
}
