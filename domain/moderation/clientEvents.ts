import { rooms } from '../../contracts/realtime.ts';
import type { EventBus } from '../shared/events.ts';
import type { Publisher } from '../shared/publisher.ts';

/*
 * Moderation's wire events. Cases go to the community's queue room (`moderation:subscribe` joins it after the same
 * check as the queue itself); what happens to a person goes to that person's own room, on every node.
 */
export function registerModerationClientEvents(bus: EventBus, publisher: Publisher): void {
  bus.on('moderation_case.created', ({ case: kase }) => publisher.toRoom(rooms.moderation(kase.communityId), 'moderation:case_created', kase));
  bus.on('moderation_case.updated', ({ case: kase }) => publisher.toRoom(rooms.moderation(kase.communityId), 'moderation:case_updated', kase));

  bus.on('member.warned', ({ communityId, userId, reason }) =>
    publisher.toRoom(rooms.user(userId), 'moderation:warned', { communityId, reason }),
  );
  bus.on('member.timed_out', ({ communityId, userId, until, reason }) =>
    publisher.toRoom(rooms.user(userId), 'moderation:timed_out', { communityId, until, reason }),
  );
  // The person hears why first, then their open feeds of the community stop: kicked and banned people read nothing of
  // it, its public feed included (FeedPolicy.read). Channels, presence, classrooms and the queue follow from the
  // community's own revocation.
  bus.on('member.barred', ({ communityId, userId, reason, rejoinAfter }) => {
    publisher.toRoom(rooms.user(userId), 'community:removed', { communityId, reason, ban: rejoinAfter === null, rejoinAfter });
    publisher.leaveRoom(rooms.user(userId), rooms.feed(communityId));
  });
}
