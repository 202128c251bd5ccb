import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelDto, CommunityDto, CommunityRole } from '../../contracts/communities.ts';
import { addChannelMemberAs, addMemberAs, createChannelAs, createCommunityAs, uniqueLabel } from '../../test/communityFactories.ts';
import { call, registerUsers, type HttpMethod, type TestUser } from '../../test/factories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';

/**
 * Who may do what, route by route. `blocked` is a plain community member whom another user has blocked: blocks touch
 * DMs only. `removed` was a member (and in the private channel) until an owner removed them.
 */
const WHO = ['owner', 'admin', 'moderator', 'member', 'blocked', 'outsider', 'removed', 'anonymous'] as const;
type Who = (typeof WHO)[number];
type Expected = Record<Who, number>;

/** Expected statuses in WHO order. */
const expect8 = (...statuses: number[]): Expected => Object.fromEntries(WHO.map((who, i) => [who, statuses[i]])) as Expected;

let node: RunningNode;
const users = {} as Record<Exclude<Who, 'anonymous'>, TestUser>;
let owner: TestUser;
let priv: CommunityDto;
let pub: CommunityDto;
let secret: ChannelDto;
let lobby: ChannelDto;
let spare: TestUser;
let kickTarget: TestUser;
let dmTarget: TestUser;

beforeAll(async () => {
  node = await startNode();
  const registered = await registerUsers(node.url, 10);
  [users.owner, users.admin, users.moderator, users.member, users.blocked, users.outsider, users.removed, spare, kickTarget, dmTarget] =
    registered;
  owner = users.owner;
  priv = await createCommunityAs(node.url, owner, { visibility: 'private' });
  pub = await createCommunityAs(node.url, owner, { visibility: 'public' });
  const roles: [TestUser, CommunityRole][] = [
    [users.admin, 'admin'],
    [users.moderator, 'moderator'],
    [users.member, 'member'],
    [users.blocked, 'member'],
    [users.removed, 'member'],
    [spare, 'member'],
  ];
  for (const community of [priv, pub]) {
    for (const [user, role] of roles) await addMemberAs(node.url, community, owner, user, role);
  }
  secret = await createChannelAs(node.url, owner, priv.id, { name: 'secret', visibility: 'private' });
  lobby = await createChannelAs(node.url, owner, priv.id, { name: 'lobby' });
  for (const user of [users.moderator, users.member, users.blocked, users.removed]) await addChannelMemberAs(node.url, owner, secret.id, user.user.id);
  for (const community of [priv, pub]) {
    const kicked = await call(node, 'DELETE', `/communities/${community.id}/members/${users.removed.user.id}`, owner);
    expect(kicked.status).toBe(204);
  }
  expect((await call(node, 'POST', `/users/${users.blocked.user.id}/block`, dmTarget)).status).toBe(204);
});
afterAll(async () => node?.close());

/** Makes `user` a member of `community` with `role` again, whatever happened to them in the previous turn. */
async function ensureMember(community: CommunityDto, user: TestUser, role: CommunityRole) {
  const invite = await call(node, 'POST', `/communities/${community.id}/invites`, owner);
  await call(node, 'POST', `/invites/${invite.body.code}/accept`, user);
  await call(node, 'PATCH', `/communities/${community.id}/members/${user.user.id}`, owner, { role });
}

type Request = { method: HttpMethod; path: string; body?: unknown };

interface Case {
  route: string;
  /** Runs before each caller's attempt (restores what the previous caller may have changed); returns the request. */
  request: () => Promise<Request> | Request;
  expected: Expected;
}

