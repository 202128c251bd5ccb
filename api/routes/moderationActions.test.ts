import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KICK_DEFAULT_REJOIN_MINUTES, type CaseDto } from '../../contracts/moderation.ts';
import { manualClock } from '../../domain/shared/time.ts';
import { seedCommunity } from '../../test/communities.ts';
import { call, collect, connectSocket, eventually, type ClientSocket } from '../../test/factories.ts';
import {
  activeCaseId,
  auditRows,
  moderationWorld,
  reportAs,
  reportedMessage,
  reportedPerson,
  seedComment,
  seedPost,
  type ModerationWorld,
} from '../../test/moderationFactories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

const clock = manualClock('2026-03-02T10:00:00.000Z');
let node: RunningNode;
let world: ModerationWorld;
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  node = await startNode({ clock });
  world = await moderationWorld(node);
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await node?.close();
});

const act = (caseId: string, body: Record<string, unknown>, who = world.moderator) =>
  call<{ case: CaseDto }>(node, 'POST', `/moderation/cases/${caseId}/actions`, who, { reason: 'against the rules', ...body });

async function socketOf(user: ModerationWorld['member']) {
  const socket = await connectSocket(node.url, user.accessToken);
  sockets.push(socket);
  return socket;
}

describe('claiming a case', () => {
  it('of two moderators claiming at once, one wins and the other is told who has it', async () => {
    for (let round = 0; round < 5; round++) {
      const { caseId } = await reportedMessage(node, world);
      const [a, b] = await Promise.all([
        call(node, 'POST', `/moderation/cases/${caseId}/claim`, world.moderator),
        call(node, 'POST', `/moderation/cases/${caseId}/claim`, world.admin),
      ]);
      expect([a.status, b.status].sort()).toEqual([200, 409]);
      const [winner, loser] = a.status === 200 ? [world.moderator, b] : [world.admin, a];
      expect(loser.body.error.message).toContain(winner.user.displayName);
      const claims = (await auditRows(node, { caseId })).filter((r) => r.action === 'claim');
      expect(claims).toEqual([expect.objectContaining({ actor_id: winner.user.id, before: { status: 'open', claimedBy: null } })]);
    }
  });

  it('claiming your own claim again changes nothing; acting on a case someone else claimed is refused', async () => {
    const { caseId } = await reportedMessage(node, world);
    const first = await call<{ case: CaseDto }>(node, 'POST', `/moderation/cases/${caseId}/claim`, world.moderator);
    expect(first.body.case).toMatchObject({ status: 'claimed', claimedBy: { id: world.moderator.user.id } });
    expect((await call(node, 'POST', `/moderation/cases/${caseId}/claim`, world.moderator)).status).toBe(200);
    expect((await auditRows(node, { caseId })).filter((r) => r.action === 'claim')).toHaveLength(1);
    const other = await act(caseId, { action: 'dismiss' }, world.admin);
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ error: { code: 'conflict', details: { claimedBy: { id: world.moderator.user.id } } } });
    expect((await act(caseId, { action: 'dismiss' })).status).toBe(200);
  });

  it('a closed case takes no more claims or actions', async () => {
    const { caseId } = await reportedMessage(node, world);
    expect((await act(caseId, { action: 'dismiss' })).status).toBe(200);
    expect((await call(node, 'POST', `/moderation/cases/${caseId}/claim`, world.admin)).status).toBe(409);
    expect((await act(caseId, { action: 'hide' })).status).toBe(409);
  });
});

