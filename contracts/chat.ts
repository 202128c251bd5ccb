import { z } from 'zod';
import type { Ack } from './errors.ts';
import { UserRef } from './communities.ts';
import { EDIT_WINDOW_SECONDS, MESSAGE_MAX_LENGTH, PRESENCE_WATCH_ADD_MAX, PRESENCE_WATCH_LIMIT } from './values/chat.ts';

export { EDIT_WINDOW_SECONDS, MESSAGE_MAX_LENGTH };
/** Catch-up returned with channel:join; beyond it the client pages over REST. */
export const JOIN_CATCH_UP_LIMIT = 500;

export const ReactionDto = z.object({ emoji: z.string(), count: z.number().int(), userIds: z.array(z.uuid()) });
export type ReactionDto = z.infer<typeof ReactionDto>;

export const MessageDto = z
  .object({
    id: z.uuid(),
    channelId: z.uuid(),
    /** The channel seq of the message's creation. */
    seq: z.number().int(),
    clientId: z.string(),
    author: UserRef,
    /** Empty once deleted. */
    body: z.string(),
    /**
     * The body rendered as safe HTML (markdown subset of posts, links), present only when the body has markup or a
     * URL; without it the body is plain text to show as is.
     */
    html: z.string().optional(),
    replyToId: z.uuid().nullable(),
    threadCount: z.number().int(),
    reactions: z.array(ReactionDto),
    mentions: z.array(z.uuid()),
    pinned: z.boolean(),
    createdAt: z.iso.datetime(),
    editedAt: z.iso.datetime().nullable(),
    deletedAt: z.iso.datetime().nullable(),
    /**
     * Hidden by a moderator. Members get it as a tombstone (empty body, no reactions or mentions, like a deleted
     * one); the community's moderators get the content with this marker in history, threads and catch-up.
     */
    hidden: z.boolean(),
  })
  .describe('Message');
export type MessageDto = z.infer<typeof MessageDto>;
export const MessagePage = z.object({ data: z.array(MessageDto), hasMore: z.boolean() }).describe('MessagePage');
export type MessagePage = z.infer<typeof MessagePage>;
export const MessageList = z.object({ data: z.array(MessageDto) }).describe('MessageList');
export type MessageList = z.infer<typeof MessageList>;
/** How far each member of a channel has read. */
export const ReceiptList = z.object({ data: z.array(z.object({ userId: z.uuid(), seq: z.number().int() })) }).describe('ReceiptList');
export type ReceiptList = z.infer<typeof ReceiptList>;

const body = z
  .string()
  .trim()
  .min(1, 'Write something first.')
  .max(MESSAGE_MAX_LENGTH, `Messages can be at most ${MESSAGE_MAX_LENGTH} characters.`);
const emoji = z
  .string()
  .min(1)
  .max(32)
  .regex(/^[^\s<>]+$/u, 'Not an emoji.');

export const SendMessageInput = z.strictObject({
  channelId: z.uuid(),
  /** Chosen by the client; a retry with the same clientId returns the original message. */
  clientId: z.string().min(8).max(64).regex(/^[A-Za-z0-9_-]+$/, 'clientId: letters, digits, - and _ only.'),
  body,
  replyToId: z.uuid().optional(),
});
export type SendMessageInput = z.infer<typeof SendMessageInput>;

export const EditMessageInput = z.strictObject({ messageId: z.uuid(), body });
export const MessageIdInput = z.strictObject({ messageId: z.uuid() });
export const PinMessageInput = MessageIdInput.extend({ pinned: z.boolean() });
export const ToggleReactionInput = z.strictObject({ messageId: z.uuid(), emoji });
/**
 * `afterSeq`: the last seq the client applied; the ack carries every event after it (up to JOIN_CATCH_UP_LIMIT).
 * Without it the client has no state yet: the ack carries no events, only `lastSeq`, and the client loads recent
 * history over REST (`GET /channels/:id/messages`), applying live events with seq > lastSeq on top.
 */
export const JoinChannelInput = z.strictObject({ channelId: z.uuid(), afterSeq: z.number().int().min(0).optional() });
export const ChannelIdInput = z.strictObject({ channelId: z.uuid() });
export const MarkReadInput = z.strictObject({ channelId: z.uuid(), seq: z.number().int().min(0) });
export const PresenceSetInput = z.strictObject({ status: z.enum(['online', 'away', 'dnd']) });
/** A member of a community who is not offline (`GET /communities/:id/presence`). */
export const PresenceEntry = z.object({ userId: z.uuid(), status: z.enum(['online', 'away', 'dnd']) }).describe('PresenceEntry');
export const PresenceList = z.object({ data: z.array(PresenceEntry) }).describe('PresenceList');
export type PresenceList = z.infer<typeof PresenceList>;
/** `GET /presence?userIds=a,b`: the people whose dots a page shows (at most 100 per request). */
export const PresenceQuery = z.strictObject({
  userIds: z
    .string()
    .transform((v) => [...new Set(v.split(',').filter(Boolean))])
    .pipe(z.array(z.uuid({ message: 'Each user id must be a UUID.' })).min(1, 'Ask for at least one person.').max(100, 'Ask for at most 100 people.')),
});