//                                          owner admin  mod  member blocked outsider removed anon
const cases: Case[] = [
  { route: 'GET /communities/:id (private)', request: () => ({ method: 'GET', path: `/communities/${priv.id}` }), expected: expect8(200, 200, 200, 200, 200, 404, 404, 401) },
  { route: 'GET /communities/:id (public)', request: () => ({ method: 'GET', path: `/communities/${pub.id}` }), expected: expect8(200, 200, 200, 200, 200, 200, 200, 401) },
  { route: 'POST /communities/:id/join (private)', request: () => ({ method: 'POST', path: `/communities/${priv.id}/join` }), expected: expect8(200, 200, 200, 200, 200, 403, 403, 401) },
  { route: 'GET /communities/:id/members (private)', request: () => ({ method: 'GET', path: `/communities/${priv.id}/members` }), expected: expect8(200, 200, 200, 200, 200, 404, 404, 401) },
  { route: 'GET /communities/:id/members (public)', request: () => ({ method: 'GET', path: `/communities/${pub.id}/members` }), expected: expect8(200, 200, 200, 200, 200, 403, 403, 401) },
  { route: 'POST /communities/:id/invites', request: () => ({ method: 'POST', path: `/communities/${priv.id}/invites` }), expected: expect8(201, 201, 201, 403, 403, 404, 404, 401) },
  {
    route: 'PATCH /communities/:id/members/:userId (member → member)',
    request: () => ({ method: 'PATCH', path: `/communities/${priv.id}/members/${spare.user.id}`, body: { role: 'member' } }),
    expected: expect8(200, 200, 403, 403, 403, 404, 404, 401),
  },
  {
    route: 'DELETE /communities/:id/members/:userId (a member)',
    request: async () => {
      await ensureMember(priv, kickTarget, 'member');
      return { method: 'DELETE', path: `/communities/${priv.id}/members/${kickTarget.user.id}` };
    },
    expected: expect8(204, 204, 204, 403, 403, 404, 404, 401),
  },
  {
    route: 'DELETE /communities/:id/members/:userId (a moderator)',
    request: async () => {
      await ensureMember(priv, kickTarget, 'moderator');
      return { method: 'DELETE', path: `/communities/${priv.id}/members/${kickTarget.user.id}` };
    },
    expected: expect8(204, 204, 403, 403, 403, 404, 404, 401),
  },
  { route: 'GET /communities/:id/channels (private)', request: () => ({ method: 'GET', path: `/communities/${priv.id}/channels` }), expected: expect8(200, 200, 200, 200, 200, 404, 404, 401) },
  { route: 'GET /communities/:id/channels (public)', request: () => ({ method: 'GET', path: `/communities/${pub.id}/channels` }), expected: expect8(200, 200, 200, 200, 200, 403, 403, 401) },
  {
    route: 'POST /communities/:id/channels (private community)',
    request: () => ({ method: 'POST', path: `/communities/${priv.id}/channels`, body: { name: uniqueLabel('m') } }),
    expected: expect8(201, 201, 403, 403, 403, 404, 404, 401),
  },
  {
    route: 'POST /communities/:id/channels (public community)',
    request: () => ({ method: 'POST', path: `/communities/${pub.id}/channels`, body: { name: uniqueLabel('m') } }),
    expected: expect8(201, 201, 403, 403, 403, 403, 403, 401),
  },
  { route: 'PATCH /channels/:id (private channel)', request: () => ({ method: 'PATCH', path: `/channels/${secret.id}`, body: { topic: 'x' } }), expected: expect8(200, 200, 403, 403, 403, 404, 404, 401) },
  { route: 'PATCH /channels/:id (public channel)', request: () => ({ method: 'PATCH', path: `/channels/${lobby.id}`, body: { topic: 'y' } }), expected: expect8(200, 200, 403, 403, 403, 404, 404, 401) },
  {
    route: 'POST /channels/:id/members',
    request: () => ({ method: 'POST', path: `/channels/${secret.id}/members`, body: { userId: spare.user.id } }),
    expected: expect8(204, 204, 403, 403, 403, 404, 404, 401),
  },
  {
    route: 'DELETE /channels/:id/members/:userId (someone else)',
    request: async () => {
      await addChannelMemberAs(node.url, owner, secret.id, spare.user.id);
      return { method: 'DELETE', path: `/channels/${secret.id}/members/${spare.user.id}` };
    },
    expected: expect8(204, 204, 403, 403, 403, 404, 404, 401),
  },
  {
    route: 'POST /dms (with someone who blocked `blocked`)',
    request: () => ({ method: 'POST', path: '/dms', body: { userIds: [dmTarget.user.id] } }),
    expected: expect8(201, 201, 201, 201, 403, 201, 201, 401),
  },
  { route: 'GET /dms', request: () => ({ method: 'GET', path: '/dms' }), expected: expect8(200, 200, 200, 200, 200, 200, 200, 401) },
];

describe('authorization matrix for the communities, channels and DMs routes', () => {
  it.each(cases.map((c) => [c.route, c] as const))('%s', async (_route, c) => {
    const actual = {} as Expected;
    for (const who of WHO) {
      const { method, path, body } = await c.request();
      const res = await call(node, method, path, who === 'anonymous' ? null : users[who], body);
      actual[who] = res.status;
      if (res.status >= 400) expect(Object.keys(res.body.error).sort(), `${who}: error body`).toEqual(['code', 'message']);
    }
    expect(actual).toEqual(c.expected);
  });

  it('a removed member sees none of the private community in any list', async () => {
    const listed = await call(node, 'GET', `/communities?q=${encodeURIComponent(priv.name)}`, users.removed);
    expect(listed.body.data).toEqual([]);
  });
});
