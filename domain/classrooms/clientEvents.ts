import { rooms } from '../../contracts/realtime.ts';
import type { EventBus } from '../shared/events.ts';
import type { Publisher } from '../shared/publisher.ts';

/*
 * Live classrooms on every node (through the cluster emitter). Room patches go to the room; the host's live poll
 * results to the staff room; everything about one person to their user room, so it reaches each of their devices, in
 * the room or not. Someone taken out of a room leaves it (and the staff room) before being told why, so a client never
 * sits in a room it cannot re-join.
 */

/** Turns the classrooms' domain events into wire events and room membership. */
export function registerClassroomClientEvents(bus: EventBus, publisher: Publisher): void {
  bus.on('classroom.state_changed', ({ patch }) => publisher.toRoom(rooms.classroom(patch.classroomId), 'classroom:state', patch));

  // One emit to all their user rooms: someone with several roles or devices hears it once per socket.
  bus.on('classroom.started', ({ classroomId, communityId, title, attendeeIds }) =>
    publisher.toRoom(attendeeIds.map(rooms.user), 'classroom:started', { classroomId, communityId, title }),
  );
  bus.on('classroom.cancelled', ({ classroomId, learnerIds }) => {
    if (learnerIds.length) publisher.toRoom(learnerIds.map(rooms.user), 'classroom:removed', { classroomId, reason: 'unregistered' });
  });
  bus.on('classroom.registrations_promoted', ({ classroomId, title, userIds }) =>
    publisher.toRoom(userIds.map(rooms.user), 'classroom:registration_promoted', { classroomId, title }),
  );

  // Staff hear the live poll results; a co-host's open sockets start (or stop) hearing them at once.
  bus.on('classroom.cohost_added', ({ classroomId, userId }) => publisher.joinRoom(rooms.user(userId), rooms.classroomStaff(classroomId)));
  bus.on('classroom.cohost_removed', ({ classroomId, userId }) => publisher.leaveRoom(rooms.user(userId), rooms.classroomStaff(classroomId)));

  bus.on('classroom.admission_decided', ({ classroomId, userId, admitted }) =>
    publisher.toRoom(rooms.user(userId), 'classroom:admission', { classroomId, admitted }),
  );
  bus.on('classroom.participant_removed', ({ classroomId, userId, reason, wasInRoom }) => {
    const userRoom = rooms.user(userId);
    publisher.leaveRoom(userRoom, rooms.classroom(classroomId));
    publisher.leaveRoom(userRoom, rooms.classroomStaff(classroomId));
    if (wasInRoom) publisher.toRoom(userRoom, 'classroom:removed', { classroomId, reason });
  });

  bus.on('classroom.video_role_changed', ({ classroomId, userId, token }) =>
    publisher.toRoom(rooms.user(userId), 'classroom:token', { ...token, classroomId }),
  );
  bus.on('poll.results_changed', ({ results }) => publisher.toRoom(rooms.classroomStaff(results.classroomId), 'poll:results', results));
}
