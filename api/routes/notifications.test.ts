import { describe, expect, inject, it } from 'vitest';
import type { MessageDto } from '../../contracts/chat.ts';
import type { NotificationList } from '../../contracts/notifications.ts';
import { notifyAboutMessage } from '../../domain/notifications/messageNotifications.ts';
import { notify } from '../../domain/notifications/notify.ts';
import { addToCommunity, seedDm, seedWorld } from '../../test/communities.ts';
import { call, emitOk, emitRaw, nextEvent, ok, type ClientSocket, type TestUser } from '../../test/factories.ts';
import { twoNodes } from '../../test/cluster.ts';
import { dbOf, type RunningNode } from '../../test/nodes.ts';

/*
 * In-app notifications on two nodes sharing Redis: a mention sent on node A reaches the recipient's socket on node B
 * and their list; reading on one device clears the badge on the other; a notification about a message the recipient
 * can no longer read (deleted, hidden) leaves the list and the count, and is never created for one already hidden.
 */
describe.skipIf(!inject('redisUrl'))('notifications (two nodes, one Redis)', () => {
  const two = twoNodes();
  let sent = 0;
  const send = (socket: ClientSocket, channelId: string, body: string, replyToId?: string) =>
    emitOk(socket, 'message:send', { channelId, clientId: `notify-test-${Date.now()}-${sent++}`, body, ...(replyToId ? { replyToId } : {}) }) as Promise<MessageDto>;
  const listOf = (user: TestUser, node: RunningNode = two.nodeB) => ok(call<NotificationList>(node, 'GET', '/notifications', user));

  it('a mention on node A reaches the recipient on node B live and in their list; reading on one device clears the other', async () => {
    const world = await seedWorld(two.nodeA, { people: { owner: 'owner', alice: 'member', bob: 'member' }, channels: [{ name: 'general' }] });
    const { alice, bob } = world;
    const general = world.channels.general;
    const aliceSocket = await two.socketOn(two.nodeA, alice);
    const bobLaptop = await two.socketOn(two.nodeB, bob);
    const bobPhone = await two.socketOn(two.nodeA, bob);

    const arrived = nextEvent(bobLaptop, 'notification:created', 10_000);
    const message = await send(aliceSocket, general, `Question for @${bob.user.displayName}: ready?`);
    const { notification, unreadCount } = await arrived;
    expect(unreadCount).toBe(1);
    expect(notification).toMatchObject({
      kind: 'mention',
      title: `${alice.user.displayName} mentioned you in #general`,
      body: `Question for @${bob.user.displayName}: ready?`,
      url: `/app/c/${world.communityId}/${general}?message=${message.id}`,
      actor: { id: alice.user.id, displayName: alice.user.displayName },
      communityId: world.communityId,
      readAt: null,
    });
    const list = await listOf(bob);
    expect(list.unreadCount).toBe(1);
    expect(list.data.map((n) => n.id)).toEqual([notification.id]);
    // The author is not notified of their own message, and nobody else was mentioned.
    expect((await listOf(alice, two.nodeA)).data).toEqual([]);

    // Exactly once: the job running again (a retry, another node) stores nothing new.
    expect(await notifyAboutMessage(two.nodeB.node.deps, message.id)).toBe(0);
    expect(await dbOf(two.nodeA).selectFrom('notifications').select('id').where('user_id', '=', bob.user.id).execute()).toHaveLength(1);

    // Read on the phone (node A): the laptop (node B) hears it and its badge clears.
    const cleared = nextEvent(bobLaptop, 'notification:read', 10_000);
    expect(await ok(call(two.nodeA, 'POST', '/notifications/read', bob, { ids: [notification.id] }))).toEqual({ unreadCount: 0 });
    expect(await cleared).toEqual({ ids: [notification.id], upTo: null, unreadCount: 0 });
    expect(await ok(call(two.nodeB, 'GET', '/notifications/unread-count', bob))).toEqual({ unreadCount: 0 });
    void bobPhone;

    // A reply in the thread notifies the thread's author.
    const replied = nextEvent(aliceSocket, 'notification:created', 10_000);
    await send(bobLaptop, general, 'Ready.', message.id);
    expect((await replied).notification).toMatchObject({ kind: 'reply', title: `${bob.user.displayName} replied in a thread in #general` });

    // A direct message notifies the other member.
    const dm = await seedDm(two.nodeA, [alice.user.id, bob.user.id]);
    const dmArrived = nextEvent(bobLaptop, 'notification:created', 10_000);
    // Bob never joined the DM's room: his own room hears of the message (the "Messages" badge on any page).
    const activity = nextEvent(bobLaptop, 'dm:activity', 10_000);
    const direct = await send(aliceSocket, dm, 'Lunch?');
    expect(await activity).toEqual({ channelId: dm, messageId: direct.id, seq: direct.seq });
    expect((await dmArrived).notification).toMatchObject({ kind: 'dm', url: `/app/dm/${dm}?message=${direct.id}`, title: `${alice.user.displayName} sent you a message` });
    expect((await listOf(bob)).unreadCount).toBe(1);

    // While one of Bob's tabs is focused (his phone, on node A) he is looking at the app: a DM notifies nothing.
    expect(await emitOk(bobPhone, 'presence:focus', { focused: true })).toBeNull();
    const unseen = await send(aliceSocket, dm, 'Are you there?');
    expect(await notifyAboutMessage(two.nodeB.node.deps, unseen.id)).toBe(0);
    // A mention still does, focused or not.
    const mentionWhileFocused = nextEvent(bobLaptop, 'notification:created', 10_000);
    await send(aliceSocket, general, `@${bob.user.displayName} see the DM`);
    expect((await mentionWhileFocused).notification.kind).toBe('mention');
    // The tab loses focus: the next DM notifies again. A focused tab that disconnects counts no more either.
    expect(await emitOk(bobPhone, 'presence:focus', { focused: false })).toBeNull();
    const again = nextEvent(bobLaptop, 'notification:created', 10_000);
    const later = await send(aliceSocket, dm, 'Ping');
    expect((await again).notification).toMatchObject({ kind: 'dm', url: `/app/dm/${dm}?message=${later.id}` });
    await emitOk(bobPhone, 'presence:focus', { focused: true });
    const phoneGone = nextEvent(bobLaptop, 'notification:created', 10_000);
    bobPhone.disconnect();
    await new Promise((r) => setTimeout(r, 300));
    const afterPhone = await send(aliceSocket, dm, 'Still there?');
    expect((await phoneGone).notification).toMatchObject({ kind: 'dm', url: `/app/dm/${dm}?message=${afterPhone.id}` });
    const kinds = (await listOf(bob)).data.map((n) => n.url);
    expect(kinds).not.toContain(`/app/dm/${dm}?message=${unseen.id}`);
    expect(await emitRaw(bobLaptop, 'presence:focus', { focused: 'yes' })).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
  });

  it('a notification about a message that is deleted or hidden leaves the list and the count; none is made for a hidden one', async () => {
    const world = await seedWorld(two.nodeA, { people: { alice: 'member', bob: 'member' }, channels: [{ name: 'general' }] });
    const { alice, bob } = world;
    const general = world.channels.general;
    const aliceSocket = await two.socketOn(two.nodeA, alice);
    const bobSocket = await two.socketOn(two.nodeB, bob);

    const first = nextEvent(bobSocket, 'notification:created', 10_000);
    const deleted = await send(aliceSocket, general, `@${bob.user.displayName} oops, wrong person`);
    await first;
    const second = nextEvent(bobSocket, 'notification:created', 10_000);
    const hidden = await send(aliceSocket, general, `@${bob.user.displayName} spam spam`);
    await second;
    expect((await listOf(bob)).unreadCount).toBe(2);

    // Deleting it takes it off Bob's open devices at once, with the new count.
    const removed = nextEvent(bobSocket, 'notification:removed', 10_000);
    await emitOk(aliceSocket, 'message:delete', { messageId: deleted.id });
    expect(await removed).toMatchObject({ unreadCount: 1 });
    await dbOf(two.nodeA).updateTable('messages').set({ hidden_at: new Date() }).where('id', '=', hidden.id).execute();
    const after = await listOf(bob);
    expect(after).toMatchObject({ data: [], unreadCount: 0 });

    // Delivery asks too: a mention whose message is hidden by the time its job runs is never stored.
    await dbOf(two.nodeA).deleteFrom('notifications').where('user_id', '=', bob.user.id).execute();
    expect(await notifyAboutMessage(two.nodeA.node.deps, hidden.id)).toBe(0);
    expect(await notifyAboutMessage(two.nodeA.node.deps, deleted.id)).toBe(0);
    expect(await dbOf(two.nodeA).selectFrom('notifications').select('id').where('user_id', '=', bob.user.id).execute()).toEqual([]);
  });

  it('leaving a private community takes its notifications away, live; a public one keeps them', async () => {
    const secret = await seedWorld(two.nodeA, { people: { owner: 'owner', bob: 'member' }, visibility: 'private' });
    const open = await seedWorld(two.nodeA, { people: { owner: 'owner' } });
    const { bob } = secret;
    await addToCommunity(two.nodeA, open.communityId, bob);
    const bobSocket = await two.socketOn(two.nodeB, bob);
    const warned = (communityId: string) => ({
      userId: bob.user.id,
      kind: 'moderation_warned' as const,
      sourceKey: `test-warning:${communityId}`,
      communityId,
      subjectType: 'community',
      subjectId: communityId,
      title: 'A moderator warned you',
      url: `/app/c/${communityId}`,
    });
    expect(await notify(two.nodeA.node.deps, [warned(secret.communityId), warned(open.communityId)])).toBe(2);
    expect((await listOf(bob)).unreadCount).toBe(2);
    const secretNote = (await listOf(bob)).data.find((n) => n.communityId === secret.communityId)!;

    const removed = nextEvent(bobSocket, 'notification:removed', 10_000);
    await ok(call(two.nodeA, 'POST', `/communities/${secret.communityId}/leave`, bob), 204);
    expect(await removed).toEqual({ ids: [secretNote.id], unreadCount: 1 });
    const list = await listOf(bob);
    expect(list.data.map((n) => n.communityId)).toEqual([open.communityId]);

    await ok(call(two.nodeA, 'POST', `/communities/${open.communityId}/leave`, bob), 204);
    expect((await listOf(bob)).unreadCount).toBe(1);
  });
});