describe('actions on content', () => {
  it('dismiss closes the case as dismissed, with its audit entry', async () => {
    const { caseId } = await reportedMessage(node, world);
    const res = await act(caseId, { action: 'dismiss', reason: 'banter' });
    expect(res.body.case).toMatchObject({
      status: 'dismissed',
      resolution: { action: 'dismiss', by: { id: world.moderator.user.id }, reason: 'banter', at: clock.now().toISOString() },
    });
    expect(await auditRows(node, { caseId })).toEqual([
      expect.objectContaining({ action: 'dismiss', actor_id: world.moderator.user.id, reason: 'banter', before: { status: 'open' }, after: { status: 'dismissed' } }),
    ]);
  });

  it('hide keeps the message for moderators, marked; delete removes its text; both audited with before and after', async () => {
    const hidden = await reportedMessage(node, world, 'rude words');
    const res = await act(hidden.caseId, { action: 'hide' });
    expect(res.body.case).toMatchObject({ status: 'resolved', target: { hidden: true, deleted: false, body: 'rude words' } });
    const row = await dbOf(node).selectFrom('messages').select('hidden_by_id').where('id', '=', hidden.messageId).executeTakeFirstOrThrow();
    expect(row.hidden_by_id).toBe(world.moderator.user.id);
    expect((await auditRows(node, { caseId: hidden.caseId }))[0]).toMatchObject({
      action: 'hide',
      before: { hidden: false, deleted: false, body: 'rude words' },
      after: { hidden: true, deleted: false },
    });

    const deleted = await reportedMessage(node, world, 'worse words');
    expect((await act(deleted.caseId, { action: 'delete' })).body.case).toMatchObject({ target: { deleted: true, body: '' } });
    expect((await auditRows(node, { caseId: deleted.caseId }))[0]).toMatchObject({
      action: 'delete',
      before: { deleted: false, body: 'worse words' },
      after: { deleted: true },
    });
  });

  it('posts and comments are hidden and deleted the same way', async () => {
    const postId = await seedPost(node, world.communityId, world.author.user.id, 'bad post');
    const commentId = await seedComment(node, postId, world.author.user.id, 'bad comment');
    await reportAs(node, world.member, { targetType: 'post', targetId: postId });
    await reportAs(node, world.member, { targetType: 'comment', targetId: commentId });
    const postCase = await activeCaseId(node, postId);
    const commentCase = await activeCaseId(node, commentId);
    expect((await act(postCase, { action: 'hide' })).body.case).toMatchObject({ target: { type: 'post', hidden: true } });
    expect((await act(commentCase, { action: 'delete' })).body.case).toMatchObject({ target: { type: 'comment', deleted: true } });
    expect((await auditRows(node, { caseId: postCase }))[0]).toMatchObject({ action: 'hide', before: { hidden: false }, after: { hidden: true } });
    expect((await auditRows(node, { caseId: commentCase }))[0]).toMatchObject({ action: 'delete', before: { deleted: false }, after: { deleted: true } });
  });
});

