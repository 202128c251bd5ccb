import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommunityRole } from '../../contracts/communities.ts';
import { db, type Db } from '../../orm/db.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';
import { markRead } from '../chat/reading.ts';
import { searchMessages } from '../search/messages.ts';
import { loadChannelSummary } from '../communities/channelQueries.ts';
import type { Actor } from '../shared/deps.ts';
import { accessKey, ChannelPolicy, loadChannelAccess, loadChannelAccessMany, moderatedChannelIds, readableChannelIds } from './channel.ts';
import { MessagePolicy } from './message.ts';

/*
 * Parity: the channel rules are written twice, as ChannelPolicy over one loaded ChannelAccess and as the
 * readableChannelIds / moderatedChannelIds predicates. Every combination of the dimensions below is built in the
 * database as it can be there, and both halves must give the same answer for each one.
 */

const KINDS = ['channel', 'dm', 'group_dm', 'classroom', 'course'] as const;
const VISIBILITIES = ['public', 'private'] as const;
const ROLES = ['none', 'member', 'moderator', 'admin', 'owner'] as const;
const MEMBERSHIPS = [true, false] as const;
/** `actor`: the actor blocked the other member; `other`: the other member blocked the actor. */
const BLOCKS = ['none', 'actor', 'other'] as const;
/** A ban (or a kick still running) ends the community membership and the memberships of its channels; a kick that has
 * run out leaves the person free to have joined again. */
const BANS = ['none', 'banned', 'kickRunOut'] as const;
const PLATFORM_ROLES = ['user', 'moderator', 'admin'] as const;

interface Case {
  kind: (typeof KINDS)[number];
  visibility: (typeof VISIBILITIES)[number];
  role: (typeof ROLES)[number];
  member: boolean;
  block: (typeof BLOCKS)[number];
  ban: (typeof BANS)[number];
  platform: (typeof PLATFORM_ROLES)[number];
  /** Course channels only: the actor teaches the course (the other member owns it). */
  teaches: boolean;
  /** Built rows. */
  communityId: string;
  channelId: string;
  otherId: string;
}

const label = (c: Case) =>
  `${c.kind}/${c.visibility}/role:${c.role}/${c.member ? 'in channel' : 'not in channel'}/block:${c.block}/ban:${c.ban}/platform:${c.platform}${c.teaches ? '/teaches' : ''}`;

let node: RunningNode;
let q: Db;
const actors = new Map<Case['platform'], Actor>();
const cases: Case[] = [];
const tag = randomBytes(4).toString('hex');

function insertUsers(users: { id: string; role?: Actor['role'] }[]) {
  return q
    .insertInto('users')
    .values(
      users.map((u, i) => ({
        id: u.id,
        email: `parity-${tag}-${u.id.slice(0, 8)}-${i}@example.test`,
        password_hash: 'not a hash',
        display_name: `Parity ${i}`,
        role: u.role ?? 'user',
      })),
    )
    .execute();
}

