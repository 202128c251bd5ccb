import type { ChannelEvent } from '../../contracts/chat.ts';
import { rooms } from '../../contracts/realtime.ts';
import type { EventBus } from '../shared/events.ts';
import type { Publisher } from '../shared/publisher.ts';
import type { ChannelEventOf } from './events.ts';

/*
 * Chat's wire events: every channel event goes to the channel's room as is (clients apply them by seq), and each
 * newly mentioned person hears `mention:created` in their own room, after the channel event it points at, and the
 * other members of a DM hear `dm:activity` there.
 */
export function registerChatClientEvents(bus: EventBus, publisher: Publisher): void {
  const toChannel = (event: ChannelEvent) => rooms.channel(event.channelId);
  const tellMentioned = (mentioned: readonly string[], event: ChannelEventOf<'message:created' | 'message:updated'>) => {
    for (const userId of mentioned) {
      publisher.toRoom(rooms.user(userId), 'mention:created', {
        channelId: event.channelId,
        messageId: event.message.id,
        seq: event.seq,
        author: event.message.author,
      });
    }
  };

  bus.on('message.created', ({ event, mentioned, directTo }) => {
    publisher.toRoom(toChannel(event), 'message:created', event);
    tellMentioned(mentioned, event);
    // The DM's other members, on every page: "Messages" counts it without the client joining every DM's room.
    for (const userId of directTo) {
      publisher.toRoom(rooms.user(userId), 'dm:activity', { channelId: event.channelId, messageId: event.message.id, seq: event.seq });
    }
  });
  bus.on('message.edited', ({ event, mentioned }) => {
    publisher.toRoom(toChannel(event), 'message:updated', event);
    tellMentioned(mentioned, event);
  });
  for (const updated of ['message.pinned', 'message.unpinned', 'message.hidden', 'message.unhidden'] as const) {
    bus.on(updated, ({ event }) => publisher.toRoom(toChannel(event), 'message:updated', event));
  }
  bus.on('message.deleted', ({ event }) => publisher.toRoom(toChannel(event), 'message:deleted', event));
  bus.on('reaction.updated', ({ event }) => publisher.toRoom(toChannel(event), 'reaction:updated', event));
}
