import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEntryDto, CaseDetailDto } from '../../contracts/moderation.ts';
import { call, registerUsers } from '../../test/factories.ts';
import {
  activeCaseId,
  auditRows,
  hideMessage,
  moderationWorld,
  reportAs,
  reportedPerson,
  seedComment,
  seedMessage,
  seedPost,
  type ModerationWorld,
} from '../../test/moderationFactories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
let world: ModerationWorld;

beforeAll(async () => {
  node = await startNode();
  world = await moderationWorld(node);
});
afterAll(async () => node?.close());


describe('GET /communities/:id/audit-log', () => {
  it('lists every action newest first with who, what, target, reason, before and after; pages without gaps', async () => {
    const { communityId } = world;
    const first = await reportedPerson(node, world);
    await call(node, 'POST', `/moderation/cases/${first.caseId}/claim`, world.moderator);
    await call(node, 'POST', `/moderation/cases/${first.caseId}/actions`, world.moderator, { action: 'warn', reason: 'first warning' });
    const second = await reportedPerson(node, world);
    await call(node, 'POST', `/moderation/cases/${second.caseId}/actions`, world.admin, { action: 'timeout', minutes: 10, reason: 'cool off' });
    await call(node, 'POST', `/communities/${communityId}/bans`, world.admin, { userId: second.person.user.id, reason: 'enough' });
    await call(node, 'DELETE', `/communities/${communityId}/bans/${second.person.user.id}`, world.owner);

    const all: AuditEntryDto[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { data: AuditEntryDto[]; nextCursor: string | null } } = await call(
        node,
        'GET',
        `/communities/${communityId}/audit-log?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        world.admin,
      );
      expect(res.status).toBe(200);
      all.push(...res.body.data);
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    expect(all.map((e) => Number(e.id))).toEqual([...all.map((e) => Number(e.id))].sort((a, b) => b - a));
    expect(all.slice(0, 5).map((e) => e.action)).toEqual(['unban', 'ban', 'timeout', 'warn', 'claim']);
    expect(all[3]).toMatchObject({
      communityId,
      actor: { id: world.moderator.user.id, displayName: world.moderator.user.displayName },
      action: 'warn',
      targetType: 'user',
      targetId: first.person.user.id,
      targetUser: { id: first.person.user.id },
      caseId: first.caseId,
      reason: 'first warning',
      after: { warned: true },
    });
    expect(all[2]).toMatchObject({ action: 'timeout', actor: { id: world.admin.user.id }, before: { timedOutUntil: null }, after: { minutes: 10 } });
    expect(all[0]).toMatchObject({ action: 'unban', actor: { id: world.owner.user.id }, before: { ban: { reason: 'enough' } }, after: { ban: null } });
    expect((await call(node, 'GET', `/communities/${communityId}/audit-log?cursor=not-a-cursor`, world.admin)).status).toBe(400);
  });

  it('is append-only: the database refuses to change or remove an entry', async () => {
    const { caseId } = await reportedPerson(node, world);
    await call(node, 'POST', `/moderation/cases/${caseId}/actions`, world.moderator, { action: 'dismiss', reason: 'keep me' });
    const q = dbOf(node);
    await expect(q.updateTable('moderation_audit').set({ reason: 'rewritten' }).where('case_id', '=', caseId).execute()).rejects.toThrow(/append-only/);
    await expect(q.deleteFrom('moderation_audit').where('case_id', '=', caseId).execute()).rejects.toThrow(/append-only/);
    expect((await auditRows(node, { caseId })).map((r) => r.reason)).toEqual(['keep me']);
  });
});

describe('GET /moderation/cases/:id shows the case in context', () => {
  it('the messages around it (hidden ones marked), the author history and earlier actions about the author', async () => {
    const author = world.author.user.id;
    const before: string[] = [];
    for (let i = 0; i < 7; i++) before.push(await seedMessage(node, world.channelId, i % 2 ? author : world.member.user.id, `before ${i}`));
    const target = await seedMessage(node, world.channelId, author, 'the reported one');
    const after: string[] = [];
    for (let i = 0; i < 7; i++) after.push(await seedMessage(node, world.channelId, world.member.user.id, `after ${i}`));
    await hideMessage(node, before[6]!);
    const postId = await seedPost(node, world.communityId, author, 'author post');
    await seedComment(node, postId, author, 'author comment');
    // An earlier case about the author, closed with a warning: it shows as a prior action.
    await reportAs(node, world.member, { targetType: 'user', targetId: author, communityId: world.communityId, reason: 'harassment' });
    const earlier = await activeCaseId(node, author);
    await call(node, 'POST', `/moderation/cases/${earlier}/actions`, world.moderator, { action: 'warn', reason: 'earlier warning' });

    await reportAs(node, world.member, { targetType: 'message', targetId: target, reason: 'hate', note: 'look at this' });
    const res = await call<{ case: CaseDetailDto }>(node, 'GET', `/moderation/cases/${await activeCaseId(node, target)}`, world.moderator);
    expect(res.status).toBe(200);
    const detail = res.body.case;
    expect(detail.reports).toEqual([
      { reporter: { id: world.member.user.id, displayName: world.member.user.displayName }, reason: 'hate', note: 'look at this', createdAt: expect.any(String) },
    ]);
    expect(detail.context.surrounding.map((m) => m.id)).toEqual([...before.slice(2), ...after.slice(0, 5)]);
    expect(detail.context.surrounding.find((m) => m.id === before[6])).toMatchObject({ hidden: true, body: 'before 6' });
    const history = detail.context.authorHistory;
    expect(history.map((h) => h.type)).toEqual(expect.arrayContaining(['message', 'post', 'comment']));
    expect(history.find((h) => h.type === 'message' && h.id === target)).toMatchObject({ body: 'the reported one' });
    expect(detail.context.priorActions).toContainEqual(expect.objectContaining({ action: 'warn', reason: 'earlier warning', caseId: earlier }));
  });
});

describe('suspending an account (platform admins)', () => {
  it('revokes every session, refuses sign-in until lifted, and is audited without a community', async () => {
    const [user] = await registerUsers(node.url, 1);
    const login = () => call(node, 'POST', '/auth/login', null, { email: user.user.email, password: user.password });
    const second = await login();
    expect(second.status).toBe(200);

    const res = await call(node, 'POST', `/users/${user.user.id}/suspend`, world.platformAdmin, { reason: 'fraud' });
    expect(res).toMatchObject({ status: 200, body: { suspension: { user: { id: user.user.id }, reason: 'fraud', sessionsRevoked: 2 } } });
    expect((await call(node, 'GET', '/me', user)).status).toBe(401);
    expect((await call(node, 'GET', '/me', second.body)).status).toBe(401);
    expect((await call(node, 'POST', '/auth/refresh', null, { refreshToken: user.refreshToken })).status).toBe(401);
    expect(await login()).toMatchObject({ status: 403, body: { error: { code: 'forbidden' } } });
    // A wrong password still says only that the credentials are wrong.
    expect((await call(node, 'POST', '/auth/login', null, { email: user.user.email, password: 'wrong password here' })).status).toBe(401);
    expect((await call(node, 'POST', `/users/${user.user.id}/suspend`, world.platformAdmin, { reason: 'again' })).status).toBe(409);

    expect((await call(node, 'DELETE', `/users/${user.user.id}/suspend`, world.platformAdmin)).status).toBe(204);
    expect((await login()).status).toBe(200);
    const entries = await auditRows(node, { targetUserId: user.user.id });
    expect(entries).toEqual([
      expect.objectContaining({ action: 'suspend', community_id: null, actor_id: world.platformAdmin.user.id, reason: 'fraud', after: expect.objectContaining({ sessionsRevoked: 2 }) }),
      expect.objectContaining({ action: 'unsuspend', community_id: null, before: expect.objectContaining({ reason: 'fraud' }), after: { suspendedAt: null } }),
    ]);
  });

  it('an unknown account is not_found; lifting a suspension that is not there is a conflict', async () => {
    const [user] = await registerUsers(node.url, 1);
    expect((await call(node, 'POST', `/users/${crypto.randomUUID()}/suspend`, world.platformAdmin, { reason: 'spam' })).status).toBe(404);
    expect((await call(node, 'DELETE', `/users/${crypto.randomUUID()}/suspend`, world.platformAdmin)).status).toBe(404);
    expect((await call(node, 'DELETE', `/users/${user.user.id}/suspend`, world.platformAdmin)).status).toBe(409);
  });
});
