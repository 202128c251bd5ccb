import type { Db } from '../../orm/db.ts';
import { ClassroomPolicy, loadClassroomAccess, type StageState } from '../access/classroom.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { pushRtcToken, roomAction, subjectOf } from './actions.ts';
import { evictInRoom } from './eviction.ts';
import { joinClassChat } from './room.ts';
import { loadHandQueue, loadWaiting, participantsPatch, type PatchFields } from './state.ts';

export interface Done {
  classroomId: string;
  version: number;
}

type ClassroomInput = { classroomId: string };
type ClassroomUserInput = { classroomId: string; userId: string };

const done = ({ classroomId, version }: Done): Done => ({ classroomId, version });

/** The patch for a change to one person's hand or stage: their roster entry, and the queue when a hand moved. */
async function personPatch(q: Db, classroomId: string, userId: string, handMoved: boolean): Promise<PatchFields> {
  const patch = await participantsPatch(q, classroomId, [userId]);
  if (handMoved) patch.handQueue = await loadHandQueue(q, classroomId);
  return patch;
}

/** Lowers a hand if raised; true when it was. */
async function lower(q: Db, classroomId: string, userId: string): Promise<boolean> {
  const rows = await q
    .updateTable('classroom_participants')
    .set({ hand_raised_at: null, hand_order: null })
    .where('classroom_id', '=', classroomId)
    .where('user_id', '=', userId)
    .where('hand_raised_at', 'is not', null)
    .returning('user_id')
    .execute();
  return rows.length > 0;
}

/** Sets someone's place on the stage. */
async function setStage(q: Db, classroomId: string, userId: string, stage: StageState): Promise<void> {
  await q.updateTable('classroom_participants').set({ stage }).where('classroom_id', '=', classroomId).where('user_id', '=', userId).execute();
}

/** `hand:raise`: joins the queue at this change's version, which orders the queue the same for everyone. */
export async function raiseHand(deps: Deps, actor: Actor, { classroomId }: ClassroomInput): Promise<Done> {
  return done(
    await roomAction(deps, actor, classroomId, 'learner', async ({ q, version, now }) => {
      const raised = await q
        .updateTable('classroom_participants')
        .set({ hand_raised_at: now, hand_order: version })
        .where('classroom_id', '=', classroomId)
        .where('user_id', '=', actor.userId)
        .where('hand_raised_at', 'is', null)
        .returning('user_id')
        .execute();
      return { patch: raised.length ? await personPatch(q, classroomId, actor.userId, true) : null, result: null };
    }, 'Hosts and co-hosts do not raise hands.'),
  );
}

export async function lowerHand(deps: Deps, actor: Actor, { classroomId }: ClassroomInput): Promise<Done> {
  return done(
    await roomAction(deps, actor, classroomId, 'learner', async ({ q }) => ({
      patch: (await lower(q, classroomId, actor.userId)) ? await personPatch(q, classroomId, actor.userId, true) : null,
      result: null,
    })),
  );
}

/** `hand:dismiss`: the host or a co-host lowers someone's hand (two of them dismissing at once is fine). */
export async function dismissHand(deps: Deps, actor: Actor, { classroomId, userId }: ClassroomUserInput): Promise<Done> {
  return done(
    await roomAction(deps, actor, classroomId, 'staff', async ({ q }) => ({
      patch: (await lower(q, classroomId, userId)) ? await personPatch(q, classroomId, userId, true) : null,
      result: null,
    })),
  );
}

/** Loads someone else's access to the class; `learner` means an admitted learner in the room (not staff). */
async function targetOf(q: Db, classroomId: string, userId: string) {
  const subject = await subjectOf(q, userId);
  const access = await loadClassroomAccess(q, userId, classroomId);
  const staff = access !== null && ClassroomPolicy.staff(subject, access);
  const learner = access !== null && !staff && access.admission === 'admitted' && ClassroomPolicy.participate(subject, access);
  return { subject, access, learner, staff };
}

/** `stage:invite`: asks an admitted learner onto the stage; their hand goes down. They answer with accept/decline. */
export async function inviteToStage(deps: Deps, actor: Actor, { classroomId, userId }: ClassroomUserInput): Promise<Done> {
  return done(
    await roomAction(deps, actor, classroomId, 'staff', async ({ q }) => {
      const target = await targetOf(q, classroomId, userId);
      if (target.staff) throw new AppError('conflict', 'Hosts and co-hosts are always on stage.');
      if (!target.learner) throw new AppError('not_found', 'That learner is not in this class.');
      if (target.access!.stage !== 'none') return { patch: null, result: null };
      const handMoved = await lower(q, classroomId, userId);
      await setStage(q, classroomId, userId, 'invited');
      return { patch: await personPatch(q, classroomId, userId, handMoved), result: null };
    }),
  );
}

