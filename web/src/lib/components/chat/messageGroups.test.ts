import { describe, expect, it } from 'vitest';
import type { MessageDto } from '$contracts/chat.ts';
import { dayLabel, layoutMessages } from './messageGroups.ts';

const ADA = { id: '00000000-0000-4000-8000-00000000000a', displayName: 'Ada' };
const BOB = { id: '00000000-0000-4000-8000-00000000000b', displayName: 'Bob' };
let seq = 0;
function message(author: typeof ADA, createdAt: Date, extra: Partial<MessageDto> = {}): MessageDto {
  seq++;
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    channelId: '00000000-0000-4000-8000-0000000000cc',
    seq,
    clientId: `client-${seq}`,
    author,
    body: `message ${seq}`,
    replyToId: null,
    threadCount: 0,
    reactions: [],
    mentions: [],
    pinned: false,
    createdAt: createdAt.toISOString(),
    editedAt: null,
    deletedAt: null,
    hidden: false,
    ...extra,
  };
}

describe('layoutMessages', () => {
  const now = new Date(2026, 11, 5, 15, 0);
  const at = (day: number, hour: number, minute: number) => new Date(2026, 11, day, hour, minute);

  it('groups one author within five minutes, and starts again after a pause, another author or a deletion', () => {
    const list = [
      message(ADA, at(5, 10, 0)),
      message(ADA, at(5, 10, 4)),
      message(ADA, at(5, 10, 8)), // 4 minutes after the previous one: still the group
      message(ADA, at(5, 10, 14)), // 6 minutes later: a new header
      message(BOB, at(5, 10, 15)),
      message(ADA, at(5, 10, 15)),
      message(ADA, at(5, 10, 16), { deletedAt: at(5, 10, 20).toISOString(), body: '' }),
      message(ADA, at(5, 10, 17)),
    ];
    expect(layoutMessages(list, now).map((e) => e.compact)).toEqual([false, true, true, false, false, false, false, false]);
  });

  it('puts a divider before the first message of each day and never groups across it', () => {
    const list = [message(ADA, at(3, 23, 58)), message(ADA, at(4, 23, 59)), message(ADA, at(5, 0, 1)), message(ADA, at(5, 0, 2))];
    const entries = layoutMessages(list, now);
    expect(entries.map((e) => e.divider)).toEqual([dayLabel(list[0]!.createdAt, now), 'Yesterday', 'Today', null]);
    expect(entries[0]!.divider).not.toMatch(/Today|Yesterday/);
    expect(entries.map((e) => e.compact)).toEqual([false, false, false, true]);
  });
});
