import { rooms } from '../../contracts/realtime.ts';
import type { EventBus } from '../shared/events.ts';
import type { Publisher } from '../shared/publisher.ts';
import './events.ts';

/** The buyer's own room on every node: every open tab follows its orders, and content unlocks without a reload. */
export function registerCommerceClientEvents(bus: EventBus, publisher: Publisher): void {
  bus.on('order.updated', ({ order, buyerId }) => publisher.toRoom(rooms.user(buyerId), 'order:updated', order));
  bus.on('entitlement.granted', ({ userId, ...event }) => publisher.toRoom(rooms.user(userId), 'entitlement:granted', event));
  bus.on('entitlement.revoked', ({ userId, ...event }) => publisher.toRoom(rooms.user(userId), 'entitlement:revoked', event));
}