/** `stage:accept`: the invited learner becomes a speaker and gets a PUBLISHER token. */
export async function acceptStage(deps: Deps, actor: Actor, { classroomId }: ClassroomInput): Promise<Done> {
  return done(
    await roomAction(deps, actor, classroomId, 'learner', async ({ q, access }) => {
      if (access.stage === 'speaker') return { patch: null, result: null };
      if (access.stage !== 'invited') throw new AppError('conflict', 'You have not been invited to the stage.');
      await setStage(q, classroomId, actor.userId, 'speaker');
      return {
        patch: await personPatch(q, classroomId, actor.userId, false),
        result: null,
        after: () => pushRtcToken(deps, classroomId, actor.userId),
      };
    }),
  );
}

export async function declineStage(deps: Deps, actor: Actor, { classroomId }: ClassroomInput): Promise<Done> {
  return done(
    await roomAction(deps, actor, classroomId, 'learner', async ({ q, access }) => {
      // Nothing to decline when the host withdrew the invitation meanwhile.
      if (access.stage !== 'invited') return { patch: null, result: null };
      await setStage(q, classroomId, actor.userId, 'none');
      return { patch: await personPatch(q, classroomId, actor.userId, false), result: null };
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
      async ({ q }) => {
        // `was` is the row before the update: only a former speaker's video role changes.
        const was = await q
          .updateTable('classroom_participants as p')
          .from('classroom_participants as was')
          .set({ stage: 'none' })
          .where('p.classroom_id', '=', classroomId)
          .where('p.user_id', '=', userId)
          .where('p.stage', '<>', 'none')
          .whereRef('was.classroom_id', '=', 'p.classroom_id')
          .whereRef('was.user_id', '=', 'p.user_id')
          .returning('was.stage')
          .executeTakeFirst();
        if (!was) return { patch: null, result: null };
        return {
          patch: await personPatch(q, classroomId, userId, false),
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
    await roomAction(deps, actor, classroomId, 'staff', async ({ q, now }) => {
      await q.updateTable('classrooms').set({ mute_all_at: now, mute_all_by_id: actor.userId }).where('id', '=', classroomId).execute();
      return { patch: { muteAll: { at: now.toISOString(), by: actor.userId } }, result: null };
    }),
  );
}

/** `waiting:admit`: the learner leaves the waiting room and is told to join (`classroom:admission`). */
export async function admitWaiting(deps: Deps, actor: Actor, { classroomId, userId }: ClassroomUserInput): Promise<Done> {
  return done(
    await roomAction(deps, actor, classroomId, 'staff', async ({ q, classroom }) => {
      const target = await targetOf(q, classroomId, userId);
      if (target.access?.admission === 'admitted') return { patch: null, result: null };
      if (target.access?.admission !== 'waiting' || !ClassroomPolicy.enter(target.subject, target.access)) {
        throw new AppError('not_found', 'That person is not waiting to be admitted.');
      }
      await q
        .updateTable('classroom_participants')
        .set({ admission: 'admitted', waiting_since: null })
        .where('classroom_id', '=', classroomId)
        .where('user_id', '=', userId)
        .execute();
      await joinClassChat(q, classroom.channel_id, userId);
      const patch = await participantsPatch(q, classroomId, [userId]);
      patch.waiting = await loadWaiting(q, classroomId);
      return {
        patch,
        result: null,
        after: () => deps.events.emit('classroom.admission_decided', { classroomId, userId, admitted: true }),
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
    await roomAction(deps, actor, classroomId, 'staff', async ({ q, classroom, now }) => {
      const target = await targetOf(q, classroomId, userId);
      if (target.staff) throw new AppError('conflict', 'The host and co-hosts cannot be turned away.');
      const admission = target.access?.admission;
      if (admission === 'denied') return { patch: null, result: null };
      if (admission !== 'waiting' && admission !== 'admitted') throw new AppError('not_found', 'That person is not in this class.');
      const evicted = await evictInRoom(q, classroom, userId, 'denied', now);
      return {
        patch: evicted.patch,
        result: null,
        after: () =>
          evicted.wasWaiting
            ? deps.events.emit('classroom.admission_decided', { classroomId, userId, admitted: false })
            : evicted.announce(deps, true),
      };
    }),
  );
}
