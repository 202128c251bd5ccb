import { randomBytes } from 'node:crypto';
import type { Expression, SqlBool } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrm, type Orm } from '../../orm/database.ts';
import { db, type Db } from '../../orm/db.ts';
import { testDatabaseUrl } from '../../test/db.ts';
import { FeedPolicy, loadFeedAccess } from './feed.ts';
import type { Actor } from '../shared/deps.ts';
import { PostPolicy, postListedTo, postOpenTo, postVisibleToMembers, selectPostAccess, type PostAccess } from './post.ts';

/*
 * Parity: the post rules are written twice, as PostPolicy over one loaded post and as the predicates the feed queries
 * use. Every post state × viewer × relation to the author is built in the database, and both halves must give the
 * same answer for each one.
 */

const STATES = ['visible', 'hidden', 'deleted', 'hidden and deleted'] as const;
const VIEWERS = ['member', 'moderator', 'platform moderator', 'author'] as const;
/** Between the viewer and the post's author: `muted` and `blocked` are the viewer's doing, `blocked by` the author's. */
const RELATIONS = ['none', 'muted', 'blocked', 'blocked by'] as const;

type State = (typeof STATES)[number];
type Viewer = (typeof VIEWERS)[number];
type Relation = (typeof RELATIONS)[number];

interface Case {
  state: State;
  viewer: Viewer;
  relation: Relation;
  postId: string;
  viewerId: string;
}

let orm: Orm;
let q: Db;
const tag = randomBytes(4).toString('hex');
const communityId = crypto.randomUUID();
const viewers = new Map<Exclude<Viewer, 'author'>, Actor>();
/** One author per relation the viewers have with them. */
const authors = new Map<Relation, string>();
const posts: { id: string; state: State; relation: Relation; authorId: string }[] = [];
const cases: Case[] = [];

const label = (c: Case) => `${c.state} post / ${c.viewer} / ${c.relation}`;

/** The users, the community, its posts and the viewers' mutes and blocks, one statement per table. */
async function build(): Promise<void> {
  const actor = (role: Actor['role']): Actor => ({ userId: crypto.randomUUID(), sessionId: crypto.randomUUID(), role });
  viewers.set('member', actor('user'));
  viewers.set('moderator', actor('user'));
  viewers.set('platform moderator', actor('moderator'));
  for (const relation of RELATIONS) authors.set(relation, crypto.randomUUID());
  const people = [
    ...[...viewers.values()].map((v) => ({ id: v.userId, role: v.role })),
    ...[...authors.values()].map((id) => ({ id, role: 'user' as const })),
  ];
  await q
    .insertInto('users')
    .values(
      people.map((p, i) => ({
        id: p.id,
        email: `post-parity-${tag}-${i}@example.test`,
        password_hash: 'not a hash',
        display_name: `Post parity ${i}`,
        role: p.role,
      })),
    )
    .execute();
  await q.insertInto('communities').values({ id: communityId, slug: `post-parity-${tag}`, name: 'Post parity' }).execute();
  await q
    .insertInto('community_members')
    .values([
      { community_id: communityId, user_id: viewers.get('member')!.userId, role: 'member' as const },
      { community_id: communityId, user_id: viewers.get('moderator')!.userId, role: 'moderator' as const },
      // Moderates through the platform role, not the community one.
      { community_id: communityId, user_id: viewers.get('platform moderator')!.userId, role: 'member' as const },
      ...[...authors.values()].map((id) => ({ community_id: communityId, user_id: id, role: 'member' as const })),
    ])
    .execute();

  const now = new Date();
  for (const relation of RELATIONS)
    for (const state of STATES) posts.push({ id: crypto.randomUUID(), state, relation, authorId: authors.get(relation)! });
  await q
    .insertInto('posts')
    .values(
      posts.map((p) => ({
        id: p.id,
        community_id: communityId,
        author_id: p.authorId,
        kind: 'text' as const,
        body: `${p.state} by ${p.relation}`,
        hidden_at: p.state.includes('hidden') ? now : null,
        deleted_at: p.state.includes('deleted') ? now : null,
      })),
    )
    .execute();

  const viewerIds = [...viewers.values()].map((v) => v.userId);
  await q
    .insertInto('user_mutes')
    .values(viewerIds.map((id) => ({ muter_id: id, muted_id: authors.get('muted')! })))
    .execute();
  await q
    .insertInto('user_blocks')
    .values(
      viewerIds.flatMap((id) => [
        { blocker_id: id, blocked_id: authors.get('blocked')! },
        { blocker_id: authors.get('blocked by')!, blocked_id: id },
      ]),
    )
    .execute();

  for (const post of posts) {
    for (const [viewer, { userId }] of viewers) cases.push({ state: post.state, viewer, relation: post.relation, postId: post.id, viewerId: userId });
    // The author sees their own post: no mute or block between a person and themselves.
    if (post.relation === 'none') cases.push({ state: post.state, viewer: 'author', relation: 'none', postId: post.id, viewerId: post.authorId });
  }
}

