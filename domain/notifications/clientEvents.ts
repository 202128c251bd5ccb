import { rooms } from '../../contracts/realtime.ts';
import type { EventBus } from '../shared/events.ts';
import type { Publisher } from '../shared/publisher.ts';
import './events.ts';

/** The recipient's own room on every node: each of their devices hears new notifications and read state. */
export function registerNotificationClientEvents(bus: EventBus, publisher: Publisher): void {
  bus.on('notification.created', ({ userId, notification, unreadCount }) =>
    publisher.toRoom(rooms.user(userId), 'notification:created', { notification, unreadCount }),
  );
  bus.on('notification.removed', ({ userId, ids, unreadCount }) =>
    publisher.toRoom(rooms.user(userId), 'notification:removed', { ids, unreadCount }),
  );
  bus.on('notification.read', ({ userId, event }) => publisher.toRoom(rooms.user(userId), 'notification:read', event));
}
