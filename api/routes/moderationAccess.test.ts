import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addToCommunity, seedCommunity } from '../../test/communities.ts';
import { call, connectSocket, emitAck, registerUsers, type ClientSocket, type HttpMethod, type TestUser } from '../../test/factories.ts';
import { moderationWorld, reportedMessage, reportedPerson, type ModerationWorld } from '../../test/moderationFactories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';

/**
 * Who may use the moderation console, endpoint by endpoint and event by event. `otherModerator` moderates another
 * community only; platform staff belong to no community. Each caller acts on a case or person of their own, so one
 * caller's success does not change the next caller's answer.
 */
const WHO = ['owner', 'admin', 'moderator', 'member', 'otherModerator', 'platformModerator', 'platformAdmin', 'outsider', 'anonymous'] as const;
type Who = (typeof WHO)[number];
type Expected = Record<Who, number>;
const expect9 = (...statuses: number[]): Expected => Object.fromEntries(WHO.map((who, i) => [who, statuses[i]])) as Expected;

let node: RunningNode;
let world: ModerationWorld;
const sockets: ClientSocket[] = [];

beforeAll(async () => {
  // One world's member files every report of the file: more than a person's hourly budget (tested in actionLimits.test.ts).
  node = await startNode({ env: { RATE_LIMIT_REPORTS_PER_HOUR: '1000' } });
  world = await moderationWorld(node);
});
afterAll(async () => {
  for (const socket of sockets) socket.close();
  await node?.close();
});

const userOf = (who: Who): TestUser | undefined => (who === 'anonymous' ? undefined : world[who]);

interface Check {
  name: string;
  /** Prepares this caller's own target (when the call changes something) and returns the request. */
  request: () => Promise<{ method: HttpMethod; path: string; body?: unknown }>;
  expected: Expected;
}

/** A fresh person in the community (ban targets). */
async function freshMember(): Promise<TestUser> {
  const [user] = await registerUsers(node.url, 1);
  await addToCommunity(node, world.communityId, user);
  return user;
}

const MODERATORS_OK = (ok: number, refused: number) => expect9(ok, ok, ok, refused, refused, ok, ok, refused, 401);
const CASES_HIDDEN = expect9(200, 200, 200, 404, 404, 200, 200, 404, 401);

const checks: Check[] = [
  {
    name: 'GET /communities/:id/moderation/cases',
    request: async () => ({ method: 'GET', path: `/communities/${world.communityId}/moderation/cases?status=open` }),
    expected: MODERATORS_OK(200, 403),
  },
  {
    name: 'GET /moderation/cases/:id',
    request: async () => ({ method: 'GET', path: `/moderation/cases/${(await reportedMessage(node, world)).caseId}` }),
    expected: CASES_HIDDEN,
  },
  {
    name: 'POST /moderation/cases/:id/claim',
    request: async () => ({ method: 'POST', path: `/moderation/cases/${(await reportedMessage(node, world)).caseId}/claim` }),
    expected: CASES_HIDDEN,
  },
  {
    name: 'POST /moderation/cases/:id/actions (dismiss)',
    request: async () => ({
      method: 'POST',
      path: `/moderation/cases/${(await reportedMessage(node, world)).caseId}/actions`,
      body: { action: 'dismiss', reason: 'not a problem' },
    }),
    expected: CASES_HIDDEN,
  },
  {
    name: 'POST /moderation/cases/:id/actions (ban a member)',
    request: async () => ({
      method: 'POST',
      path: `/moderation/cases/${(await reportedPerson(node, world)).caseId}/actions`,
      body: { action: 'ban', reason: 'harassment' },
    }),
    expected: CASES_HIDDEN,
  },
  {
    name: 'GET /communities/:id/bans',
    request: async () => ({ method: 'GET', path: `/communities/${world.communityId}/bans` }),
    expected: MODERATORS_OK(200, 403),
  },
  {
    name: 'POST /communities/:id/bans',
    request: async () => ({ method: 'POST', path: `/communities/${world.communityId}/bans`, body: { userId: (await freshMember()).user.id, reason: 'spam' } }),
    expected: MODERATORS_OK(201, 403),
  },
  {
    name: 'DELETE /communities/:id/bans/:userId',
    request: async () => {
      const banned = await freshMember();
      const res = await call(node, 'POST', `/communities/${world.communityId}/bans`, world.owner, { userId: banned.user.id, reason: 'spam' });
      expect(res.status).toBe(201);
      return { method: 'DELETE', path: `/communities/${world.communityId}/bans/${banned.user.id}` };
    },
    expected: MODERATORS_OK(204, 403),
  },
  {
    name: 'GET /communities/:id/audit-log',
    request: async () => ({ method: 'GET', path: `/communities/${world.communityId}/audit-log` }),
    expected: expect9(200, 200, 403, 403, 403, 403, 200, 403, 401),
  },
  {
    name: 'POST /users/:id/suspend',
    request: async () => ({ method: 'POST', path: `/users/${(await registerUsers(node.url, 1))[0].user.id}/suspend`, body: { reason: 'fraud' } }),
    expected: expect9(403, 403, 403, 403, 403, 403, 200, 403, 401),
  },
  {
    name: 'DELETE /users/:id/suspend',
    request: async () => {
      const [user] = await registerUsers(node.url, 1);
      expect((await call(node, 'POST', `/users/${user.user.id}/suspend`, world.platformAdmin, { reason: 'fraud' })).status).toBe(200);
      return { method: 'DELETE', path: `/users/${user.user.id}/suspend` };
    },
    expected: expect9(403, 403, 403, 403, 403, 403, 204, 403, 401),
  },
];

