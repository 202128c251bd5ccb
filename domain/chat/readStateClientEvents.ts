import { rooms } from '../../contracts/realtime.ts';
import type { EventBus } from '../shared/events.ts';
import type { Publisher } from '../shared/publisher.ts';

/**
 * A read position reaches the reader's other devices (`read:updated`, in their own room); outside community channels
 * the other members get the receipt (`receipt:updated`, in the channel's room).
 */
export function registerReadStateClientEvents(bus: EventBus, publisher: Publisher): void {
  bus.on('channel.read', ({ userId, channelKind, state }) => {
    publisher.toRoom(rooms.user(userId), 'read:updated', state);
    if (channelKind !== 'channel') {
      publisher.toRoom(rooms.channel(state.channelId), 'receipt:updated', { channelId: state.channelId, userId, seq: state.seq });
    }
  });
}
