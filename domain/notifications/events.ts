import type { NotificationDto, NotificationReadEvent } from '../../contracts/notifications.ts';

/*
 * Notification events. `messages.noticed` is emitted by the chat send path after the commit for messages that may
 * notify someone — a mention, a thread reply, a direct message. Those messages were noted in `message_notices` in the
 * statement that stored them, so their notifications are made even if the node dies right after the commit (the sweep
 * in messageNotices.ts); the notification's unique key keeps each to exactly one.
 */

declare module '../shared/events.ts' {
  interface DomainEvents {
    /** Stored messages that may notify people (after commit, one per send batch; noted durably with the messages). */
    'messages.noticed': { messageIds: string[] };
    /**
     * A notification was stored for `userId`: once for each notification, except an aggregated one ("Ana and 4 others
     * reacted"), emitted again with the same id each time it is renewed (devices replace it).
     */
    'notification.created': {
      userId: string;
      notification: NotificationDto;
      unreadCount: number;
      /** Whether the recipient had a device subscribed to push when it was stored (web push looks no further if not). */
      pushDevices: boolean;
    };
    /** Notifications `userId` may no longer see (what they were about is gone, or their access to it). */
    'notification.removed': { userId: string; ids: string[]; unreadCount: number };
    /** `userId` read notifications on one device; the others follow. */
    'notification.read': { userId: string; event: NotificationReadEvent };
  }
}
