import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageDto } from '../../contracts/chat.ts';
import type { ChannelDto } from '../../contracts/communities.ts';
import { seedCommunity } from '../../test/communities.ts';
import { call, connectSocket, emitOk, nextEvent, registerUsers, type ClientSocket, type TestUser } from '../../test/factories.ts';
import { activeCaseId, reportAs } from '../../test/moderationFactories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';

/*
 * Through the API, the read rules say the same thing wherever they are asked: search finds nothing in a channel its
 * reader cannot open, and the channel list and the read state count unread messages alike.
 */

let node: RunningNode;
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  node = await startNode({ env: { RATE_LIMIT_MESSAGES_PER_10S: '1000' } });
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await node?.close();
});


async function socketOf(user: TestUser) {
  const socket = await connectSocket(node.url, user.accessToken);
  sockets.push(socket);
  return socket;
}

async function send(socket: ClientSocket, channelId: string, body: string): Promise<MessageDto> {
  await emitOk(socket, 'channel:join', { channelId });
  return emitOk(socket, 'message:send', { channelId, clientId: crypto.randomUUID(), body });
}

const search = async (user: TestUser, word: string) =>
  ((await call<{ data: MessageDto[] }>(node, 'GET', `/search/messages?q=${word}`, user)).body.data ?? []).map((m) => m.id).sort();

describe('GET /search/messages and blocks', () => {
  it('gives nothing from a 1:1 DM to someone the other member blocked, and still finds what they can read', async () => {
    const [alice, bob] = await registerUsers(node.url, 2);
    const word = `needle${randomBytes(4).toString('hex')}`;
    const { channels } = await seedCommunity(node, { members: [{ userId: alice.user.id }, { userId: bob.user.id }], channels: [{ name: 'general' }] });
    const dm = await call<{ channel: ChannelDto }>(node, 'POST', '/dms', alice, { userIds: [bob.user.id] });
    const [a, b] = [await socketOf(alice), await socketOf(bob)];
    const inDm = await send(a, dm.body.channel.id, `${word} in private`);
    const fromBob = await send(b, dm.body.channel.id, `${word} answered`);
    const inChannel = await send(a, channels.general!, `${word} for everyone`);
    const all = [inDm.id, fromBob.id, inChannel.id].sort();
    expect(await search(alice, word)).toEqual(all);

    expect((await call(node, 'POST', `/users/${alice.user.id}/block`, bob)).status).toBe(204);
    // Alice can no longer open the DM, so search gives her nothing from it — not even her own messages.
    expect((await call(node, 'GET', `/channels/${dm.body.channel.id}/messages`, alice)).status).toBe(404);
    expect(await search(alice, word)).toEqual([inChannel.id]);
    // The one who blocked keeps the history.
    expect(await search(bob, word)).toEqual(all);

    // Blocking someone yourself does not take the DM away from you.
    expect((await call(node, 'DELETE', `/users/${alice.user.id}/block`, bob)).status).toBe(204);
    expect((await call(node, 'POST', `/users/${bob.user.id}/block`, alice)).status).toBe(204);
    expect(await search(alice, word)).toEqual(all);
  });
});

describe('unread counts and hidden messages', () => {
  it('agree between the channel list, the read:mark ack and read:updated on another device', async () => {
    const [moderator, author, reader] = await registerUsers(node.url, 3);
    const { communityId, channels } = await seedCommunity(node, {
      members: [{ userId: moderator.user.id, role: 'moderator' }, { userId: author.user.id }, { userId: reader.user.id }],
      channels: [{ name: 'general' }],
    });
    const channelId = channels.general!;
    const authorSocket = await socketOf(author);
    const sent: MessageDto[] = [];
    for (const n of [1, 2, 3, 4]) sent.push(await send(authorSocket, channelId, `message ${n}`));

    // A member reports the third message and a moderator hides it.
    await reportAs(node, reader, { targetType: 'message', targetId: sent[2]!.id });
    const caseId = await activeCaseId(node, sent[2]!.id);
    const hidden = await call(node, 'POST', `/moderation/cases/${caseId}/actions`, moderator, { action: 'hide', reason: 'off topic' });
    expect(hidden.status).toBe(200);

    const listed = async (user: TestUser) =>
      (await call<{ data: ChannelDto[] }>(node, 'GET', `/communities/${communityId}/channels`, user)).body.data.find((c) => c.id === channelId)!;
    for (const user of [reader, moderator]) {
      // Four sent, one hidden: three count, for members and moderators alike.
      expect((await listed(user)).unreadCount).toBe(3);
      const [phone, laptop] = [await socketOf(user), await socketOf(user)];
      const synced = nextEvent(laptop, 'read:updated');
      const state = await emitOk(phone, 'read:mark', { channelId, seq: sent[0]!.seq });
      expect(state.unreadCount).toBe(2);
      expect((await synced).unreadCount).toBe(2);
      expect((await listed(user)).unreadCount).toBe(2);
    }
  });
});
