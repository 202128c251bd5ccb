import type { MessageDto } from '$contracts/chat.ts';

/** Messages by the same author this close together read as one group under one header. */
export const GROUP_WINDOW_MS = 5 * 60 * 1000;

export interface ListEntry {
  message: MessageDto;
  /** Continues the previous message's group: no avatar or name, the time on hover/focus only. */
  compact: boolean;
  /** The label of a date divider shown before this message (the first of its day), or null. */
  divider: string | null;
}

const dateFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });

/** The local calendar day of an instant, as a comparable key. */
function dayKey(date: Date): string {
  return `${date.getFullYear()}-${date.getMonth()}-${date.getDate()}`;
}

/** "Today", "Yesterday", or the date. */
export function dayLabel(iso: string, now = new Date()): string {
  const date = new Date(iso);
  if (dayKey(date) === dayKey(now)) return 'Today';
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (dayKey(date) === dayKey(yesterday)) return 'Yesterday';
  return dateFormat.format(date);
}

/**
 * How a list of messages (oldest first) is laid out: a date divider before the first message of each day, and
 * consecutive messages by one author within GROUP_WINDOW_MS of the previous one grouped. A deleted or hidden message
 * starts no group and joins none: its tombstone shows whose it was.
 */
export function layoutMessages(messages: readonly MessageDto[], now = new Date()): ListEntry[] {
  const entries: ListEntry[] = [];
  let previous: MessageDto | null = null;
  let previousDay: string | null = null;
  for (const message of messages) {
    const created = new Date(message.createdAt);
    const day = dayKey(created);
    const divider = day === previousDay ? null : dayLabel(message.createdAt, now);
    const compact =
      divider === null &&
      previous !== null &&
      previous.author.id === message.author.id &&
      previous.deletedAt === null &&
      message.deletedAt === null &&
      created.getTime() - Date.parse(previous.createdAt) < GROUP_WINDOW_MS;
    entries.push({ message, compact, divider });
    previous = message;
    previousDay = day;
  }
  return entries;
}
