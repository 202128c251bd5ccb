import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageDto } from '../../contracts/chat.ts';
import { channelHistory, joinChannel, messageThread } from '../../domain/chat/reading.ts';
import { attendanceReport } from '../../domain/classrooms/attendance.ts';
import { getClassroom } from '../../domain/classrooms/scheduling.ts';
import { getPost, listCommunityFeed } from '../../domain/feed/feedQueries.ts';
import type { Actor } from '../../domain/shared/deps.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';
import { db } from '../db.ts';
import { DEMO_CHANNEL_HISTORY, DEMO_MEMBERS, DEMO_PAST_CLASS, DEMO_POSTS } from './demoActivity.ts';
import { DEMO_ACCOUNTS, DEMO_CLASSROOM, DEMO_COMMUNITY, seedDemoData } from './demoData.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
  await seedDemoData(node.node.orm.em.fork());
});
afterAll(async () => node?.close());

const q = () => db(node.node.orm.em.fork());
const DAY_MS = 24 * 3600_000;

async function demoActor(communityRole: (typeof DEMO_ACCOUNTS)[number]['communityRole']): Promise<Actor> {
  const account = DEMO_ACCOUNTS.find((a) => a.communityRole === communityRole)!;
  const user = await q().selectFrom('users').select(['id', 'role']).where('email', '=', account.email).executeTakeFirstOrThrow();
  return { userId: user.id, sessionId: crypto.randomUUID(), role: user.role };
}

async function demoCommunity() {
  const community = await q().selectFrom('communities').select('id').where('slug', '=', DEMO_COMMUNITY.slug).executeTakeFirstOrThrow();
  const channels = await q().selectFrom('channels').select(['id', 'name']).where('community_id', '=', community.id).where('kind', '=', 'channel').execute();
  return { communityId: community.id, channelId: (name: string) => channels.find((c) => c.name === name)!.id };
}

/** Rows of everything the activity seeder writes in the demo community. */
async function activityCounts() {
  const { communityId } = await demoCommunity();
  const channelIds = q().selectFrom('channels').select('id').where('community_id', '=', communityId);
  const inCommunity = (table: 'messages' | 'channel_events') =>
    q().selectFrom(table).select(sql<number>`count(*)::int`.as('n')).where('channel_id', 'in', channelIds).executeTakeFirstOrThrow();
  const count = (table: 'posts' | 'comments' | 'classrooms' | 'community_members') =>
    q().selectFrom(table).select(sql<number>`count(*)::int`.as('n')).where('community_id', '=', communityId).executeTakeFirstOrThrow();
  const [messages, events, posts, comments, classrooms, members, demoUsers, votes, attendance] = await Promise.all([
    inCommunity('messages'),
    inCommunity('channel_events'),
    count('posts'),
    count('comments'),
    count('classrooms'),
    count('community_members'),
    q().selectFrom('users').select(sql<number>`count(*)::int`.as('n')).where('is_demo', '=', true).executeTakeFirstOrThrow(),
    q().selectFrom('post_poll_votes').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
    q().selectFrom('classroom_attendance').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow(),
  ]);
  return { messages, events, posts, comments, classrooms, members, demoUsers, votes, attendance };
}

