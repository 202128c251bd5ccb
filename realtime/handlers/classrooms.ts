import {
  AnswerPollInput,
  ClassroomIdInput,
  ClassroomUserInput,
  CreatePollInput,
  PollIdInput,
  type JoinClassroomResult,
} from '../../contracts/classrooms.ts';
import { rooms } from '../../contracts/realtime.ts';
import { answerPoll, closePoll, createPoll, revealPoll, staffPollResults } from '../../domain/classrooms/polls.ts';
import { expectedRooms, joinRoom, leaveRoom } from '../../domain/classrooms/room.ts';
import {
  acceptStage,
  admitWaiting,
  declineStage,
  denyWaiting,
  dismissHand,
  inviteToStage,
  lowerHand,
  muteAll,
  raiseHand,
  removeFromStage,
} from '../../domain/classrooms/stage.ts';
import type { Actor } from '../../domain/shared/deps.ts';
import type { ClassroomRooms } from '../classrooms.ts';
import type { IoSocket } from '../types.ts';
import { withAck, type On } from '../withAck.ts';

/**
 * Live classrooms: joining and leaving the room, hands, stage, waiting room and polls. Thin: validate → domain
 * operation → ack; the one transport concern here is which Socket.IO rooms the socket belongs to.
 */
export function registerClassroomHandlers(on: On, classrooms: ClassroomRooms) {
  const { deps, nodeId } = classrooms;
  const roomsOf = (classroomId: string) => [rooms.classroom(classroomId), rooms.classroomStaff(classroomId)];

  /**
   * The socket joins the room (and the staff room) BEFORE the join's snapshot is taken, so no patch published in
   * between is missed; patches at or below the snapshot's version are ignored by the client. A socket that turns out
   * not to belong (refused, waiting, or not staff after all) leaves again; one that belongs but was not in the room
   * when the snapshot was taken joins and takes a fresh one.
   */
  async function join(socket: IoSocket, actor: Actor, classroomId: string): Promise<JoinClassroomResult> {
    const [room, staffRoom] = roomsOf(classroomId) as [string, string];
    const expected = await expectedRooms(deps, actor, classroomId);
    const alreadyIn = socket.rooms.has(room);
    await socket.join([...(expected.room ? [room] : []), ...(expected.staff ? [staffRoom] : [])]);
    const connection = { socketId: socket.id, nodeId };
    let outcome;
    try {
      outcome = await joinRoom(deps, actor, classroomId, connection);
      if (outcome.result.admitted && !expected.room) {
        await socket.join(room);
        outcome = await joinRoom(deps, actor, classroomId, connection);
      }
    } catch (err) {
      await socket.leave(room);
      await socket.leave(staffRoom);
      if (!alreadyIn) classrooms.forget(socket, classroomId);
      throw err;
    }
    if (!outcome.result.admitted) {
      await socket.leave(room);
      await socket.leave(staffRoom);
      return outcome.result;
    }
    if (!outcome.staff) await socket.leave(staffRoom);
    if (outcome.staff && !expected.staff) {
      await socket.join(staffRoom);
      // Made a co-host a moment ago, or not any more: check again now that the socket is in.
      if (!(await expectedRooms(deps, actor, classroomId)).staff) await socket.leave(staffRoom);
    }
    if (socket.rooms.has(staffRoom)) {
      // Live results are not part of the shared state: the host's client gets them right after the snapshot, and
      // keeps the highest resultsVersion per poll from then on.
      const results = await staffPollResults(deps, classroomId);
      setImmediate(() => {
        for (const event of results) socket.emit('poll:results', event);
      });
    }
    return outcome.result;
  }

  on(
    'classroom:join',
    withAck(ClassroomIdInput, (input, { socket, actor }) => {
      classrooms.assertOpen();
      return classrooms.joining(socket, input.classroomId, () => join(socket, actor, input.classroomId));
    }),
  );
  on(
    'classroom:leave',
    withAck(ClassroomIdInput, async ({ classroomId }, { socket }) => {
      classrooms.forget(socket, classroomId);
      for (const room of roomsOf(classroomId)) await socket.leave(room);
      await leaveRoom(deps, classroomId, socket.id);
      return { classroomId };
    }),
  );

  on('hand:raise', withAck(ClassroomIdInput, (input, { actor }) => raiseHand(deps, actor, input)));
  on('hand:lower', withAck(ClassroomIdInput, (input, { actor }) => lowerHand(deps, actor, input)));
  on('hand:dismiss', withAck(ClassroomUserInput, (input, { actor }) => dismissHand(deps, actor, input)));
  on('stage:invite', withAck(ClassroomUserInput, (input, { actor }) => inviteToStage(deps, actor, input)));
  on('stage:accept', withAck(ClassroomIdInput, (input, { actor }) => acceptStage(deps, actor, input)));
  on('stage:decline', withAck(ClassroomIdInput, (input, { actor }) => declineStage(deps, actor, input)));
  on('stage:remove', withAck(ClassroomUserInput, (input, { actor }) => removeFromStage(deps, actor, input)));
  on('room:mute_all', withAck(ClassroomIdInput, (input, { actor }) => muteAll(deps, actor, input)));
  on('waiting:admit', withAck(ClassroomUserInput, (input, { actor }) => admitWaiting(deps, actor, input)));
  on('waiting:deny', withAck(ClassroomUserInput, (input, { actor }) => denyWaiting(deps, actor, input)));

  on(
    'poll:create',
    withAck(CreatePollInput, async (input, { actor }) => {
      const created = await createPoll(deps, actor, input);
      if (created.poll.closesAt) classrooms.schedulePollClose(created.classroomId, created.poll.id, created.poll.closesAt);
      return created;
    }),
  );
  on('poll:answer', withAck(AnswerPollInput, (input, { actor }) => answerPoll(deps, actor, input, 'answer')));
  on('poll:change', withAck(AnswerPollInput, (input, { actor }) => answerPoll(deps, actor, input, 'change')));
  on('poll:close', withAck(PollIdInput, (input, { actor }) => closePoll(deps, actor, input)));
  on('poll:reveal', withAck(PollIdInput, (input, { actor }) => revealPoll(deps, actor, input)));
}