const actorOf = (c: Case): Actor =>
  c.viewer === 'author' ? { userId: c.viewerId, sessionId: crypto.randomUUID(), role: 'user' } : viewers.get(c.viewer)!;

/** Whether the viewer moderates the community, as the feed operations decide it. */
async function moderates(actor: Actor): Promise<boolean> {
  return FeedPolicy.moderate(actor, (await loadFeedAccess(q, actor.userId, communityId, new Date()))!);
}

/** The ids of the community's posts a predicate lets through. */
async function idsWhere(predicate: Expression<SqlBool>): Promise<Set<string>> {
  const rows = await q.selectFrom('posts as p').select('p.id').where('p.community_id', '=', communityId).where(predicate).execute();
  return new Set(rows.map((r) => r.id));
}

beforeAll(async () => {
  orm = await openOrm(await testDatabaseUrl(), { poolMax: 2 });
  q = db(orm.em.fork());
  await build();
});
afterAll(async () => orm?.close(true));

describe('post rules: PostPolicy and its predicates agree', () => {
  it(`covers state × viewer × relation to the author (${STATES.length} × ${VIEWERS.length} × ${RELATIONS.length}, less what cannot be)`, async () => {
    const disagreements: string[] = [];
    const outcomes = new Map<string, Set<string>>();
    const membersSee = await idsWhere(postVisibleToMembers());
    const byViewer = new Map<string, { moderates: boolean; loaded: Map<string, PostAccess>; open: Set<string>; listed: Set<string> }>();
    for (const c of cases) {
      if (byViewer.has(c.viewerId)) continue;
      const mod = await moderates(actorOf(c));
      const loaded = await selectPostAccess(q, c.viewerId).where('p.community_id', '=', communityId).execute();
      byViewer.set(c.viewerId, {
        moderates: mod,
        loaded: new Map(loaded.map((row) => [row.id, row])),
        open: await idsWhere(postOpenTo(c.viewerId, mod)),
        listed: await idsWhere(postListedTo(c.viewerId, mod)),
      });
    }

    for (const c of cases) {
      const view = byViewer.get(c.viewerId)!;
      const post = view.loaded.get(c.postId);
      if (!post) {
        disagreements.push(`${label(c)}: not loaded`);
        continue;
      }
      const verdicts = {
        open: [PostPolicy.open(post, view.moderates), view.open.has(c.postId)],
        listed: [PostPolicy.listed(post, view.moderates), view.listed.has(c.postId)],
        'visible to members': [PostPolicy.visibleToMembers(post), membersSee.has(c.postId)],
      } as const;
      for (const [rule, [policy, predicate]] of Object.entries(verdicts)) {
        if (policy !== predicate) disagreements.push(`${label(c)}: ${rule} — PostPolicy says ${policy}, the predicate ${predicate}`);
        const seen = outcomes.get(rule) ?? new Set<string>();
        outcomes.set(rule, seen.add(String(policy)));
      }
    }
    expect(disagreements).toEqual([]);
    // Not vacuous: every rule says yes in some cases and no in others.
    for (const seen of outcomes.values()) expect([...seen].sort()).toEqual(['false', 'true']);
  });

  it('keeps the rules the product promises', async () => {
    const verdict = async (state: State, viewer: Viewer, relation: Relation) => {
      const c = cases.find((x) => x.state === state && x.viewer === viewer && x.relation === relation)!;
      const mod = await moderates(actorOf(c));
      const post = (await selectPostAccess(q, c.viewerId).where('p.id', '=', c.postId).executeTakeFirstOrThrow()) satisfies PostAccess;
      return { open: PostPolicy.open(post, mod), listed: PostPolicy.listed(post, mod) };
    };
    // Hidden: gone for members and for its author; moderators (of the community or the platform) get it.
    expect(await verdict('hidden', 'member', 'none')).toEqual({ open: false, listed: false });
    expect(await verdict('hidden', 'author', 'none')).toEqual({ open: false, listed: false });
    expect(await verdict('hidden', 'moderator', 'none')).toEqual({ open: true, listed: true });
    expect(await verdict('hidden', 'platform moderator', 'none')).toEqual({ open: true, listed: true });
    // Deleted: gone for everyone.
    expect(await verdict('deleted', 'moderator', 'none')).toEqual({ open: false, listed: false });
    // A mute quiets feeds but a link still opens; a block either way closes both, except to moderators' links.
    expect(await verdict('visible', 'member', 'muted')).toEqual({ open: true, listed: false });
    expect(await verdict('visible', 'member', 'blocked')).toEqual({ open: false, listed: false });
    expect(await verdict('visible', 'member', 'blocked by')).toEqual({ open: false, listed: false });
    expect(await verdict('visible', 'moderator', 'blocked by')).toEqual({ open: true, listed: false });
  });
});
