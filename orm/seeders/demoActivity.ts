import { randomBytes } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import { sql } from 'kysely';
import { hashPassword } from '../../domain/auth/passwords.ts';
import { markAttendance } from '../../domain/classrooms/attendance.ts';
import { writeMessages } from '../../domain/chat/batchWrites.ts';
import { resolveMentions } from '../../domain/chat/mentions.ts';
import { recordEvent } from '../../domain/chat/messages.ts';
import { recountComments, recountReactions } from '../../domain/feed/counts.ts';
import { jsonb, db, uuids, type Db } from '../db.ts';
import { CommunityMember, User } from '../entities/index.ts';
import {
  DEMO_CHANNEL_HISTORY,
  DEMO_MEMBERS,
  DEMO_PAST_CLASS,
  DEMO_POSTS,
  type DemoPerson,
  type ScriptedMessage,
  type ScriptedReaction,
} from './demoConversations.ts';

export { DEMO_CHANNEL_HISTORY, DEMO_MEMBERS, DEMO_PAST_CLASS, DEMO_POSTS } from './demoConversations.ts';

const HOUR_MS = 3600_000;
const MINUTE_MS = 60_000;

/** The demo accounts as demoData.ts describes them; their community role says who they are in the conversations. */
export interface DemoActivityAccount {
  email: string;
  communityRole: 'owner' | 'admin' | 'moderator' | 'member';
}

const PERSON_OF_ROLE = { owner: 'instructor', admin: 'admin', moderator: 'moderator', member: 'learner' } as const;

/**
 * The attendance rule of a default configuration (server/env.ts: CLASSROOM_ATTENDANCE_THRESHOLD_PERCENT,
 * CLASSROOM_RECONNECT_GRACE_SECONDS), used to mark the past class as its end would have.
 */
const DEFAULT_ATTENDANCE_RULE = { agora: null, rtcTokenTtlSeconds: 3600, attendanceThresholdPercent: 50, reconnectGraceMs: 30_000 };

/**
 * Makes the demo community look lived in: a few more members, a few days of chat in its public channels, feed posts
 * with comments, reactions and a poll, and a class that already took place with its attendance. Runs once: when the
 * demo members exist it does nothing. Everything is written in one transaction, as the app's own operations write it
 * (seqs, channel events, mentions, thread and comment counts), with creation times spread over the last few days.
 */
export async function seedDemoActivity(em: EntityManager, options: { communitySlug: string; accounts: readonly DemoActivityAccount[] }): Promise<void> {
  if (await em.count(User, { email: DEMO_MEMBERS[0]!.email })) return;
  const passwordHashes = await Promise.all(DEMO_MEMBERS.map(() => hashPassword(randomBytes(32).toString('base64url'))));
  await em.transactional(async (tx) => {
    const q = db(tx);
    const community = await q.selectFrom('communities').select('id').where('slug', '=', options.communitySlug).executeTakeFirst();
    if (!community) return;
    const now = Date.now();
    const people = new Map<DemoPerson, string>();
    const accounts = await q
      .selectFrom('users')
      .select(['id', 'email'])
      .where('email', '=', sql<string>`any(${options.accounts.map((a) => a.email)}::text[])`)
      .execute();
    for (const account of options.accounts) {
      const row = accounts.find((a) => a.email === account.email);
      if (row) people.set(PERSON_OF_ROLE[account.communityRole], row.id);
    }
    if (people.size !== options.accounts.length) return;
    // Members since a little before the oldest conversation.
    const joinedAt = new Date(now - 6 * 24 * HOUR_MS);
    DEMO_MEMBERS.forEach((member, i) => {
      const user = tx.create(User, {
        id: crypto.randomUUID(),
        email: member.email,
        passwordHash: passwordHashes[i]!,
        displayName: member.displayName,
        role: 'user',
        emailVerifiedAt: joinedAt,
        createdAt: joinedAt,
        isDemo: true,
      });
      tx.create(CommunityMember, { community: community.id, user, role: 'member', joinedAt: new Date(joinedAt.getTime() + (i + 1) * HOUR_MS) });
      people.set(member.key, user.id);
    });
    await tx.flush();
    await q
      .updateTable('community_members')
      .set({ joined_at: joinedAt })
      .where('community_id', '=', community.id)
      .where('user_id', '=', sql<string>`any(${uuids(accounts.map((a) => a.id))})`)
      .where('joined_at', '>', joinedAt)
      .execute();
    const who = (person: DemoPerson) => people.get(person)!;
    const at = (hoursAgo: number, minutesLater = 0) => new Date(now - hoursAgo * HOUR_MS + minutesLater * MINUTE_MS);

    const channels = await q
      .selectFrom('channels')
      .select(['id', 'name', 'last_seq'])
      .where('community_id', '=', community.id)
      .where('kind', '=', 'channel')
      .execute();
    for (const [name, script] of Object.entries(DEMO_CHANNEL_HISTORY)) {
      const channel = channels.find((c) => c.name === name);
      // A channel where people already talk keeps its own history.
      if (channel && channel.last_seq === 0) await writeChannelHistory(q, channel.id, script, who, at);
    }
    await writeFeed(q, community.id, who, at);
    await writePastClass(q, community.id, who, now);
  });
}

