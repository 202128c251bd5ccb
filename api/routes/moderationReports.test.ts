import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseDto } from '../../contracts/moderation.ts';
import { addToCommunity, seedCommunity, seedDm } from '../../test/communities.ts';
import { call, collect, connectSocket, emitOk, eventually, registerUsers, type ClientSocket, type TestUser } from '../../test/factories.ts';
import {
  activeCaseId,
  hideMessage,
  moderationWorld,
  reportAs,
  seedComment,
  seedMessage,
  seedPost,
  type ModerationWorld,
} from '../../test/moderationFactories.ts';
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

async function caseOf(targetId: string): Promise<CaseDto> {
  const res = await call(node, 'GET', `/moderation/cases/${await activeCaseId(node, targetId)}`, world.moderator);
  expect(res.status).toBe(200);
  return res.body.case;
}

/** More members who can report. */
async function reporters(n: number): Promise<TestUser[]> {
  const users = await registerUsers(node.url, n);
  for (const user of users) await addToCommunity(node, world.communityId, user);
  return users;
}

describe('POST /reports merges reports on one target into one case', () => {
  it('several reporters make one case with a count and a tally of reasons', async () => {
    const messageId = await seedMessage(node, world.channelId, world.author.user.id, 'buy followers');
    const [a, b, c] = await reporters(3);
    const first = await reportAs(node, a!, { targetType: 'message', targetId: messageId, reason: 'spam', note: 'again' });
    expect(first.status).toBe(201);
    expect(first.body.report).toMatchObject({ targetType: 'message', targetId: messageId, communityId: world.communityId, reason: 'spam', note: 'again' });
    await reportAs(node, b!, { targetType: 'message', targetId: messageId, reason: 'spam' });
    await reportAs(node, c!, { targetType: 'message', targetId: messageId, reason: 'harassment' });
    const kase = await caseOf(messageId);
    expect(kase).toMatchObject({
      communityId: world.communityId,
      status: 'open',
      reportCount: 3,
      reasons: { spam: 2, harassment: 1 },
      target: { type: 'message', id: messageId, body: 'buy followers', author: { id: world.author.user.id }, hidden: false, deleted: false },
    });
    expect(await dbOf(node).selectFrom('moderation_cases').select('id').where('target_id', '=', messageId).execute()).toHaveLength(1);
  });

  it('the same reporter twice is counted once (200 the second time)', async () => {
    const messageId = await seedMessage(node, world.channelId, world.author.user.id, 'twice');
    expect((await reportAs(node, world.member, { targetType: 'message', targetId: messageId })).status).toBe(201);
    const again = await reportAs(node, world.member, { targetType: 'message', targetId: messageId, reason: 'hate' });
    expect(again.status).toBe(200);
    expect(again.body.report.reason).toBe('spam');
    expect(await caseOf(messageId)).toMatchObject({ reportCount: 1, reasons: { spam: 1 } });
  });

  it('reports arriving together still make one case', async () => {
    const messageId = await seedMessage(node, world.channelId, world.author.user.id, 'together');
    const users = await reporters(6);
    const results = await Promise.all(users.map((u) => call(node, 'POST', '/reports', u, { targetType: 'message', targetId: messageId, reason: 'spam' })));
    expect(results.map((r) => r.status)).toEqual(users.map(() => 201));
    expect(await caseOf(messageId)).toMatchObject({ reportCount: 6 });
  });

  it('a target whose case was closed gets a new case with the next report', async () => {
    const messageId = await seedMessage(node, world.channelId, world.author.user.id, 'again later');
    await reportAs(node, world.member, { targetType: 'message', targetId: messageId });
    const firstCase = await activeCaseId(node, messageId);
    const dismissed = await call(node, 'POST', `/moderation/cases/${firstCase}/actions`, world.moderator, { action: 'dismiss', reason: 'fine' });
    expect(dismissed.status).toBe(200);
    expect((await reportAs(node, world.member, { targetType: 'message', targetId: messageId })).status).toBe(201);
    const secondCase = await activeCaseId(node, messageId);
    expect(secondCase).not.toBe(firstCase);
    expect(await caseOf(messageId)).toMatchObject({ status: 'open', reportCount: 1 });
  });

  it('posts, comments and people can be reported; the case names the author', async () => {
    const postId = await seedPost(node, world.communityId, world.author.user.id, 'a post');
    const commentId = await seedComment(node, postId, world.author.user.id, 'a comment');
    await reportAs(node, world.member, { targetType: 'post', targetId: postId });
    await reportAs(node, world.member, { targetType: 'comment', targetId: commentId });
    await reportAs(node, world.member, { targetType: 'user', targetId: world.author.user.id, communityId: world.communityId, reason: 'harassment' });
    expect(await caseOf(postId)).toMatchObject({ target: { type: 'post', body: 'a post', postId, author: { id: world.author.user.id } } });
    expect(await caseOf(commentId)).toMatchObject({ target: { type: 'comment', body: 'a comment', postId, author: { id: world.author.user.id } } });
    expect(await caseOf(world.author.user.id)).toMatchObject({ target: { type: 'user', body: '', author: { id: world.author.user.id } } });
  });

  it('moderators with the console open hear of new cases and of reports merged into them', async () => {
    const socket = await connectSocket(node.url, world.moderator.accessToken);
    sockets.push(socket);
    await emitOk(socket, 'moderation:subscribe', { communityId: world.communityId });
    const created = collect(socket, 'moderation:case_created');
    const updated = collect(socket, 'moderation:case_updated');
    const messageId = await seedMessage(node, world.channelId, world.author.user.id, 'live');
    const [a, b] = await reporters(2);
    await reportAs(node, a!, { targetType: 'message', targetId: messageId });
    await eventually(() => created.some((k) => k.target.id === messageId), 2000, 'case_created');
    await reportAs(node, b!, { targetType: 'message', targetId: messageId, reason: 'hate' });
    await eventually(() => updated.some((k) => k.target.id === messageId && k.reportCount === 2), 2000, 'case_updated with two reports');
    // The same reporter again changes nothing, so nothing is announced.
    await reportAs(node, b!, { targetType: 'message', targetId: messageId });
    await new Promise((r) => setTimeout(r, 200));
    expect(updated.filter((k) => k.target.id === messageId)).toHaveLength(1);
  });
});

