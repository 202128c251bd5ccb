import { rooms } from '../../contracts/realtime.ts';
import type { EventBus } from '../shared/events.ts';
import type { Publisher } from '../shared/publisher.ts';
import './events.ts';

/** Turns the courses domain events into wire events for the learner's own room. */
export function registerCourseClientEvents(bus: EventBus, publisher: Publisher): void {
  bus.on('progress.updated', ({ userId, progress }) => publisher.toRoom(rooms.user(userId), 'progress:updated', progress));
}
