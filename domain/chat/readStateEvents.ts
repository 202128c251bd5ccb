import type { ReadState } from '../../contracts/chat.ts';
import type { ChannelAccess } from '../access/channel.ts';

declare module '../shared/events.ts' {
  interface DomainEvents {
    /**
     * Someone read a channel up to `state.seq` (never backwards); `state` carries their unread and mention counts
     * after it. In DMs, group DMs and class chats the other members see read receipts.
     */
    'channel.read': { userId: string; channelKind: ChannelAccess['kind']; state: ReadState };
  }
}