type Who = (person: DemoPerson) => string;
type At = (hoursAgo: number, minutesLater?: number) => Date;

/**
 * The channel's messages and reactions in time order, each taking the channel's next seq the way the send path and
 * reaction toggles do (writeMessages, recordEvent); then the creation times of the rows are set to the
 * script's. Mentions resolve from the bodies as when sent. Nothing is noted for notifications: this is history.
 */
async function writeChannelHistory(q: Db, channelId: string, script: readonly ScriptedMessage[], who: Who, at: At): Promise<void> {
  const ids = new Map<string, string>();
  type Step = { time: Date } & ({ message: ScriptedMessage; id: string } | { reaction: ScriptedReaction; messageId: string });
  const steps: Step[] = [];
  for (const message of script) {
    const id = crypto.randomUUID();
    if (message.key) ids.set(message.key, id);
    steps.push({ time: at(message.hoursAgo), message, id });
    for (const reaction of message.reactions ?? []) steps.push({ time: at(message.hoursAgo, reaction[2]), reaction, messageId: id });
  }
  steps.sort((a, b) => a.time.getTime() - b.time.getTime());
  const messageTimes: { id: string; time: Date }[] = [];
  const eventTimes: { seq: number; time: Date }[] = [];
  for (const step of steps) {
    if ('message' in step) {
      const { message, id } = step;
      const authorId = who(message.by);
      const mentioned = await resolveMentions(q, { channelId }, authorId, message.body);
      const replyToId = message.replyTo ? ids.get(message.replyTo)! : null;
      const written = await writeMessages(q, [
        { id, channelId, authorId, clientId: crypto.randomUUID(), body: message.body, replyToId, mentioned, notable: false },
      ]);
      messageTimes.push({ id, time: step.time });
      eventTimes.push({ seq: written.get(id)!.seq, time: step.time });
    } else {
      const [by, emoji] = step.reaction;
      await q.insertInto('message_reactions').values({ message_id: step.messageId, user_id: who(by), emoji, created_at: step.time }).execute();
      eventTimes.push({ seq: await recordEvent(q, channelId, 'reaction:updated', step.messageId), time: step.time });
    }
  }
  await q
    .updateTable('messages as m')
    .from(sql<{ id: string; t: Date }>`unnest(${uuids(messageTimes.map((m) => m.id))}, ${messageTimes.map((m) => m.time)}::timestamptz[])`.as<'v'>(sql`v(id, t)`))
    .set((eb) => ({ created_at: eb.ref('v.t') }))
    .whereRef('m.id', '=', 'v.id')
    .execute();
  await q
    .updateTable('channel_events as e')
    .from(sql<{ seq: number; t: Date }>`unnest(${eventTimes.map((e) => e.seq)}::bigint[], ${eventTimes.map((e) => e.time)}::timestamptz[])`.as<'v'>(sql`v(seq, t)`))
    .set((eb) => ({ created_at: eb.ref('v.t') }))
    .where('e.channel_id', '=', channelId)
    .whereRef('e.seq', '=', 'v.seq')
    .execute();
}

