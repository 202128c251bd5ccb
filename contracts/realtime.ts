import { z } from 'zod';
import type { PlatformRole } from './auth.ts';
import type { Ack } from './errors.ts';
import type { ChatClientEvents, ChatServerEvents } from './chat.ts';
import type { ClassroomClientEvents, ClassroomServerEvents } from './classrooms.ts';
import type { CommerceServerEvents } from './commerce.ts';
import type { NotificationClientEvents, NotificationServerEvents } from './notifications.ts';
import type { CourseLearningServerEvents } from './courseLearning.ts';
import type { CourseServerEvents } from './courses.ts';
import type { EbookServerEvents } from './ebooks.ts';
import type { FeedClientEvents, FeedServerEvents } from './feed.ts';
import type { ModerationClientEvents, ModerationServerEvents } from './moderation.ts';

/** Room names are built in one place so server and client never disagree. */
export const rooms = {
  user: (userId: string) => `user:${userId}`,
  session: (sessionId: string) => `session:${sessionId}`,
  channel: (channelId: string) => `channel:${channelId}`,
  /** A community's connected members (new public channels; presence goes to watchers instead, see presenceOf). */
  communityPresence: (communityId: string) => `presence:${communityId}`,
  /** Sockets following one person's presence (after presence:watch): each of their status changes. */
  presenceOf: (userId: string) => `watch:${userId}`,
  /** Everyone admitted into a live classroom's room (state patches). */
  classroom: (classroomId: string) => `classroom:${classroomId}`,
  /** The host and co-hosts in the room (live poll results). */
  classroomStaff: (classroomId: string) => `classroom-staff:${classroomId}`,
  /** Sockets viewing a community's feed (after feed:subscribe). */
  feed: (communityId: string) => `feed:${communityId}`,
  /** The community's moderators with the console open (after moderation:subscribe). */
  moderation: (communityId: string) => `moderation:${communityId}`,
} as const;

export interface SessionRevokedPayload {
  sessionId: string;
  reason: 'logout' | 'revoked' | 'reuse_detected' | 'expired';
}

/** `session:hello` takes no arguments: an empty object. */
export const HelloInput = z.strictObject({});

export interface HelloPayload {
  userId: string;
  sessionId: string;
  serverTime: string;
}

/** Events the server sends (past tense). */
export interface ServerToClientEvents
  extends ChatServerEvents,
    ClassroomServerEvents,
    FeedServerEvents,
    ModerationServerEvents,
    CourseServerEvents,
    CourseLearningServerEvents,
    EbookServerEvents,
    CommerceServerEvents,
    NotificationServerEvents {
  'session:revoked': (payload: SessionRevokedPayload) => void;
  /** This node is shutting down; the client will reconnect (to another node when clustered). */
  'server:shutdown': (payload: { reconnect: true }) => void;
}

/** Events a client sends (imperative); every one takes an ack. */
export interface ClientToServerEvents
  extends ChatClientEvents,
    ClassroomClientEvents,
    FeedClientEvents,
    ModerationClientEvents,
    NotificationClientEvents {
  'session:hello': (input: z.input<typeof HelloInput>, ack: Ack<HelloPayload>) => void;
}

/** Data attached to an authenticated socket. */
export interface SocketData {
  userId: string;
  sessionId: string;
  displayName: string;
  role: PlatformRole;
}

/** Handshake error codes arrive in `connect_error` as `err.data.code`. */
export interface ConnectErrorData {
  /** `unavailable`: the server is restarting or cannot reach what it needs; connect again after `retryAfter` seconds. */
  code: 'unauthenticated' | 'forbidden' | 'rate_limited' | 'unavailable';
  message: string;
  retryAfter?: number;
}