describe('POST /reports refuses what the reporter may not report', () => {
  it('yourself or your own content: invalid_input', async () => {
    const mine = await seedMessage(node, world.channelId, world.member.user.id, 'mine');
    const ownMessage = await call(node, 'POST', '/reports', world.member, { targetType: 'message', targetId: mine, reason: 'spam' });
    expect(ownMessage).toMatchObject({ status: 400, body: { error: { code: 'invalid_input' } } });
    const self = await call(node, 'POST', '/reports', world.member, { targetType: 'user', targetId: world.member.user.id, communityId: world.communityId, reason: 'spam' });
    expect(self).toMatchObject({ status: 400, body: { error: { code: 'invalid_input' } } });
  });

  it('what the reporter cannot see does not exist for them: not_found', async () => {
    const messageId = await seedMessage(node, world.channelId, world.author.user.id, 'members only');
    const postId = await seedPost(node, world.communityId, world.author.user.id);
    for (const [targetType, targetId] of [
      ['message', messageId],
      ['post', postId],
      ['user', world.author.user.id],
    ] as const) {
      const res = await call(node, 'POST', '/reports', world.outsider, { targetType, targetId, reason: 'spam', communityId: world.communityId });
      expect(res.status, targetType).toBe(404);
    }
    const missing = await call(node, 'POST', '/reports', world.member, { targetType: 'comment', targetId: crypto.randomUUID(), reason: 'spam' });
    expect(missing.status).toBe(404);
  });

  it('a private channel the reporter is not in, and content already hidden or deleted: not_found', async () => {
    const { channels } = await seedCommunity(node, {
      members: [{ userId: world.member.user.id }, { userId: world.author.user.id }],
      channels: [{ name: 'secret', visibility: 'private', members: [world.author.user.id] }, { name: 'open' }],
    });
    const secret = await seedMessage(node, channels.secret!, world.author.user.id);
    expect((await call(node, 'POST', '/reports', world.member, { targetType: 'message', targetId: secret, reason: 'spam' })).status).toBe(404);
    const hidden = await seedMessage(node, channels.open!, world.author.user.id);
    await hideMessage(node, hidden);
    expect((await call(node, 'POST', '/reports', world.member, { targetType: 'message', targetId: hidden, reason: 'spam' })).status).toBe(404);
  });

  it('a person who is not a member of the community named: not_found; a person without a community: invalid_input', async () => {
    const notMember = await call(node, 'POST', '/reports', world.member, { targetType: 'user', targetId: world.outsider.user.id, communityId: world.communityId, reason: 'spam' });
    expect(notMember.status).toBe(404);
    const noCommunity = await call(node, 'POST', '/reports', world.member, { targetType: 'user', targetId: world.author.user.id, reason: 'spam' });
    expect(noCommunity).toMatchObject({ status: 400, body: { error: { code: 'invalid_input' } } });
  });

  it('direct messages belong to no community: invalid_input', async () => {
    const dm = await seedDm(node, [world.member.user.id, world.author.user.id]);
    const messageId = await seedMessage(node, dm, world.author.user.id, 'psst');
    const res = await call(node, 'POST', '/reports', world.member, { targetType: 'message', targetId: messageId, reason: 'harassment' });
    expect(res).toMatchObject({ status: 400, body: { error: { code: 'invalid_input' } } });
  });
});
