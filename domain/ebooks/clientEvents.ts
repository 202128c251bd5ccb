import { rooms } from '../../contracts/realtime.ts';
import type { EventBus } from '../shared/events.ts';
import type { Publisher } from '../shared/publisher.ts';
import './events.ts';

/** Turns the ebooks domain events into wire events for the learner's own room. */
export function registerEbookClientEvents(bus: EventBus, publisher: Publisher): void {
  // Every device of the reader, on every node; the device that moved keeps whichever position is newest.
  bus.on('ebook.position_updated', ({ userId, position }) => publisher.toRoom(rooms.user(userId), 'ebook:position_updated', position));
}
