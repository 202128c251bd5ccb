import { randomBytes } from 'node:crypto';
import type { AuthResult } from '../contracts/auth.ts';
import type { ChannelDto, CommunityDto, CommunityRole } from '../contracts/communities.ts';
import { sqlOf } from '../domain/shared/sql.ts';
import { api, registerUser } from './factories.ts';
import type { RunningNode } from './nodes.ts';

/*
 * Communities built through the real API (for the communities API's own tests). Tests of other features that only
 * need rows to exist can use seedCommunity from ./communities.ts instead.
 */

export type TestUser = AuthResult & { password: string };

type Tuple<T, N extends number, R extends T[] = []> = R['length'] extends N ? R : Tuple<T, N, [...R, T]>;

/** `n` fresh users, registered concurrently, typed as a tuple so they can be destructured. */
export async function registerUsers<const N extends number>(url: string, n: N): Promise<Tuple<TestUser, N>> {
  return (await Promise.all(Array.from({ length: n }, () => registerUser(url)))) as Tuple<TestUser, N>;
}

export const uniqueLabel = (prefix = 'c') => `${prefix}-${randomBytes(4).toString('hex')}`;

async function expectStatus<T = any>(promise: ReturnType<typeof api<T>>, status: number, what: string): Promise<T> {
  const res = await promise;
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export async function createCommunityAs(
  url: string,
  owner: TestUser,
  overrides: Partial<{ name: string; description: string; visibility: 'public' | 'private' }> = {},
): Promise<CommunityDto> {
  const body = { name: overrides.name ?? `Community ${uniqueLabel()}`, description: overrides.description ?? '', visibility: overrides.visibility ?? 'public' };
  const res = await expectStatus<{ community: CommunityDto }>(api(url, 'POST', '/api/v1/communities', { token: owner.accessToken, body }), 201, 'create community');
  return res.community;
}

/** Makes `user` a member with `role`: joins (public) or accepts an owner's invite (private), then the owner sets the role. */
export async function addMemberAs(url: string, community: CommunityDto, owner: TestUser, user: TestUser, role: CommunityRole = 'member') {
  if (community.visibility === 'public') {
    await expectStatus(api(url, 'POST', `/api/v1/communities/${community.id}/join`, { token: user.accessToken }), 200, 'join');
  } else {
    const invite = await expectStatus<{ code: string }>(
      api(url, 'POST', `/api/v1/communities/${community.id}/invites`, { token: owner.accessToken }),
      201,
      'invite',
    );
    await expectStatus(api(url, 'POST', `/api/v1/invites/${invite.code}/accept`, { token: user.accessToken }), 200, 'accept invite');
  }
  if (role !== 'member') {
    await expectStatus(
      api(url, 'PATCH', `/api/v1/communities/${community.id}/members/${user.user.id}`, { token: owner.accessToken, body: { role } }),
      200,
      'set role',
    );
  }
}

export async function createChannelAs(
  url: string,
  admin: TestUser,
  communityId: string,
  overrides: Partial<{ name: string; visibility: 'public' | 'private'; topic: string }> = {},
): Promise<ChannelDto> {
  const body = { name: overrides.name ?? uniqueLabel('ch'), visibility: overrides.visibility ?? 'public', topic: overrides.topic ?? '' };
  const res = await expectStatus<{ channel: ChannelDto }>(
    api(url, 'POST', `/api/v1/communities/${communityId}/channels`, { token: admin.accessToken, body }),
    201,
    'create channel',
  );
  return res.channel;
}

export async function addChannelMemberAs(url: string, admin: TestUser, channelId: string, userId: string) {
  await expectStatus(api(url, 'POST', `/api/v1/channels/${channelId}/members`, { token: admin.accessToken, body: { userId } }), 204, 'add channel member');
}

/**
 * Inserts a message straight into the tables (the message API is tested on its own): allocates the channel's next
 * seq, stores the message and its mention rows, optionally as deleted.
 */
export async function insertMessage(
  node: RunningNode,
  input: { channelId: string; authorId: string; mentions?: string[]; deleted?: boolean },
): Promise<{ id: string; seq: number }> {
  const em = node.node.deps.orm.em.fork();
  return em.transactional(async (tx) => {
    const sql = sqlOf(tx);
    const [channel] = await sql<{ last_seq: string }>('update channels set last_seq = last_seq + 1 where id = ? returning last_seq', [input.channelId]);
    const seq = Number(channel!.last_seq);
    const id = crypto.randomUUID();
    await sql('insert into messages (id, channel_id, seq, author_id, client_id, body, deleted_at) values (?, ?, ?, ?, ?, ?, ?)', [
      id,
      input.channelId,
      seq,
      input.authorId,
      uniqueLabel('client'),
      input.deleted ? '' : `message ${seq}`,
      input.deleted ? new Date() : null,
    ]);
    for (const userId of input.mentions ?? []) {
      await sql('insert into message_mentions (message_id, user_id, channel_id, seq) values (?, ?, ?, ?)', [id, userId, input.channelId, seq]);
    }
    return { id, seq };
  });
}

export async function setReadState(node: RunningNode, channelId: string, userId: string, seq: number) {
  await sqlOf(node.node.deps.orm.em.fork())(
    `insert into channel_read_states (channel_id, user_id, last_read_seq) values (?, ?, ?)
     on conflict (channel_id, user_id) do update set last_read_seq = excluded.last_read_seq`,
    [channelId, userId, seq],
  );
}

/** Payloads name people by UserRef only: no e-mail address may appear anywhere in them. */
export function expectNoEmails(body: unknown) {
  const text = JSON.stringify(body);
  if (/@example\.test/.test(text)) throw new Error(`payload leaks an e-mail address: ${text.slice(0, 300)}`);
}
