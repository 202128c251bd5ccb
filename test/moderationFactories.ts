import type { CommunityRole } from '../contracts/communities.ts';
import { sqlOf } from '../domain/shared/sql.ts';
import { seedCommunity } from './communities.ts';
import { withPlatformRole } from './classroomFactories.ts';
import { registerUsers, type TestUser } from './communityFactories.ts';
import { api } from './factories.ts';
import type { RunningNode } from './nodes.ts';

/*
 * Rows that moderation acts on, written straight to the database: the chat and feed APIs have their own tests, and
 * moderation only needs the content to exist.
 */

export const call = <T = any>(node: RunningNode, method: string, path: string, user?: TestUser, body?: unknown) =>
  api<T>(node.url, method, `/api/v1${path}`, { token: user?.accessToken, body });

/** A message at the channel's next seq. */
export async function seedMessage(node: RunningNode, channelId: string, authorId: string, body = 'hello'): Promise<string> {
  const sql = sqlOf(node.node.orm.em.fork());
  const id = crypto.randomUUID();
  const [channel] = await sql<{ last_seq: string }>('update channels set last_seq = last_seq + 1 where id = ? returning last_seq', [channelId]);
  await sql('insert into messages (id, channel_id, seq, author_id, client_id, body) values (?, ?, ?, ?, ?, ?)', [
    id,
    channelId,
    channel!.last_seq,
    authorId,
    crypto.randomUUID(),
    body,
  ]);
  return id;
}

export async function seedPost(node: RunningNode, communityId: string, authorId: string, body = 'a post'): Promise<string> {
  const id = crypto.randomUUID();
  await sqlOf(node.node.orm.em.fork())(`insert into posts (id, community_id, author_id, kind, body) values (?, ?, ?, 'text', ?)`, [
    id,
    communityId,
    authorId,
    body,
  ]);
  return id;
}

export async function seedComment(node: RunningNode, postId: string, authorId: string, body = 'a comment'): Promise<string> {
  const id = crypto.randomUUID();
  await sqlOf(node.node.orm.em.fork())(
    `insert into comments (id, post_id, community_id, author_id, body) select ?, p.id, p.community_id, ?, ? from posts p where p.id = ?`,
    [id, authorId, body, postId],
  );
  return id;
}

export interface ModerationWorld {
  communityId: string;
  /** The community's channel everyone reads. */
  channelId: string;
  owner: TestUser;
  admin: TestUser;
  moderator: TestUser;
  member: TestUser;
  /** Another member: the usual author of reported content. */
  author: TestUser;
  /** Moderator of a different community only. */
  otherModerator: TestUser;
  otherCommunityId: string;
  /** Platform moderator, member of nothing. */
  platformModerator: TestUser;
  /** Platform admin, member of nothing. */
  platformAdmin: TestUser;
  outsider: TestUser;
}

/** A community with one of each role, a second community with its own moderator, and platform staff. */
export async function moderationWorld(node: RunningNode): Promise<ModerationWorld> {
  const [owner, admin, moderator, member, author, otherModerator, platformModerator, platformAdmin, outsider] = await registerUsers(node.url, 9);
  const roles: [TestUser, CommunityRole][] = [
    [owner, 'owner'],
    [admin, 'admin'],
    [moderator, 'moderator'],
    [member, 'member'],
    [author, 'member'],
  ];
  const main = await seedCommunity(node, {
    members: roles.map(([u, role]) => ({ userId: u.user.id, role })),
    channels: [{ name: 'general' }],
  });
  const other = await seedCommunity(node, {
    members: [
      { userId: otherModerator.user.id, role: 'moderator' },
      { userId: author.user.id, role: 'member' },
    ],
    channels: [{ name: 'general' }],
  });
  return {
    communityId: main.communityId,
    channelId: main.channels.general!,
    owner,
    admin,
    moderator,
    member,
    author,
    otherModerator,
    otherCommunityId: other.communityId,
    platformModerator: await withPlatformRole(node, platformModerator, 'moderator'),
    platformAdmin: await withPlatformRole(node, platformAdmin, 'admin'),
    outsider,
  };
}

/** Files a report through the API; fails the test unless it is accepted (201 new, 200 already reported). */
export async function reportAs(
  node: RunningNode,
  reporter: TestUser,
  body: { targetType: 'message' | 'post' | 'comment' | 'user'; targetId: string; reason?: string; note?: string; communityId?: string },
) {
  const res = await call(node, 'POST', '/reports', reporter, { reason: 'spam', ...body });
  if (res.status !== 201 && res.status !== 200) throw new Error(`report failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

/** The id of the active case about a target (the console would show it). */
export async function activeCaseId(node: RunningNode, targetId: string): Promise<string> {
  const [row] = await sqlOf(node.node.orm.em.fork())<{ id: string }>(
    `select id from moderation_cases where target_id = ? and status in ('open', 'claimed')`,
    [targetId],
  );
  if (!row) throw new Error(`no active case about ${targetId}`);
  return row.id;
}

/** A message by `world.author` in the general channel, reported by `world.member`; returns the case id and message id. */
export async function reportedMessage(node: RunningNode, world: ModerationWorld, body = 'spam spam spam'): Promise<{ caseId: string; messageId: string }> {
  const messageId = await seedMessage(node, world.channelId, world.author.user.id, body);
  await reportAs(node, world.member, { targetType: 'message', targetId: messageId });
  return { caseId: await activeCaseId(node, messageId), messageId };
}

/** A case about a person (an extra member of the community), so actions on people can be tried one after another. */
export async function reportedPerson(node: RunningNode, world: ModerationWorld, role: CommunityRole = 'member'): Promise<{ caseId: string; person: TestUser }> {
  const [person] = await registerUsers(node.url, 1);
  await sqlOf(node.node.orm.em.fork())('insert into community_members (community_id, user_id, role) values (?, ?, ?)', [
    world.communityId,
    person.user.id,
    role,
  ]);
  await reportAs(node, world.member, { targetType: 'user', targetId: person.user.id, communityId: world.communityId, reason: 'harassment' });
  return { caseId: await activeCaseId(node, person.user.id), person };
}

/** Audit rows about a case, oldest first, straight from the table. */
export async function auditRows(node: RunningNode, where: { caseId?: string; targetUserId?: string }) {
  const [column, value] = where.caseId ? ['case_id', where.caseId] : ['target_user_id', where.targetUserId];
  return sqlOf(node.node.orm.em.fork())<{ action: string; actor_id: string; reason: string; before: any; after: any; community_id: string | null }>(
    `select action, actor_id, reason, before, after, community_id from moderation_audit where ${column} = ? order by id`,
    [value],
  );
}
