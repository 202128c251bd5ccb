import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { ChannelDto, ChannelEnvelope, CommunityDto, CommunityEnvelope, CommunityRole, InviteDto } from '../contracts/communities.ts';
import { db } from '../orm/db.ts';
import { call, ok, type TestUser } from './factories.ts';
import { dbOf, type RunningNode } from './nodes.ts';

/*
 * Communities built through the real API (for the communities API's own tests), and the chat rows the channel list
 * counts. Tests of other features that only need rows to exist can use seedCommunity / seedWorld from
 * ./communities.ts instead.
 */

// Kept here for the tests that import them from this module; they live in ./factories.ts.
export { registerUsers, type TestUser } from './factories.ts';

export const uniqueLabel = (prefix = 'c') => `${prefix}-${randomBytes(4).toString('hex')}`;

export async function createCommunityAs(
  url: string,
  owner: TestUser,
  overrides: Partial<{ name: string; description: string; visibility: 'public' | 'private' }> = {},
): Promise<CommunityDto> {
  const body = { name: overrides.name ?? `Community ${uniqueLabel()}`, description: overrides.description ?? '', visibility: overrides.visibility ?? 'public' };
  return (await ok(call<CommunityEnvelope>(url, 'POST', '/communities', owner, body), 201)).community;
}

/** Makes `user` a member with `role`: joins (public) or accepts an owner's invite (private), then the owner sets the role. */
export async function addMemberAs(url: string, community: CommunityDto, owner: TestUser, user: TestUser, role: CommunityRole = 'member') {
  if (community.visibility === 'public') {
    await ok(call(url, 'POST', `/communities/${community.id}/join`, user));
  } else {
    const invite = await ok(call<InviteDto>(url, 'POST', `/communities/${community.id}/invites`, owner), 201);
    await ok(call(url, 'POST', `/invites/${invite.code}/accept`, user));
  }
  if (role !== 'member') await ok(call(url, 'PATCH', `/communities/${community.id}/members/${user.user.id}`, owner, { role }));
}

export async function createChannelAs(
  url: string,
  admin: TestUser,
  communityId: string,
  overrides: Partial<{ name: string; visibility: 'public' | 'private'; topic: string }> = {},
): Promise<ChannelDto> {
  const body = { name: overrides.name ?? uniqueLabel('ch'), visibility: overrides.visibility ?? 'public', topic: overrides.topic ?? '' };
  return (await ok(call<ChannelEnvelope>(url, 'POST', `/communities/${communityId}/channels`, admin, body), 201)).channel;
}

export async function addChannelMemberAs(url: string, admin: TestUser, channelId: string, userId: string) {
  await ok(call(url, 'POST', `/channels/${channelId}/members`, admin, { userId }), 204);
}

/**
 * Inserts a message straight into the tables (the message API is tested on its own): allocates the channel's next
 * seq, stores the message and its mention rows, optionally as deleted or hidden by a moderator.
 */
export async function insertMessage(
  node: RunningNode,
  input: { channelId: string; authorId: string; mentions?: string[]; deleted?: boolean; hidden?: boolean; body?: string },
): Promise<{ id: string; seq: number }> {
  return node.node.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { last_seq: seq } = await q
      .updateTable('channels')
      .set({ last_seq: sql<number>`last_seq + 1` })
      .where('id', '=', input.channelId)
      .returning('last_seq')
      .executeTakeFirstOrThrow();
    const id = crypto.randomUUID();
    const now = new Date();
    await q
      .insertInto('messages')
      .values({
        id,
        channel_id: input.channelId,
        seq,
        author_id: input.authorId,
        client_id: uniqueLabel('client'),
        body: input.deleted ? '' : (input.body ?? `message ${seq}`),
        deleted_at: input.deleted ? now : null,
        hidden_at: input.hidden ? now : null,
      })
      .execute();
    if (input.mentions?.length) {
      await q
        .insertInto('message_mentions')
        .values(input.mentions.map((userId) => ({ message_id: id, user_id: userId, channel_id: input.channelId, seq })))
        .execute();
    }
    return { id, seq };
  });
}

/** Where `userId` has read `channelId` up to, as marking it read records. */
export async function setReadState(node: RunningNode, channelId: string, userId: string, seq: number) {
  await dbOf(node)
    .insertInto('channel_read_states')
    .values({ channel_id: channelId, user_id: userId, last_read_seq: seq })
    .onConflict((oc) => oc.columns(['channel_id', 'user_id']).doUpdateSet({ last_read_seq: seq }))
    .execute();
}

/** Payloads name people by UserRef only: no e-mail address may appear anywhere in them. */
export function expectNoEmails(body: unknown) {
  const text = JSON.stringify(body);
  if (/@example\.test/.test(text)) throw new Error(`payload leaks an e-mail address: ${text.slice(0, 300)}`);
}