describe('demo activity', () => {
  it('adds verified demo members who cannot sign in with any known password, once', async () => {
    const before = await activityCounts();
    await seedDemoData(node.node.orm.em.fork());
    expect(await activityCounts()).toEqual(before);
    expect(before.members.n).toBe(DEMO_ACCOUNTS.length + DEMO_MEMBERS.length);

    const { communityId } = await demoCommunity();
    const members = await q()
      .selectFrom('users as u')
      .innerJoin('community_members as m', 'm.user_id', 'u.id')
      .select(['u.display_name', 'u.is_demo', 'u.email_verified_at', 'u.password_hash', 'm.role'])
      .where('m.community_id', '=', communityId)
      .where('u.email', 'in', DEMO_MEMBERS.map((m) => m.email))
      .execute();
    expect(members.map((m) => m.display_name).sort()).toEqual(DEMO_MEMBERS.map((m) => m.displayName).sort());
    for (const member of members) {
      expect(member).toMatchObject({ is_demo: true, role: 'member' });
      expect(member.email_verified_at).not.toBeNull();
      expect(member.password_hash).toMatch(/^\$argon2id\$/);
    }
    expect(new Set(members.map((m) => m.password_hash)).size).toBe(members.length);
  });

  it('shows each public channel a few days of conversation through catch-up and history, with gapless seqs', async () => {
    const learner = await demoActor('member');
    const { channelId } = await demoCommunity();
    const deps = node.node.deps;
    const everyMessage: MessageDto[] = [];
    for (const name of Object.keys(DEMO_CHANNEL_HISTORY)) {
      const id = channelId(name);
      const caughtUp = await joinChannel(deps, learner, { channelId: id, afterSeq: 0 });
      expect(caughtUp.hasMore).toBe(false);
      expect(caughtUp.events.map((e) => e.seq)).toEqual(Array.from({ length: caughtUp.lastSeq }, (_, i) => i + 1));
      const created = caughtUp.events.flatMap((e) => (e.type === 'message:created' ? [e.message] : []));
      expect(created.length).toBeGreaterThanOrEqual(15);
      expect(created.length).toBeLessThanOrEqual(30);
      expect(caughtUp.events.some((e) => e.type === 'reaction:updated')).toBe(true);
      expect(new Set(created.map((m) => m.author.id)).size).toBeGreaterThanOrEqual(5);

      // In time order, over the last few days.
      const times = created.map((m) => Date.parse(m.createdAt));
      expect(times).toEqual([...times].sort((a, b) => a - b));
      expect(times[0]).toBeGreaterThan(Date.now() - 5 * DAY_MS);
      expect(times.at(-1)).toBeLessThan(Date.now());
      const eventTimes = await q().selectFrom('channel_events').select('created_at').where('channel_id', '=', id).orderBy('seq').execute();
      const eventMs = eventTimes.map((e) => e.created_at.getTime());
      expect(eventMs).toEqual([...eventMs].sort((a, b) => a - b));

      // The latest page of history is the same conversation.
      const history = await channelHistory(deps, learner, id, { limit: 50 });
      expect(history.data.map((m) => m.id)).toEqual(created.map((m) => m.id));
      everyMessage.push(...history.data);
    }

    const authors = new Set(everyMessage.map((m) => m.author.id));
    for (const role of ['owner', 'admin', 'moderator', 'member'] as const) expect(authors).toContain((await demoActor(role)).userId);
    expect(everyMessage.filter((m) => m.reactions.length > 0).length).toBeGreaterThanOrEqual(5);
    const mentioningLearner = everyMessage.filter((m) => m.mentions.includes(learner.userId));
    expect(mentioningLearner.length).toBeGreaterThanOrEqual(1);
    expect(mentioningLearner[0]!.body).toContain('@Demo Learner');

    const roots = everyMessage.filter((m) => m.threadCount > 0);
    expect(roots.length).toBeGreaterThanOrEqual(2);
    for (const root of roots) {
      const thread = await messageThread(deps, learner, root.id);
      expect(thread[0]!.id).toBe(root.id);
      expect(thread.slice(1).every((reply) => reply.replyToId === root.id)).toBe(true);
      expect(thread.length - 1).toBe(root.threadCount);
    }
  });

  it('lists feed posts with their comments, reactions and a poll with votes', async () => {
    const learner = await demoActor('member');
    const { communityId } = await demoCommunity();
    const deps = node.node.deps;
    const feed = await listCommunityFeed(deps, learner, communityId, { limit: 20 });
    expect(feed.data.map((p) => p.body).sort()).toEqual(DEMO_POSTS.map((p) => p.body).sort());
    expect(feed.data[0]!.pinned).toBe(true);
    for (const post of feed.data) {
      const { comments } = await getPost(deps, learner, post.id);
      expect(post.commentCount).toBeGreaterThan(0);
      expect(comments).toHaveLength(post.commentCount);
      expect(comments.map((c) => c.body)).toEqual(DEMO_POSTS.find((p) => p.body === post.body)!.comments!.map((c) => c.body));
    }
    expect(feed.data.some((p) => p.kind === 'link')).toBe(true);
    const counted = await q().selectFrom('posts').select(['comment_count', 'reaction_count', 'id']).where('community_id', '=', communityId).execute();
    for (const post of counted) {
      const comments = await q().selectFrom('comments').select(sql<number>`count(*)::int`.as('n')).where('post_id', '=', post.id).executeTakeFirstOrThrow();
      const reactions = await q().selectFrom('post_reactions').select(sql<number>`count(*)::int`.as('n')).where('post_id', '=', post.id).executeTakeFirstOrThrow();
      expect([post.comment_count, post.reaction_count]).toEqual([comments.n, reactions.n]);
    }
    expect(feed.data.filter((p) => p.reactions.length > 0).length).toBeGreaterThanOrEqual(2);
    const poll = feed.data.find((p) => p.poll)!.poll!;
    const votes = poll.options.map((o) => o.votes);
    expect(votes.reduce((a, b) => a + b, 0)).toBe(DEMO_POSTS.find((p) => p.poll)!.poll!.votes.length);
    expect(votes.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
  });

  it('has a class that ended yesterday with its attendance, beside the upcoming one', async () => {
    const { communityId } = await demoCommunity();
    const classes = await q().selectFrom('classrooms').select(['id', 'title', 'status']).where('community_id', '=', communityId).orderBy('starts_at').execute();
    expect(classes.map((c) => [c.title, c.status])).toEqual([
      [DEMO_PAST_CLASS.title, 'ended'],
      [DEMO_CLASSROOM.title, 'scheduled'],
    ]);
    const deps = node.node.deps;
    const learner = await demoActor('member');
    const seen = await getClassroom(deps, learner, classes[0]!.id);
    expect(seen.status).toBe('ended');
    expect(Date.parse(seen.startsAt)).toBeLessThan(Date.now() - 12 * 3600_000);

    const report = await attendanceReport(deps, await demoActor('owner'), classes[0]!.id);
    expect(report.status).toBe('ended');
    const byName = new Map(report.rows.map((r) => [r.user.displayName, r]));
    expect(byName.get('Demo Instructor')!.role).toBe('host');
    expect(byName.get('Demo Learner')).toMatchObject({ role: 'learner', attended: true });
    expect(byName.get('Amara Okafor')).toMatchObject({ attended: true, minutesAttended: DEMO_PAST_CLASS.ranMinutes });
    expect(byName.get('Priya Raman')).toMatchObject({ attended: false, minutesAttended: 12 });
    expect(byName.get('Lukas Becker')).toMatchObject({ attended: false, minutesAttended: 0 });

    // What the end of the class stored for each registered learner agrees with the report.
    const marks = await q()
      .selectFrom('classroom_registrations as r')
      .innerJoin('users as u', 'u.id', 'r.user_id')
      .select(['u.display_name', 'r.attended'])
      .where('r.classroom_id', '=', classes[0]!.id)
      .execute();
    expect(marks).toHaveLength(DEMO_PAST_CLASS.attendance.length);
    for (const mark of marks) expect(mark.attended).toBe(byName.get(mark.display_name)!.attended);
  });
});
