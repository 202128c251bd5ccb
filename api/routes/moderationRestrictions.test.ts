import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageList } from '../../contracts/chat.ts';
import type { CaseDto, RestrictionList } from '../../contracts/moderation.ts';
import { ChannelReplica, addToCommunity, follow } from '../../test/communities.ts';
import { call, connectSocket, emitOk, eventually, ok, registerUsers, type ClientSocket } from '../../test/factories.ts';
import { auditRows, moderationWorld, reportAs, activeCaseId, seedMessage, type ModerationWorld } from '../../test/moderationFactories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
let world: ModerationWorld;
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  node = await startNode();
  world = await moderationWorld(node);
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await node?.close();
});

const act = (caseId: string, body: Record<string, unknown>) =>
  call<{ case: CaseDto }>(node, 'POST', `/moderation/cases/${caseId}/actions`, world.moderator, { reason: 'against the rules', ...body });

async function newMember() {
  const [person] = await registerUsers(node.url, 1);
  await addToCommunity(node, world.communityId, person);
  return person;
}

async function personCase(person: Awaited<ReturnType<typeof newMember>>) {
  await reportAs(node, world.member, { targetType: 'user', targetId: person.user.id, communityId: world.communityId, reason: 'spam' });
  return activeCaseId(node, person.user.id);
}

describe('GET /me/restrictions', () => {
  it('lists my running timeout and bans with until and reason; what ran out is gone', async () => {
    const person = await newMember();
    expect((await ok(call<RestrictionList>(node, 'GET', '/me/restrictions', person))).data).toEqual([]);

    expect((await act(await personCase(person), { action: 'timeout', minutes: 30, reason: 'cool down' })).status).toBe(200);
    const [timeout] = (await ok(call<RestrictionList>(node, 'GET', '/me/restrictions', person))).data;
    expect(timeout).toMatchObject({ communityId: world.communityId, kind: 'timeout', reason: 'cool down', communityName: expect.any(String) });
    const minutesLeft = (Date.parse(timeout!.until!) - Date.now()) / 60_000;
    expect(minutesLeft).toBeGreaterThan(28);
    expect(minutesLeft).toBeLessThanOrEqual(30);
    // Someone else's restrictions are not mine.
    expect((await ok(call<RestrictionList>(node, 'GET', '/me/restrictions', world.member))).data).toEqual([]);

    // Run out (moved into the past): no longer listed.
    await dbOf(node).updateTable('community_timeouts').set({ until: new Date(Date.now() - 1000) }).where('user_id', '=', person.user.id).execute();
    expect((await ok(call<RestrictionList>(node, 'GET', '/me/restrictions', person))).data).toEqual([]);

    expect((await call(node, 'POST', `/communities/${world.otherCommunityId}/bans`, world.otherModerator, { userId: person.user.id, reason: 'not welcome' })).status).toBe(201);
    expect((await ok(call<RestrictionList>(node, 'GET', '/me/restrictions', person))).data).toEqual([
      expect.objectContaining({ communityId: world.otherCommunityId, kind: 'ban', reason: 'not welcome', until: null }),
    ]);
    expect((await call(node, 'GET', '/me/restrictions')).status).toBe(401);
  });
});

describe('a ban that also hides recent messages', () => {
  it('hides their messages of the last 24 hours in the community, live for readers and in history, audited with the ban', async () => {
    const person = await newMember();
    const old = await seedMessage(node, world.channelId, person.user.id, 'from two days ago');
    await dbOf(node).updateTable('messages').set({ created_at: new Date(Date.now() - 48 * 3_600_000) }).where('id', '=', old).execute();
    const recent = [await seedMessage(node, world.channelId, person.user.id, 'buy cheap pills'), await seedMessage(node, world.channelId, person.user.id, 'more pills')];
    const elsewhere = await seedMessage(node, world.channelId, world.author.user.id, 'an innocent bystander');

    const reader = await connectSocket(node.url, world.member.accessToken);
    sockets.push(reader);
    const replica = new ChannelReplica((await dbOf(node).selectFrom('channels').select('last_seq').where('id', '=', world.channelId).executeTakeFirstOrThrow()).last_seq);
    follow(reader, replica);
    await emitOk(reader, 'channel:join', { channelId: world.channelId });

    const res = await act(await personCase(person), { action: 'ban', reason: 'spam bot', hideRecentMessages: true });
    expect(res.status).toBe(200);

    // Live: the reader's copy of each recent message turns into a tombstone without its text.
    await eventually(() => recent.every((id) => replica.messages.get(id)?.hidden === true), 5000, 'hidden messages reach the reader');
    for (const id of recent) expect(replica.messages.get(id)).toMatchObject({ body: '', hidden: true });
    // History: the text is gone for members; the older message and other people's stay.
    const history = await ok(call<MessageList>(node, 'GET', `/channels/${world.channelId}/messages?limit=100`, world.member));
    const byId = new Map(history.data.map((m) => [m.id, m]));
    for (const id of recent) expect(byId.get(id)).toMatchObject({ body: '', hidden: true });
    expect(byId.get(old)).toMatchObject({ body: 'from two days ago', hidden: false });
    expect(byId.get(elsewhere)).toMatchObject({ body: 'an innocent bystander', hidden: false });

    const rows = await dbOf(node).selectFrom('messages').select(['id', 'hidden_by_id']).where('author_id', '=', person.user.id).execute();
    expect(Object.fromEntries(rows.map((r) => [r.id, r.hidden_by_id]))).toEqual({
      [old]: null,
      [recent[0]!]: world.moderator.user.id,
      [recent[1]!]: world.moderator.user.id,
    });
    const [ban] = (await auditRows(node, { targetUserId: person.user.id })).filter((r) => r.action === 'ban');
    expect(ban).toMatchObject({ after: { role: null, hiddenMessages: 2 } });
  });

  it('without the option, the ban leaves their messages alone; the option on another action is refused', async () => {
    const person = await newMember();
    const message = await seedMessage(node, world.channelId, person.user.id, 'still here');
    const caseId = await personCase(person);
    const refused = await call(node, 'POST', `/moderation/cases/${caseId}/actions`, world.moderator, { action: 'kick', reason: 'x', hideRecentMessages: true });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details.fields.hideRecentMessages).toBe('Only a ban can also hide recent messages.');
    expect((await act(caseId, { action: 'ban' })).status).toBe(200);
    const row = await dbOf(node).selectFrom('messages').select('hidden_at').where('id', '=', message).executeTakeFirstOrThrow();
    expect(row.hidden_at).toBeNull();
  });

  it('a direct ban can hide them too', async () => {
    const person = await newMember();
    const message = await seedMessage(node, world.channelId, person.user.id, 'spam');
    const res = await call(node, 'POST', `/communities/${world.communityId}/bans`, world.admin, { userId: person.user.id, reason: 'spam', hideRecentMessages: true });
    expect(res.status).toBe(201);
    const row = await dbOf(node).selectFrom('messages').select('hidden_by_id').where('id', '=', message).executeTakeFirstOrThrow();
    expect(row.hidden_by_id).toBe(world.admin.user.id);
  });
});