/** Every case's rows in one statement per table. */
async function buildCases(): Promise<void> {
  for (const platform of PLATFORM_ROLES) actors.set(platform, { userId: crypto.randomUUID(), sessionId: crypto.randomUUID(), role: platform });
  for (const kind of KINDS)
    for (const visibility of VISIBILITIES)
      for (const role of ROLES)
        for (const member of MEMBERSHIPS)
          for (const block of BLOCKS)
            for (const ban of BANS)
              for (const platform of PLATFORM_ROLES)
                for (const teaches of kind === 'course' ? [false, true] : [false]) {
                  const ids = { communityId: crypto.randomUUID(), channelId: crypto.randomUUID(), otherId: crypto.randomUUID() };
                  cases.push({ kind, visibility, role, member, block, ban, platform, teaches, ...ids });
                }

  await insertUsers([...[...actors.values()].map((a) => ({ id: a.userId, role: a.role })), ...cases.map((c) => ({ id: c.otherId }))]);
  await q
    .insertInto('communities')
    .values(cases.map((c, i) => ({ id: c.communityId, slug: `p-${tag}-${i}`, name: `Parity ${i}`, visibility: 'public' as const })))
    .execute();
  // DMs and group DMs belong to no community; the actor's role and ban are then in a community of their own.
  const inCommunity = (c: Case) => c.kind === 'channel' || c.kind === 'classroom' || c.kind === 'course';
  await q
    .insertInto('channels')
    .values(
      cases.map((c) => ({
        id: c.channelId,
        community_id: inCommunity(c) ? c.communityId : null,
        kind: c.kind,
        name: c.kind === 'channel' ? 'general' : null,
        visibility: c.visibility,
      })),
    )
    .execute();

  const actorOf = (c: Case) => actors.get(c.platform)!.userId;
  const barred = (c: Case) => c.ban === 'banned';
  const roleOf = (c: Case): CommunityRole | null => (barred(c) || c.role === 'none' ? null : c.role);
  await q
    .insertInto('community_members')
    .values([
      ...cases.filter((c) => roleOf(c) !== null).map((c) => ({ community_id: c.communityId, user_id: actorOf(c), role: roleOf(c)! })),
      ...cases.filter(inCommunity).map((c) => ({ community_id: c.communityId, user_id: c.otherId, role: 'member' as const })),
    ])
    .execute();
  await q
    .insertInto('channel_members')
    .values([
      ...cases.filter((c) => c.member && !(barred(c) && inCommunity(c))).map((c) => ({ channel_id: c.channelId, user_id: actorOf(c) })),
      ...cases.map((c) => ({ channel_id: c.channelId, user_id: c.otherId })),
    ])
    .execute();
  // Every course channel belongs to a course (owned by the other member); in `teaches` cases the actor co-teaches it.
  const courseCases = cases.filter((c) => c.kind === 'course').map((c) => ({ ...c, courseId: crypto.randomUUID() }));
  await q
    .insertInto('courses')
    .values(
      courseCases.map((c) => ({
        id: c.courseId,
        community_id: c.communityId,
        owner_id: c.otherId,
        channel_id: c.channelId,
        title: 'Parity course',
        level: 'beginner' as const,
      })),
    )
    .execute();
  await q
    .insertInto('course_instructors')
    .values([
      ...courseCases.map((c) => ({ course_id: c.courseId, user_id: c.otherId, role: 'owner' as const })),
      ...courseCases.filter((c) => c.teaches).map((c) => ({ course_id: c.courseId, user_id: actorOf(c), role: 'instructor' as const })),
    ])
    .execute();
  await q
    .insertInto('user_blocks')
    .values(
      cases
        .filter((c) => c.block !== 'none')
        .map((c) => (c.block === 'actor' ? { blocker_id: actorOf(c), blocked_id: c.otherId } : { blocker_id: c.otherId, blocked_id: actorOf(c) })),
    )
    .execute();
  await q
    .insertInto('community_bans')
    .values(
      cases
        .filter((c) => c.ban !== 'none')
        .map((c) => ({
          community_id: c.communityId,
          user_id: actorOf(c),
          reason: 'parity',
          expires_at: c.ban === 'banned' ? null : new Date(Date.now() - 86_400_000),
        })),
    )
    .execute();
}

beforeAll(async () => {
  node = await startNode();
  q = db(node.node.orm.em.fork());
  await buildCases();
});
afterAll(async () => node?.close());

