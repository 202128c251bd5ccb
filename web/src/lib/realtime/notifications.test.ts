import { describe, expect, it } from 'vitest';
import type { AckResult } from '$contracts/errors.ts';
import type { MarkNotificationsReadInput, NotificationDto, NotificationList } from '$contracts/notifications.ts';
import { FakeSocket } from './fakeSocket.ts';
import { NotificationCentre, type NotificationApi } from './notifications.svelte.ts';

const id = (n: number) => `00000000-0000-4000-8000-4000000000${String(n).padStart(2, '0')}`;
const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute)).toISOString();
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

function notification(n: number, readAt: string | null = null): NotificationDto {
  return { id: id(n), kind: 'mention', title: `Note ${n}`, body: '', url: `/app/x?message=${id(n)}`, actor: null, communityId: null, createdAt: at(n), readAt };
}

/** A server holding notifications newest first, paged by index. */
function fakeApi(all: NotificationDto[], pageSize = 2) {
  const reads: MarkNotificationsReadInput[] = [];
  const unread = () => all.filter((n) => !n.readAt).length;
  const api: NotificationApi = {
    async page(cursor): Promise<AckResult<NotificationList>> {
      const sorted = [...all].sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      const start = cursor ? Number(cursor) : 0;
      const data = sorted.slice(start, start + pageSize);
      return { ok: true, data: { data, nextCursor: start + pageSize < sorted.length ? String(start + pageSize) : null, unreadCount: unread() } };
    },
    async markRead(input) {
      reads.push(input);
      for (const n of all) {
        if ('ids' in input ? input.ids.includes(n.id) : n.createdAt <= input.upTo) n.readAt ??= at(59);
      }
      return { ok: true, data: { unreadCount: unread() } };
    },
  };
  return { api, reads, all };
}

describe('NotificationCentre', () => {
  it('loads page one and the count on connect, takes new ones live (once each) and pages older ones', async () => {
    const server = fakeApi([notification(1), notification(2), notification(3, at(4))]);
    const socket = new FakeSocket();
    const centre = new NotificationCentre({ api: server.api, pageSize: 2 });
    centre.attach(socket.socket);
    await settle();
    expect(centre.live).toBe(true);
    expect(centre.items.map((n) => n.title)).toEqual(['Note 3', 'Note 2']);
    expect(centre.unreadCount).toBe(2);

    const fresh = notification(5);
    server.all.push(fresh);
    socket.push('notification:created', { notification: fresh, unreadCount: 3 });
    socket.push('notification:created', { notification: fresh, unreadCount: 3 });
    expect(centre.items.map((n) => n.title)).toEqual(['Note 5', 'Note 3', 'Note 2']);
    expect(centre.unreadCount).toBe(3);

    await centre.loadMore();
    expect(centre.items.map((n) => n.title)).toEqual(['Note 5', 'Note 3', 'Note 2', 'Note 1']);
    expect(centre.nextCursor).toBeNull();
  });

  it('follows reads from other devices, marks one or all read, and catches up after a reconnect', async () => {
    const server = fakeApi([notification(1), notification(2), notification(3)], 10);
    const socket = new FakeSocket();
    const centre = new NotificationCentre({ api: server.api });
    centre.attach(socket.socket);
    await settle();
    expect(centre.unreadCount).toBe(3);

    // Another device read one.
    server.all[0]!.readAt = at(30);
    socket.push('notification:read', { ids: [id(1)], upTo: null, unreadCount: 2 });
    expect(centre.items.find((n) => n.id === id(1))?.readAt).not.toBeNull();
    expect(centre.unreadCount).toBe(2);

    await centre.markRead(id(2));
    expect(server.reads.at(-1)).toEqual({ ids: [id(2)] });
    expect(centre.unreadCount).toBe(1);

    // Missed while disconnected: one more arrives and nothing tells the tab; the reconnect catches up.
    socket.drop();
    expect(centre.live).toBe(false);
    server.all.push(notification(7));
    socket.reconnect();
    await settle();
    expect(centre.items[0]?.title).toBe('Note 7');
    expect(centre.unreadCount).toBe(2);

    await centre.markAllRead();
    expect(server.reads.at(-1)).toEqual({ upTo: at(7) });
    expect(centre.unreadCount).toBe(0);
    expect(centre.items.every((n) => n.readAt !== null)).toBe(true);

    centre.destroy();
    socket.push('notification:created', { notification: notification(8), unreadCount: 1 });
    expect(centre.unreadCount).toBe(0);
  });

  it('an updated aggregated notification replaces the one held and moves to the top', async () => {
    const server = fakeApi([notification(1, at(2)), notification(3), notification(5)], 10);
    const socket = new FakeSocket();
    const centre = new NotificationCentre({ api: server.api });
    centre.attach(socket.socket);
    await settle();
    expect(centre.items.map((n) => n.title)).toEqual(['Note 5', 'Note 3', 'Note 1']);
    expect(centre.unreadCount).toBe(2);

    // Note 1 (read) was "Ana reacted"; four more reactions later it is unread again, newer, and reworded.
    const updated = { ...notification(1), kind: 'reaction' as const, title: 'Ana and 4 others reacted', createdAt: at(9) };
    socket.push('notification:created', { notification: updated, unreadCount: 3 });
    expect(centre.items.map((n) => n.title)).toEqual(['Ana and 4 others reacted', 'Note 5', 'Note 3']);
    expect(centre.items[0]?.readAt).toBeNull();
    expect(centre.unreadCount).toBe(3);
  });

  it('drops notifications the server removed and takes the count it sends', async () => {
    const server = fakeApi([notification(1), notification(2), notification(3)], 10);
    const socket = new FakeSocket();
    const centre = new NotificationCentre({ api: server.api });
    centre.attach(socket.socket);
    await settle();
    expect(centre.unreadCount).toBe(3);

    socket.push('notification:removed', { ids: [id(2), id(3)], unreadCount: 1 });
    expect(centre.items.map((n) => n.title)).toEqual(['Note 1']);
    expect(centre.unreadCount).toBe(1);

    // An id this tab never loaded changes only the count.
    socket.push('notification:removed', { ids: [id(40)], unreadCount: 0 });
    expect(centre.items.map((n) => n.title)).toEqual(['Note 1']);
    expect(centre.unreadCount).toBe(0);
  });

  it('shows the count the page was rendered with until the socket brings a fresher one', async () => {
    const server = fakeApi([notification(1), notification(2)], 10);
    const socket = new FakeSocket();
    socket.connected = false;
    const centre = new NotificationCentre({ api: server.api });
    centre.seed(7);
    expect(centre.unreadCount).toBe(7);
    centre.attach(socket.socket);
    socket.reconnect();
    await settle();
    expect(centre.unreadCount).toBe(2);
    // A later seed (the shell's data reloaded) does not overwrite what the socket keeps current.
    centre.seed(9);
    expect(centre.unreadCount).toBe(2);
  });
});