/**
 * `presence:watch`: start and stop following people's presence — the people whose dots this tab shows. The ack lists
 * those of `add` the caller may see who are not offline (the rest are offline, or not the caller's to see); from then
 * on each change reaches this socket as `presence:updated`, until they are removed again or the socket disconnects.
 */
export const PresenceWatchInput = z.strictObject({
  add: z.array(z.uuid()).max(PRESENCE_WATCH_ADD_MAX, `Add at most ${PRESENCE_WATCH_ADD_MAX} people at once.`).default([]),
  remove: z.array(z.uuid()).max(PRESENCE_WATCH_LIMIT).default([]),
});

export const HistoryQuery = z.strictObject({
  afterSeq: z.coerce.number().int().min(0).optional(),
  beforeSeq: z.coerce.number().int().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export const SearchQuery = z.strictObject({
  q: z.string().trim().min(2, 'Search for at least 2 characters.').max(200),
  communityId: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(50).default(20),
});

/**
 * Every change in a channel is a channel event with the channel's next seq (1, 2, 3… without gaps). Message events
 * carry the message as it is now, so replaying them in order ends in exactly the current state.
 * Events are published after their transaction commits, so two changes committed a moment apart (on one node or
 * two) can arrive in either order: clients apply strictly by seq — hold an early event until its predecessor
 * arrives, and catch up (`channel:join` with afterSeq) if the gap persists (e.g. the publishing node died).
 */
export type ChannelEvent =
  | { type: 'message:created'; channelId: string; seq: number; message: MessageDto; thread: { parentId: string; threadCount: number } | null }
  | { type: 'message:updated'; channelId: string; seq: number; message: MessageDto }
  | { type: 'message:deleted'; channelId: string; seq: number; message: MessageDto }
  | { type: 'reaction:updated'; channelId: string; seq: number; messageId: string; reactions: ReactionDto[] };
export type ChannelEventType = ChannelEvent['type'];
type EventOf<T extends ChannelEventType> = Extract<ChannelEvent, { type: T }>;

export interface JoinResult {
  channelId: string;
  lastSeq: number;
  events: ChannelEvent[];
  /** True when more events exist after the returned ones: page the rest over REST. */
  hasMore: boolean;
}

export interface ReadState {
  channelId: string;
  seq: number;
  unreadCount: number;
  mentionCount: number;
}

export type PresenceStatus = 'online' | 'away' | 'dnd' | 'offline';

export interface ChatServerEvents {
  'message:created': (event: EventOf<'message:created'>) => void;
  'message:updated': (event: EventOf<'message:updated'>) => void;
  'message:deleted': (event: EventOf<'message:deleted'>) => void;
  'reaction:updated': (event: EventOf<'reaction:updated'>) => void;
  typing: (payload: { channelId: string; userId: string; displayName: string }) => void;
  'read:updated': (payload: ReadState) => void;
  /** DM read receipts: who has read up to which seq. */
  'receipt:updated': (payload: { channelId: string; userId: string; seq: number }) => void;
  'mention:created': (payload: { channelId: string; messageId: string; seq: number; author: UserRef }) => void;
  /** To the other members of a DM, in their own rooms: a new message there (one more unread until they read it). */
  'dm:activity': (payload: { channelId: string; messageId: string; seq: number }) => void;
  'presence:updated': (payload: { userId: string; status: PresenceStatus }) => void;
  /**
   * The server stopped this socket following these people (`null`: everyone) because who may see whom changed (someone
   * left a community). Send `presence:watch` again for those still shown: the server checks again and answers.
   */
  'presence:rewatch': (payload: { userIds: string[] | null }) => void;
  /** You no longer have access (removed from the channel or community); the server has taken you out of the room. */
  'channel:removed': (payload: { channelId: string }) => void;
  /** A channel or DM you can read now exists (new public channel, added to a private one, a DM opened with you). */
  'channel:added': (payload: { channelId: string; communityId: string | null }) => void;
}

export interface ChatClientEvents {
  'channel:join': (input: z.input<typeof JoinChannelInput>, ack: Ack<JoinResult>) => void;
  'channel:leave': (input: z.input<typeof ChannelIdInput>, ack: Ack<{ channelId: string }>) => void;
  'message:send': (input: z.input<typeof SendMessageInput>, ack: Ack<MessageDto>) => void;
  'message:edit': (input: z.input<typeof EditMessageInput>, ack: Ack<MessageDto>) => void;
  'message:delete': (input: z.input<typeof MessageIdInput>, ack: Ack<MessageDto>) => void;
  'message:pin': (input: z.input<typeof PinMessageInput>, ack: Ack<MessageDto>) => void;
  'reaction:toggle': (input: z.input<typeof ToggleReactionInput>, ack: Ack<{ messageId: string; reactions: ReactionDto[] }>) => void;
  'typing:start': (input: z.input<typeof ChannelIdInput>, ack?: Ack<null>) => void;
  'read:mark': (input: z.input<typeof MarkReadInput>, ack: Ack<ReadState>) => void;
  'presence:set': (input: z.input<typeof PresenceSetInput>, ack: Ack<{ status: PresenceStatus }>) => void;
  'presence:watch': (input: z.input<typeof PresenceWatchInput>, ack: Ack<PresenceList>) => void;
}