/** Posts as createPost stores them, comments as createComment, reactions and votes as their toggles; counts recomputed. */
async function writeFeed(q: Db, communityId: string, who: Who, at: At): Promise<void> {
  for (const post of DEMO_POSTS) {
    const postId = crypto.randomUUID();
    const kind = post.poll ? 'poll' : post.linkUrl ? 'link' : 'text';
    await q
      .insertInto('posts')
      .values({
        id: postId,
        community_id: communityId,
        author_id: who(post.by),
        kind,
        body: post.body,
        link_url: post.linkUrl ?? null,
        poll_question: post.poll?.question ?? null,
        poll_options: post.poll ? jsonb([...post.poll.options]) : null,
        pinned_at: post.pinnedBy ? at(post.hoursAgo, 30) : null,
        pinned_by_id: post.pinnedBy ? who(post.pinnedBy) : null,
        created_at: at(post.hoursAgo),
      })
      .execute();
    const reactions = (post.reactions ?? []).map(([by, emoji, after]) => ({ post_id: postId, user_id: who(by), emoji, created_at: at(post.hoursAgo, after) }));
    if (reactions.length) await q.insertInto('post_reactions').values(reactions).execute();
    const votes = (post.poll?.votes ?? []).map(([by, option], i) => ({ post_id: postId, user_id: who(by), option, created_at: at(post.hoursAgo, 15 + 20 * i) }));
    if (votes.length) await q.insertInto('post_poll_votes').values(votes).execute();
    const commentIds = new Map<string, string>();
    for (const comment of post.comments ?? []) {
      const id = crypto.randomUUID();
      if (comment.key) commentIds.set(comment.key, id);
      await q
        .insertInto('comments')
        .values({
          id,
          post_id: postId,
          community_id: communityId,
          parent_id: comment.replyTo ? commentIds.get(comment.replyTo)! : null,
          author_id: who(comment.by),
          body: comment.body,
          created_at: at(comment.hoursAgo),
        })
        .execute();
      const liked = (comment.reactions ?? []).map(([by, emoji, after]) => ({ comment_id: id, user_id: who(by), emoji, created_at: at(comment.hoursAgo, after) }));
      if (liked.length) await q.insertInto('comment_reactions').values(liked).execute();
    }
    await recountComments(q, postId);
    await recountReactions(q, postId);
  }
}

/**
 * A class hosted by the demo instructor that ran yesterday, as endClassroom leaves one: ended, its chat archived, every
 * stay in the room closed, and each registered learner's minutes and attendance marked by the attendance rule.
 */
async function writePastClass(q: Db, communityId: string, who: Who, now: number): Promise<void> {
  const spec = DEMO_PAST_CLASS;
  const hostId = who('instructor');
  const startsAt = new Date(Math.floor((now - spec.hoursAgo * HOUR_MS) / HOUR_MS) * HOUR_MS);
  const startedAt = new Date(startsAt.getTime() + spec.startedLateMinutes * MINUTE_MS);
  const endedAt = new Date(startedAt.getTime() + spec.ranMinutes * MINUTE_MS);
  const minute = (m: number) => new Date(startedAt.getTime() + m * MINUTE_MS);
  // Scheduled three days before it ran; its learners registered over the following day.
  const scheduledAt = minute(-3 * 24 * 60);
  const channelId = crypto.randomUUID();
  await q
    .insertInto('channels')
    .values({
      id: channelId,
      community_id: communityId,
      kind: 'classroom',
      name: null,
      visibility: 'private',
      created_by_id: hostId,
      created_at: scheduledAt,
      archived_at: endedAt,
    })
    .execute();
  await q.insertInto('channel_members').values({ channel_id: channelId, user_id: hostId, added_at: scheduledAt }).execute();
  const classroomId = crypto.randomUUID();
  const classroom = await q
    .insertInto('classrooms')
    .values({
      id: classroomId,
      community_id: communityId,
      host_id: hostId,
      channel_id: channelId,
      title: spec.title,
      description: spec.description,
      starts_at: startsAt,
      duration_minutes: spec.durationMinutes,
      capacity: spec.capacity,
      status: 'ended',
      created_at: scheduledAt,
      started_at: startedAt,
      ended_at: endedAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await q
    .insertInto('classroom_registrations')
    .values(
      spec.attendance.map((a, i) => {
        const registeredAt = minute(-(48 - i) * 60);
        return { classroom_id: classroomId, user_id: who(a.by), status: 'registered' as const, registered_at: registeredAt, updated_at: registeredAt };
      }),
    )
    .execute();
  const stays = [
    { user_id: hostId, joined_at: minute(-spec.startedLateMinutes - 3), left_at: endedAt },
    ...spec.attendance.flatMap((a) => a.stays.map(([from, to]) => ({ user_id: who(a.by), joined_at: minute(from), left_at: minute(to) }))),
  ];
  await q
    .insertInto('classroom_attendance')
    .values(stays.map((s) => ({ classroom_id: classroomId, ...s })))
    .execute();
  await markAttendance(q, classroom, DEFAULT_ATTENDANCE_RULE);
}
