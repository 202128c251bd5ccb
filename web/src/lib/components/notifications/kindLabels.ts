import type { NotificationKind } from '$contracts/notifications.ts';

/** What each kind of notification is about, as the preferences page names it. */
export const KIND_LABELS: Record<NotificationKind, string> = {
  mention: 'Someone mentions me',
  reply: 'Replies in threads I took part in',
  reaction: 'Reactions to my messages',
  dm: 'Direct messages',
  class_reminder: 'A class I registered for is about to start',
  class_live: 'A class I registered for goes live',
  waitlist_promoted: 'I get a seat from a waitlist',
  lesson_released: 'A new lesson is released',
  assignment_graded: 'My assignment is graded',
  certificate_issued: 'I earn a certificate',
  order_paid: 'My order is paid',
  order_refunded: 'My order is refunded',
  moderation_warned: 'A moderator warns me',
  moderation_timed_out: 'A moderator times me out',
  report_resolved: 'A report I made is resolved',
  new_follower: 'Someone follows me',
  saved_search: 'A saved search has new results',
};