describe('moderation console authorization', () => {
  for (const check of checks) {
    it(check.name, async () => {
      const actual = {} as Expected;
      for (const who of WHO) {
        const req = await check.request();
        actual[who] = (await call(node, req.method, req.path, userOf(who), req.body)).status;
      }
      expect(actual).toEqual(check.expected);
    });
  }

  it('a private community does not exist for outsiders, and its queue is no exception', async () => {
    const { communityId } = await seedCommunity(node, { members: [{ userId: world.owner.user.id, role: 'owner' }], channels: [], visibility: 'private' });
    for (const path of [`/communities/${communityId}/moderation/cases`, `/communities/${communityId}/bans`, `/communities/${communityId}/audit-log`]) {
      expect((await call(node, 'GET', path, world.outsider)).status, path).toBe(404);
      expect((await call(node, 'GET', path, world.otherModerator)).status, path).toBe(404);
      expect((await call(node, 'GET', path, world.platformAdmin)).status, path).toBe(200);
    }
  });

  it('moderation:subscribe admits moderators of that community and platform staff only', async () => {
    const outcome = {} as Record<Exclude<Who, 'anonymous'>, string>;
    for (const who of WHO) {
      if (who === 'anonymous') continue;
      const socket = await connectSocket(node.url, world[who].accessToken);
      sockets.push(socket);
      const ack = await emitAck(socket, 'moderation:subscribe', { communityId: world.communityId });
      outcome[who] = ack.ok ? 'ok' : ack.error.code;
    }
    expect(outcome).toEqual({
      owner: 'ok',
      admin: 'ok',
      moderator: 'ok',
      member: 'forbidden',
      otherModerator: 'forbidden',
      platformModerator: 'ok',
      platformAdmin: 'ok',
      outsider: 'forbidden',
    });
    const other = sockets.at(-1)!;
    expect(await emitAck(other, 'moderation:subscribe', { communityId: 'not-a-uuid' })).toMatchObject({ ok: false, error: { code: 'invalid_input' } });
  });
});

describe('the rank rule for actions on people', () => {
  async function act(actor: TestUser, caseId: string, action: string, extra: Record<string, unknown> = {}) {
    return call(node, 'POST', `/moderation/cases/${caseId}/actions`, actor, { action, reason: 'rank check', ...extra });
  }

  it('a moderator cannot warn, time out, kick or ban a moderator or an admin; content actions stay open to them', async () => {
    for (const role of ['moderator', 'admin'] as const) {
      for (const action of ['warn', 'timeout', 'kick', 'ban']) {
        const { caseId } = await reportedPerson(node, world, role);
        const res = await act(world.moderator, caseId, action, action === 'timeout' ? { minutes: 10 } : {});
        expect(res.status, `${action} a ${role}`).toBe(403);
      }
    }
    const { caseId } = await reportedPerson(node, world, 'moderator');
    expect((await act(world.moderator, caseId, 'dismiss')).status).toBe(200);
  });

  it('an admin may act on a moderator but not on an owner; platform moderators not on owners, platform admins may', async () => {
    expect((await act(world.admin, (await reportedPerson(node, world, 'moderator')).caseId, 'warn')).status).toBe(200);
    expect((await act(world.admin, (await reportedPerson(node, world, 'owner')).caseId, 'warn')).status).toBe(403);
    expect((await act(world.platformModerator, (await reportedPerson(node, world, 'owner')).caseId, 'warn')).status).toBe(403);
    expect((await act(world.platformAdmin, (await reportedPerson(node, world, 'owner')).caseId, 'warn')).status).toBe(200);
  });

  it('nobody acts on themselves', async () => {
    const { caseId, person } = await reportedPerson(node, world, 'moderator');
    expect((await act(person, caseId, 'ban')).status).toBe(403);
    const ban = await call(node, 'POST', `/communities/${world.communityId}/bans`, world.moderator, { userId: world.moderator.user.id, reason: 'me' });
    expect(ban.status).toBe(403);
    const suspend = await call(node, 'POST', `/users/${world.platformAdmin.user.id}/suspend`, world.platformAdmin, { reason: 'me' });
    expect(suspend.status).toBe(403);
  });

  it('hiding or deleting a reported person is not a thing: invalid_input', async () => {
    const { caseId } = await reportedPerson(node, world);
    expect(await act(world.moderator, caseId, 'hide')).toMatchObject({ status: 400, body: { error: { code: 'invalid_input' } } });
  });
});