describe('channel rules: ChannelPolicy and its predicates agree', () => {
  it(`covers kind × visibility × community role × channel membership × block × ban × platform role, × teaching for course channels (${(KINDS.length + 1) * VISIBILITIES.length * ROLES.length * MEMBERSHIPS.length * BLOCKS.length * BANS.length * PLATFORM_ROLES.length} cases)`, async () => {
    const accesses = await loadChannelAccessMany(
      node.node.orm.em.fork(),
      cases.map((c) => ({ userId: actors.get(c.platform)!.userId, channelId: c.channelId })),
    );
    const readable = new Map<string, Set<string>>();
    const moderated = new Map<string, Set<string>>();
    for (const [platform, actor] of actors) {
      readable.set(platform, new Set((await readableChannelIds(q, actor).execute()).map((r) => r.id)));
      moderated.set(platform, new Set((await moderatedChannelIds(q, actor).execute()).map((r) => r.id)));
    }

    const disagreements: string[] = [];
    const outcomes = new Map<string, Set<string>>();
    for (const c of cases) {
      const actor = actors.get(c.platform)!;
      const access = accesses.get(accessKey(actor.userId, c.channelId));
      if (!access) {
        disagreements.push(`${label(c)}: not loaded`);
        continue;
      }
      const read = ChannelPolicy.read(actor, access);
      const moderate = ChannelPolicy.moderate(actor, access);
      if (read !== readable.get(c.platform)!.has(c.channelId)) disagreements.push(`${label(c)}: read says ${read}, readableChannelIds ${!read}`);
      if (moderate !== moderated.get(c.platform)!.has(c.channelId)) {
        disagreements.push(`${label(c)}: moderate says ${moderate}, moderatedChannelIds ${!moderate}`);
      }
      const seen = outcomes.get(c.kind) ?? new Set<string>();
      seen.add(`read:${read}`).add(`moderate:${moderate}`);
      outcomes.set(c.kind, seen);
    }
    expect(disagreements).toEqual([]);
    // Not vacuous: every kind is readable in some cases and not in others; only community channels are moderated.
    for (const kind of KINDS) {
      expect(outcomes.get(kind)).toContain('read:true');
      expect(outcomes.get(kind)).toContain('read:false');
    }
    expect(['channel', 'classroom', 'course'].map((kind) => outcomes.get(kind)!.has('moderate:true'))).toEqual([true, true, true]);
    expect(['dm', 'group_dm'].map((kind) => outcomes.get(kind)!.has('moderate:true'))).toEqual([false, false]);
  });

  it('keeps the rules the product promises', async () => {
    const find = (match: Partial<Case>) => cases.find((c) => Object.entries(match).every(([k, v]) => c[k as keyof Case] === v))!;
    const reads = async (match: Partial<Case>) => {
      const c = find(match);
      const actor = actors.get(c.platform)!;
      return ChannelPolicy.read(actor, (await loadChannelAccess(q, actor.userId, c.channelId))!);
    };
    const base = { visibility: 'private', ban: 'none', platform: 'user' } as const;
    // Someone who blocked you takes the 1:1 DM away from you; your own block does not.
    expect(await reads({ ...base, kind: 'dm', role: 'none', member: true, block: 'other' })).toBe(false);
    expect(await reads({ ...base, kind: 'dm', role: 'none', member: true, block: 'actor' })).toBe(true);
    expect(await reads({ ...base, kind: 'group_dm', role: 'none', member: true, block: 'other' })).toBe(true);
    // Admins read private channels without being added; moderators do not.
    expect(await reads({ ...base, kind: 'channel', role: 'admin', member: false, block: 'none' })).toBe(true);
    expect(await reads({ ...base, kind: 'channel', role: 'moderator', member: false, block: 'none' })).toBe(false);
    // A platform admin reads nothing more than anyone else.
    expect(await reads({ ...base, kind: 'channel', visibility: 'public', role: 'none', member: false, block: 'none', platform: 'admin' })).toBe(false);
    // A ban takes everything of the community; a kick that has run out leaves a rejoined member as before.
    expect(await reads({ ...base, kind: 'classroom', role: 'member', member: true, block: 'none', ban: 'banned' })).toBe(false);
    expect(await reads({ ...base, kind: 'classroom', role: 'member', member: true, block: 'none', ban: 'kickRunOut' })).toBe(true);
    // A course's instructors moderate its discussion; an enrolled learner does not.
    const moderates = async (match: Partial<Case>) => {
      const c = find(match);
      const actor = actors.get(c.platform)!;
      return ChannelPolicy.moderate(actor, (await loadChannelAccess(q, actor.userId, c.channelId))!);
    };
    const course = { ...base, kind: 'course', role: 'none', member: true, block: 'none' } as const;
    expect(await moderates({ ...course, teaches: true })).toBe(true);
    expect(await moderates({ ...course, teaches: false })).toBe(false);
    expect(await moderates({ ...course, member: false, teaches: true })).toBe(false);
  });
});