describe('actions on people', () => {
  it('warn tells the person live', async () => {
    const { caseId, person } = await reportedPerson(node, world);
    const socket = await socketOf(person);
    const warned = collect(socket, 'moderation:warned');
    expect((await act(caseId, { action: 'warn', reason: 'be kind' })).status).toBe(200);
    await eventually(() => warned.length === 1, 2000, 'moderation:warned');
    expect(warned[0]).toEqual({ communityId: world.communityId, reason: 'be kind' });
    expect((await auditRows(node, { caseId }))[0]).toMatchObject({ action: 'warn', after: { warned: true } });
  });

  it('timeout writes the row until now + minutes, tells the person, and a later timeout replaces it', async () => {
    const { caseId, person } = await reportedPerson(node, world);
    const socket = await socketOf(person);
    const timedOut = collect(socket, 'moderation:timed_out');
    expect(await act(caseId, { action: 'timeout' })).toMatchObject({ status: 400, body: { error: { code: 'invalid_input' } } });
    expect((await act(caseId, { action: 'timeout', minutes: 30, reason: 'cool down' })).status).toBe(200);
    const until = new Date(clock.now().getTime() + 30 * 60_000).toISOString();
    const timeouts = async () =>
      (
        await dbOf(node)
          .selectFrom('community_timeouts')
          .select('until')
          .where('community_id', '=', world.communityId)
          .where('user_id', '=', person.user.id)
          .execute()
      ).map((t) => t.until.toISOString());
    expect(await timeouts()).toEqual([until]);
    await eventually(() => timedOut.length === 1, 2000, 'moderation:timed_out');
    expect(timedOut[0]).toEqual({ communityId: world.communityId, until, reason: 'cool down' });
    expect((await auditRows(node, { caseId }))[0]).toMatchObject({ action: 'timeout', before: { timedOutUntil: null }, after: { timedOutUntil: until, minutes: 30 } });

    await reportAs(node, world.member, { targetType: 'user', targetId: person.user.id, communityId: world.communityId, reason: 'other' });
    const second = await activeCaseId(node, person.user.id);
    expect((await act(second, { action: 'timeout', minutes: 5 })).status).toBe(200);
    const shorter = new Date(clock.now().getTime() + 5 * 60_000).toISOString();
    expect(await timeouts()).toEqual([shorter]);
    expect((await auditRows(node, { caseId: second }))[0]).toMatchObject({ before: { timedOutUntil: until }, after: { timedOutUntil: shorter } });
  });

  it('kick removes the person and refuses rejoining until the block runs out', async () => {
    const { caseId, person } = await reportedPerson(node, world);
    const socket = await socketOf(person);
    const removed = collect(socket, 'community:removed');
    expect((await act(caseId, { action: 'kick', reason: 'out for now' })).status).toBe(200);
    const rejoinAfter = new Date(clock.now().getTime() + KICK_DEFAULT_REJOIN_MINUTES * 60_000).toISOString();
    await eventually(() => removed.length === 1, 2000, 'community:removed');
    expect(removed[0]).toEqual({ communityId: world.communityId, reason: 'out for now', ban: false, rejoinAfter });
    const membership = await dbOf(node)
      .selectFrom('community_members')
      .select('role')
      .where('community_id', '=', world.communityId)
      .where('user_id', '=', person.user.id)
      .executeTakeFirst();
    expect(membership).toBeUndefined();

    const join = () => call(node, 'POST', `/communities/${world.communityId}/join`, person);
    const refused = await join();
    expect(refused).toMatchObject({ status: 403, body: { error: { code: 'forbidden', details: { rejoinAfter } } } });
    expect(refused.body.error.message).toContain(rejoinAfter);
    // The community page knows why there is no way in.
    const seen = await call(node, 'GET', `/communities/${world.communityId}`, person);
    expect(seen.body.community).toMatchObject({ myRole: null, myBan: { until: rejoinAfter, reason: 'out for now' } });
    const invite = await call(node, 'POST', `/communities/${world.communityId}/invites`, world.owner);
    expect((await call(node, 'POST', `/invites/${invite.body.code}/accept`, person)).status).toBe(403);

    clock.advance(KICK_DEFAULT_REJOIN_MINUTES * 60_000 - 1000);
    expect((await join()).status).toBe(403);
    clock.advance(2000);
    expect((await join()).status).toBe(200);
    expect((await auditRows(node, { caseId }))[0]).toMatchObject({
      action: 'kick',
      before: { role: 'member', ban: null },
      after: { role: null, ban: { reason: 'out for now', expiresAt: rejoinAfter } },
    });
  });

  it('kick takes `minutes` for the rejoin block', async () => {
    const { caseId, person } = await reportedPerson(node, world);
    expect((await act(caseId, { action: 'kick', minutes: 5 })).status).toBe(200);
    clock.advance(5 * 60_000 + 1000);
    expect((await call(node, 'POST', `/communities/${world.communityId}/join`, person)).status).toBe(200);
  });

  it('ban removes the person for good (public join and invites refused); unban lets them join again; all audited', async () => {
    const { caseId, person } = await reportedPerson(node, world);
    const res = await act(caseId, { action: 'ban', reason: 'spam bot' });
    expect(res.body.case).toMatchObject({ status: 'resolved', resolution: { action: 'ban' } });
    const join = () => call(node, 'POST', `/communities/${world.communityId}/join`, person);
    expect(await join()).toMatchObject({ status: 403, body: { error: { code: 'forbidden', details: { banned: true } } } });
    const invite = await call(node, 'POST', `/communities/${world.communityId}/invites`, world.owner);
    expect((await call(node, 'POST', `/invites/${invite.body.code}/accept`, person)).status).toBe(403);
    clock.advance(365 * 86_400_000);
    expect((await join()).status).toBe(403);
    expect((await call(node, 'GET', `/communities/${world.communityId}`, person)).body.community).toMatchObject({
      myRole: null,
      myBan: { until: null, reason: 'spam bot' },
    });

    const bans = await call(node, 'GET', `/communities/${world.communityId}/bans`, world.moderator);
    expect(bans.body.data).toContainEqual(
      expect.objectContaining({ user: { id: person.user.id, displayName: person.user.displayName }, reason: 'spam bot', expiresAt: null, bannedBy: expect.objectContaining({ id: world.moderator.user.id }) }),
    );
    expect((await call(node, 'DELETE', `/communities/${world.communityId}/bans/${person.user.id}`, world.moderator)).status).toBe(204);
    expect((await call(node, 'DELETE', `/communities/${world.communityId}/bans/${person.user.id}`, world.moderator)).status).toBe(404);
    expect((await join()).status).toBe(200);
    const community = async () => (await call(node, 'GET', `/communities/${world.communityId}`, person)).body.community;
    expect(await community()).toMatchObject({ myRole: 'member', myBan: null });
    const entries = await auditRows(node, { targetUserId: person.user.id });
    expect(entries.map((e) => e.action)).toEqual(['ban', 'unban']);
    expect(entries[0]).toMatchObject({ before: { role: 'member', ban: null }, after: { role: null, ban: { reason: 'spam bot', expiresAt: null } } });
    expect(entries[1]).toMatchObject({ before: { ban: { reason: 'spam bot', expiresAt: null } }, after: { ban: null } });
  });

  it('a kick does not shorten a standing ban', async () => {
    const { caseId, person } = await reportedPerson(node, world);
    expect((await call(node, 'POST', `/communities/${world.communityId}/bans`, world.admin, { userId: person.user.id, reason: 'first' })).status).toBe(201);
    expect((await act(caseId, { action: 'kick', minutes: 1 })).status).toBe(200);
    clock.advance(10 * 60_000);
    expect((await call(node, 'POST', `/communities/${world.communityId}/join`, person)).status).toBe(403);
  });

  it('the last owner cannot be banned, even by a platform admin', async () => {
    const { communityId } = await seedCommunity(node, { members: [{ userId: world.owner.user.id, role: 'owner' }], channels: [] });
    const res = await call(node, 'POST', `/communities/${communityId}/bans`, world.platformAdmin, { userId: world.owner.user.id, reason: 'x' });
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
  });
});
