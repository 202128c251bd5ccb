import { rooms } from '../../contracts/realtime.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import type { Sql } from '../shared/sql.ts';
import { ClassroomPolicy, loadClassroomAccess, type ClassroomAccess } from './access.ts';
import { pushRtcToken, roomAction, subjectOf } from './actions.ts';
import { evictInRoom } from './eviction.ts';
import { loadHandQueue, loadWaiting, participantsPatch, type PatchFields } from './state.ts';

export interface Done {
  classroomId: string;
  version: number;
}

type ClassroomInput = { classroomId: string };
type ClassroomUserInput = { classroomId: string; userId: string };

const done = ({ classroomId, version }: Done): Done => ({ classroomId, version });

/** The patch for a change to one person's hand or stage: their roster entry, and the queue when a hand moved. */
async function personPatch(sql: Sql, classroomId: string, userId: string, handMoved: boolean): Promise<PatchFields> {
  const patch = await participantsPatch(sql, classroomId, [userId]);
  if (handMoved) patch.handQueue = await loadHandQueue(sql, classroomId);
  return patch;
}

/** Lowers a hand if raised; true when it was. */
async function lower(sql: Sql, classroomId: string, userId: string): Promise<boolean> {
  const rows = await sql(
    `update classroom_participants set hand_raised_at = null, hand_order = null
     where classroom_id = ? and user_id = ? and hand_raised_at is not null returning user_id`,
    [classroomId, userId],
  );
  return rows.length > 0;
}

/** `hand:raise`: joins the queue at this change's version, which orders the queue the same for everyone. */
export async function raiseHand(deps: Deps, actor: Actor, { classroomId }: ClassroomInput): Promise<Done> {
  return done(
    await roomAction(deps, actor, classroomId, 'learner', async ({ sql, version, now }) => {
      const raised = await sql(
        `update classroom_participants set hand_raised_at = ?, hand_order = ?
         where classroom_id = ? and user_id = ? and hand_raised_at is null returning user_id`,
        [now, version, classroomId, actor.userId],
      );
      return { patch: raised.length ? await personPatch(sql, classroomId, actor.userId, true) : null, result: null };
    }, 'Hosts and co-hosts do not raise hands.'),
  );
}

export async function lowerHand(deps: Deps, actor: Actor, { classroomId }: ClassroomInput): Promise<Done> {
  return done(
    await roomAction(deps, actor, classroomId, 'learner', async ({ sql }) => ({
      patch: (await lower(sql, classroomId, actor.userId)) ? await personPatch(sql, classroomId, actor.userId, true) : null,
      result: null,
    })),
  );
}

/** `hand:dismiss`: the host or a co-host lowers someone's hand (two of them dismissing at once is fine). */
export async function dismissHand(deps: Deps, actor: Actor, { classroomId, userId }: ClassroomUserInput): Promise<Done> {
  return done(
    await roomAction(deps, actor, classroomId, 'staff', async ({ sql }) => ({
      patch: (await lower(sql, classroomId, userId)) ? await personPatch(sql, classroomId, userId, true) : null,
      result: null,
    })),
  );
}

/** Loads someone else's access to the class; `learner` means an admitted learner in the room (not staff). */
async function targetOf(sql: Sql, classroomId: string, userId: string) {
  const subject = await subjectOf(sql, userId);
  const access: ClassroomAccess | null = await loadClassroomAccess(sql, userId, classroomId);
  const staff = access !== null && ClassroomPolicy.staff(subject, access);
  const learner = access !== null && !staff && access.admission === 'admitted' && ClassroomPolicy.participate(subject, access);
  return { subject, access, learner, staff };
}

/** `stage:invite`: asks an admitted learner onto the stage; their hand goes down. They answer with accept/decline. */
export async function inviteToStage(deps: Deps, actor: Actor, { classroomId, userId }: ClassroomUserInput): Promise<Done> {
  return done(
    await roomAction(deps, actor, classroomId, 'staff', async ({ sql }) => {
      const target = await targetOf(sql, classroomId, userId);
      if (target.staff) throw new AppError('conflict', 'Hosts and co-hosts are always on stage.');
      if (!target.learner) throw new AppError('not_found', 'That learner is not in this class.');
      if (target.access!.stage !== 'none') return { patch: null, result: null };
      const handMoved = await lower(sql, classroomId, userId);
      await sql(`update classroom_participants set stage = 'invited' where classroom_id = ? and user_id = ?`, [classroomId, userId]);
      return { patch: await personPatch(sql, classroomId, userId, handMoved), result: null };
    }),
  );
}

/** `stage:accept`: the invited learner becomes a speaker and gets a PUBLISHER token. */
export async function acceptStage(deps: Deps, actor: Actor, { classroomId }: ClassroomInput): Promise<Done> {
  return done(
    await roomAction(deps, actor, classroomId, 'learner', async ({ sql, access }) => {
      if (access.stage === 'speaker') return { patch: null, result: null };
      if (access.stage !== 'invited') throw new AppError('conflict', 'You have not been invited to the stage.');
      await sql(`update classroom_participants set stage = 'speaker' where classroom_id = ? and user_id = ?`, [classroomId, actor.userId]);
      return {
        patch: await personPatch(sql, classroomId, actor.userId, false),
        result: null,
        after: () => pushRtcToken(deps, classroomId, actor.userId),
      };
    }),
  );
}

