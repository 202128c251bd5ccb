import type { ChannelEvent } from '../../contracts/chat.ts';

/** One kind of channel event, as it goes to the channel's room. */
export type ChannelEventOf<T extends ChannelEvent['type']> = Extract<ChannelEvent, { type: T }>;

/*
 * Chat's domain events, emitted after commit, one per channel event (so each carries the seq it took). The `event` is
 * the members' view of the change — a hidden message is a tombstone in it — because the whole channel room gets it.
 * `communityId` is null for DMs. Reactions to posts and comments are the feed's `reactions.updated`, not these.
 */
declare module '../shared/events.ts' {
  interface DomainEvents {
    /**
     * A message was stored; `mentioned` are the people it mentions (who can read the channel), to be told; `directTo`
     * the other members of its DM (empty outside DMs).
     */
    'message.created': { event: ChannelEventOf<'message:created'>; communityId: string | null; mentioned: string[]; directTo: string[] };
    /** Its author edited the text; `mentioned` are only the people the edit newly mentions. */
    'message.edited': { event: ChannelEventOf<'message:updated'>; communityId: string | null; mentioned: string[] };
    'message.pinned': { event: ChannelEventOf<'message:updated'>; communityId: string | null };
    'message.unpinned': { event: ChannelEventOf<'message:updated'>; communityId: string | null };
    /** A moderator hid it: members see a tombstone, its mentions are gone. */
    'message.hidden': { event: ChannelEventOf<'message:updated'>; communityId: string | null };
    /** A moderator unhid it: members see it again (its mentions are back, nobody is told twice). */
    'message.unhidden': { event: ChannelEventOf<'message:updated'>; communityId: string | null };
    /** Deleted by its author or a moderator: a tombstone keeps the seq. */
    'message.deleted': { event: ChannelEventOf<'message:deleted'>; communityId: string | null };
    /** Someone added or took back a reaction; the event carries the message's reactions after the change. */
    'reaction.updated': { event: ChannelEventOf<'reaction:updated'>; communityId: string | null };
  }
}
