import type { CommunityRole } from '../contracts/communities.ts';
import type { CreateReportInput, ReportEnvelope } from '../contracts/moderation.ts';
import { withPlatformRole } from './classroomFactories.ts';
import { insertMessage } from './communityFactories.ts';
import { addToCommunity, seedCommunity, seedWorld } from './communities.ts';
import { call, registerUsers, type ApiResponse, type TestUser } from './factories.ts';
import { dbOf, type RunningNode } from './nodes.ts';

/*
 * Rows that moderation acts on, written straight to the database: the chat and feed APIs have their own tests, and
 * moderation only needs the content to exist.
 */

/** A message at the channel's next seq. */
export async function seedMessage(node: RunningNode, channelId: string, authorId: string, body = 'hello'): Promise<string> {
  return (await insertMessage(node, { channelId, authorId, body })).id;
}

export async function seedPost(node: RunningNode, communityId: string, authorId: string, body = 'a post'): Promise<string> {
  const id = crypto.randomUUID();
  await dbOf(node).insertInto('posts').values({ id, community_id: communityId, author_id: authorId, kind: 'text', body }).execute();
  return id;
}

export async function seedComment(node: RunningNode, postId: string, authorId: string, body = 'a comment'): Promise<string> {
  const id = crypto.randomUUID();
  await dbOf(node)
    .insertInto('comments')
    .columns(['id', 'post_id', 'community_id', 'author_id', 'body'])
    .expression((eb) =>
      eb
        .selectFrom('posts')
        .select((eb) => [eb.val(id).as('id'), 'id as post_id', 'community_id', eb.val(authorId).as('author_id'), eb.val(body).as('body')])
        .where('id', '=', postId),
    )
    .execute();
  return id;
}

/** A message hidden by a moderator, as the console leaves it (the case and audit trail are not written). */
export async function hideMessage(node: RunningNode, messageId: string, moderatorId: string | null = null) {
  await dbOf(node).updateTable('messages').set({ hidden_at: new Date(), hidden_by_id: moderatorId }).where('id', '=', messageId).execute();
}

/** Bars `userId` from the community, as a ban does (without its audit entry and notices). */
export async function insertBan(node: RunningNode, communityId: string, userId: string, reason = 'spam') {
  await dbOf(node).insertInto('community_bans').values({ community_id: communityId, user_id: userId, reason }).execute();
}

/** Keeps `userId` from sending, posting, commenting and reacting in the community for `minutes`. */
export async function insertTimeout(node: RunningNode, communityId: string, userId: string, minutes = 60, reason = 'cool down') {
  const until = new Date(Date.now() + minutes * 60_000);
  await dbOf(node).insertInto('community_timeouts').values({ community_id: communityId, user_id: userId, until, reason }).execute();
}

/** The community's word filter: posts and messages with these words are refused (`block`) or sent to review (`flag`). */
export async function setWordFilter(node: RunningNode, communityId: string, words: string[], mode: 'block' | 'flag') {
  await dbOf(node)
    .insertInto('community_moderation_settings')
    .values({ community_id: communityId, word_filter_words: words, word_filter_mode: mode })
    .onConflict((oc) => oc.column('community_id').doUpdateSet({ word_filter_words: words, word_filter_mode: mode }))
    .execute();
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
  const main = await seedWorld(node, {
    people: {
      owner: 'owner',
      admin: 'admin',
      moderator: 'moderator',
      member: 'member',
      author: 'member',
      otherModerator: null,
      platformModerator: null,
      platformAdmin: null,
      outsider: null,
    },
    channels: [{ name: 'general' }],
  });
  const other = await seedCommunity(node, {
    members: [
      { userId: main.otherModerator.user.id, role: 'moderator' },
      { userId: main.author.user.id, role: 'member' },
    ],
    channels: [{ name: 'general' }],
  });
  return {
    communityId: main.communityId,
    channelId: main.channels.general!,
    owner: main.owner,
    admin: main.admin,
    moderator: main.moderator,
    member: main.member,
    author: main.author,
    otherModerator: main.otherModerator,
    otherCommunityId: other.communityId,
    platformModerator: await withPlatformRole(node, main.platformModerator, 'moderator'),
    platformAdmin: await withPlatformRole(node, main.platformAdmin, 'admin'),
    outsider: main.outsider,
  };
}

/** Files a report through the API; fails the test unless it is accepted (201 new, 200 already reported). */
export async function reportAs(
  node: RunningNode,
  reporter: TestUser,
  body: Omit<CreateReportInput, 'reason'> & { reason?: CreateReportInput['reason'] },
): Promise<ApiResponse<ReportEnvelope>> {
  const res = await call<ReportEnvelope>(node, 'POST', '/reports', reporter, { reason: 'spam', ...body });
  if (res.status !== 201 && res.status !== 200) throw new Error(`report failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res;
}

/** The id of the active case about a target (the console would show it). */
export async function activeCaseId(node: RunningNode, targetId: string): Promise<string> {
  const row = await dbOf(node)
    .selectFrom('moderation_cases')
    .select('id')
    .where('target_id', '=', targetId)
    .where('status', 'in', ['open', 'claimed'])
    .executeTakeFirst();
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
  await addToCommunity(node, world.communityId, person, role);
  await reportAs(node, world.member, { targetType: 'user', targetId: person.user.id, communityId: world.communityId, reason: 'harassment' });
  return { caseId: await activeCaseId(node, person.user.id), person };
}

/** Audit rows about a case or a person, oldest first, straight from the table. */
export async function auditRows(node: RunningNode, where: { caseId?: string; targetUserId?: string }) {
  return dbOf(node)
    .selectFrom('moderation_audit')
    .select(['action', 'actor_id', 'reason', 'before', 'after', 'community_id'])
    .$if(where.caseId !== undefined, (q) => q.where('case_id', '=', where.caseId!))
    .$if(where.caseId === undefined, (q) => q.where('target_user_id', '=', where.targetUserId!))
    .orderBy('id')
    .execute();
}