export async function declineStage(deps: Deps, actor: Actor, { classroomId }: ClassroomInput): Promise<Done> {
  return done(
    await roomAction(deps, actor, classroomId, 'learner', async ({ sql, access }) => {
      // Nothing to decline when the host withdrew the invitation meanwhile.
      if (access.stage !== 'invited') return { patch: null, result: null };
      await sql(`update classroom_participants set stage = 'none' where classroom_id = ? and user_id = ?`, [classroomId, actor.userId]);
      return { patch: await personPatch(sql, classroomId, actor.userId, false), result: null };
    }),
  );
}

/**
 * `stage:remove`: the host or a co-host takes someone off the stage (or withdraws an invitation); a speaker may step
 * down themself. A former speaker gets a SUBSCRIBER token.
 */
export async function removeFromStage(deps: Deps, actor: Actor, { classroomId, userId }: ClassroomUserInput): Promise<Done> {
  const self = userId === actor.userId;
  return done(
    await roomAction(
      deps,
      actor,
      classroomId,
      self ? 'learner' : 'staff',
      async ({ sql }) => {
        const [was] = await sql<{ stage: string }>(
          `update classroom_participants p set stage = 'none' from classroom_participants was
           where p.classroom_id = ? and p.user_id = ? and p.stage <> 'none'
             and was.classroom_id = p.classroom_id and was.user_id = p.user_id
           returning was.stage`,
          [classroomId, userId],
        );
        if (!was) return { patch: null, result: null };
        return {
          patch: await personPatch(sql, classroomId, userId, false),
          result: null,
          after: was.stage === 'speaker' ? () => pushRtcToken(deps, classroomId, userId) : undefined,
        };
      },
      'Hosts and co-hosts are always on stage.',
    ),
  );
}

/** `room:mute_all`: recorded in the state; publishers who joined before it mute themselves. */
export async function muteAll(deps: Deps, actor: Actor, { classroomId }: ClassroomInput): Promise<Done> {
  return done(
    await roomAction(deps, actor, classroomId, 'staff', async ({ sql, now }) => {
      await sql('update classrooms set mute_all_at = ?, mute_all_by_id = ? where id = ?', [now, actor.userId, classroomId]);
      return { patch: { muteAll: { at: now.toISOString(), by: actor.userId } }, result: null };
    }),
  );
}

/** `waiting:admit`: the learner leaves the waiting room and is told to join (`classroom:admission`). */
export async function admitWaiting(deps: Deps, actor: Actor, { classroomId, userId }: ClassroomUserInput): Promise<Done> {
  return done(
    await roomAction(deps, actor, classroomId, 'staff', async ({ sql, classroom }) => {
      const target = await targetOf(sql, classroomId, userId);
      if (target.access?.admission === 'admitted') return { patch: null, result: null };
      if (target.access?.admission !== 'waiting' || !ClassroomPolicy.enter(target.subject, target.access)) {
        throw new AppError('not_found', 'That person is not waiting to be admitted.');
      }
      await sql(
        `update classroom_participants set admission = 'admitted', waiting_since = null where classroom_id = ? and user_id = ?`,
        [classroomId, userId],
      );
      await sql('insert into channel_members (channel_id, user_id) values (?, ?) on conflict do nothing', [classroom.channelId, userId]);
      const patch = await participantsPatch(sql, classroomId, [userId]);
      patch.waiting = await loadWaiting(sql, classroomId);
      return {
        patch,
        result: null,
        after: () => deps.publisher.toRoom(rooms.user(userId), 'classroom:admission', { classroomId, admitted: true }),
      };
    }),
  );
}

/**
 * `waiting:deny`: a waiting learner is turned away (`classroom:admission` false); an admitted learner is sent out of
 * the room (`classroom:removed`, reason denied). Either way they are refused from then on.
 */
export async function denyWaiting(deps: Deps, actor: Actor, { classroomId, userId }: ClassroomUserInput): Promise<Done> {
  return done(
    await roomAction(deps, actor, classroomId, 'staff', async ({ sql, classroom, now }) => {
      const target = await targetOf(sql, classroomId, userId);
      if (target.staff) throw new AppError('conflict', 'The host and co-hosts cannot be turned away.');
      const admission = target.access?.admission;
      if (admission === 'denied') return { patch: null, result: null };
      if (admission !== 'waiting' && admission !== 'admitted') throw new AppError('not_found', 'That person is not in this class.');
      const evicted = await evictInRoom(sql, classroom, userId, 'denied', now);
      const userRoom = rooms.user(userId);
      return {
        patch: evicted.patch,
        result: null,
        after: () => {
          if (evicted.wasWaiting) return deps.publisher.toRoom(userRoom, 'classroom:admission', { classroomId, admitted: false });
          evicted.after(deps);
          deps.publisher.toRoom(userRoom, 'classroom:removed', { classroomId, reason: 'denied' });
        },
      };
    }),
  );
}