describe('message rules: what search finds and what counts as unread agree with MessagePolicy', () => {
  it('hidden × deleted × own or another’s × moderator or not', async () => {
    const word = `parity${tag}`;
    const communityId = crypto.randomUUID();
    const channelId = crypto.randomUUID();
    const readers = {
      member: { userId: crypto.randomUUID(), sessionId: crypto.randomUUID(), role: 'user' },
      moderator: { userId: crypto.randomUUID(), sessionId: crypto.randomUUID(), role: 'user' },
      platformModerator: { userId: crypto.randomUUID(), sessionId: crypto.randomUUID(), role: 'moderator' },
    } satisfies Record<string, Actor>;
    const author = crypto.randomUUID();
    await insertUsers([...Object.values(readers).map((r) => ({ id: r.userId, role: r.role })), { id: author }]);
    await q.insertInto('communities').values({ id: communityId, slug: `m-${tag}`, name: 'Messages parity' }).execute();
    await q.insertInto('channels').values({ id: channelId, community_id: communityId, kind: 'channel', name: 'general' }).execute();
    await q
      .insertInto('community_members')
      .values([
        { community_id: communityId, user_id: readers.member.userId, role: 'member' },
        { community_id: communityId, user_id: readers.moderator.userId, role: 'moderator' },
        { community_id: communityId, user_id: readers.platformModerator.userId, role: 'member' },
        { community_id: communityId, user_id: author, role: 'member' },
      ])
      .execute();

    // Every state a message can be in, by someone else and by each reader, twice over (read positions fall between).
    const now = new Date();
    const states = [
      { hiddenAt: null, deletedAt: null },
      { hiddenAt: now, deletedAt: null },
      { hiddenAt: null, deletedAt: now },
      { hiddenAt: now, deletedAt: now },
    ];
    const authors = [author, ...Object.values(readers).map((r) => r.userId)];
    const messages = [0, 1].flatMap(() => authors.flatMap((authorId) => states.map((state) => ({ authorId, ...state }))));
    const rows = messages.map((m, i) => ({ id: crypto.randomUUID(), seq: i + 1, ...m }));
    await q
      .insertInto('messages')
      .values(
        rows.map((r) => ({
          id: r.id,
          channel_id: channelId,
          seq: r.seq,
          author_id: r.authorId,
          client_id: r.id,
          body: `${word} number ${r.seq}`,
          hidden_at: r.hiddenAt,
          deleted_at: r.deletedAt,
        })),
      )
      .execute();
    await q.updateTable('channels').set({ last_seq: rows.length }).where('id', '=', channelId).execute();

    const deps = node.node.deps;
    const checked: string[] = [];
    for (const [who, reader] of Object.entries(readers)) {
      const access = (await loadChannelAccess(q, reader.userId, channelId))!;
      const moderates = ChannelPolicy.moderate(reader, access);
      expect(moderates).toBe(who !== 'member');

      const found = await searchMessages(deps, reader, { q: word, communityId, limit: 100 });
      const expected = rows.filter((r) => MessagePolicy.findable(r, moderates));
      expect(found.map((m) => m.id).sort(), `${who}: search`).toEqual(expected.map((r) => r.id).sort());
      for (const message of found) {
        const row = rows.find((r) => r.id === message.id)!;
        expect(message.hidden ? 'hidden' : 'content', `${who}: view of #${row.seq}`).toBe(MessagePolicy.view(row, moderates));
        expect(message.body).not.toBe('');
      }

      for (const lastReadSeq of [0, Math.floor(rows.length / 3), rows.length - 1]) {
        const unread = rows.filter((r) => MessagePolicy.countsAsUnread(r, { userId: reader.userId, lastReadSeq })).length;
        const state = await markRead(deps, reader, { channelId, seq: lastReadSeq });
        const listed = await loadChannelSummary(q, reader.userId, channelId);
        expect([state.unreadCount, listed!.unread_count], `${who} after #${lastReadSeq}`).toEqual([unread, unread]);
        checked.push(`${who}@${lastReadSeq}:${unread}`);
      }
    }
    // Not vacuous: some messages count and hidden ones are left out.
    expect(checked.some((c) => !c.endsWith(':0'))).toBe(true);
  });
});
