import { randomBytes } from 'node:crypto';
import type { Expression, SqlBool } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openOrm, type Orm } from '../../orm/database.ts';
import { db, type Db } from '../../orm/db.ts';
import { testDatabaseUrl } from '../../test/db.ts';
import { FeedPolicy, loadFeedAccess } from './feed.ts';
import type { Actor } from '../shared/deps.ts';
import {
  CommentPolicy,
  commentListedTo,
  commentOpenTo,
  commentVisibleInThread,
  commentVisibleToMembers,
  selectCommentAccess,
  type CommentAccess,
} from './comment.ts';

/*
 * Parity: the comment rules are written twice, as CommentPolicy over one loaded comment and as the predicates the
 * comment list, counts and events use. Every state of a comment, of the comment it replies to and of its post, × viewer
 * × relation to the comment's author and to the parent's author, is built in the database, and both halves must give
 * the same answer for each one.
 */

const STATES = ['visible', 'hidden', 'deleted'] as const;
const VIEWERS = ['member', 'moderator', 'platform moderator', 'author'] as const;
/** Between the viewer and an author: `muted` and `blocked` are the viewer's doing, `blocked by` the author's. */
const RELATIONS = ['none', 'muted', 'blocked', 'blocked by'] as const;

type State = (typeof STATES)[number];
type Viewer = (typeof VIEWERS)[number];
type Relation = (typeof RELATIONS)[number];

interface CommentUnderTest {
  id: string;
  postId: string;
  postState: State;
  state: State;
  relation: Relation;
  authorId: string;
  /** Replies: the top-level comment they answer. */
  parent: { id: string; state: State; relation: Relation } | null;
}

interface Case {
  viewer: Viewer;
  viewerId: string;
  comment: CommentUnderTest;
}

let orm: Orm;
let q: Db;
const tag = randomBytes(4).toString('hex');
const communityId = crypto.randomUUID();
const viewers = new Map<Exclude<Viewer, 'author'>, Actor>();
/** The people whose comments are looked at, and the people they reply to: one per relation the viewers have with them. */
const commenters = new Map<Relation, string>();
const parentAuthors = new Map<Relation, string>();
const comments: CommentUnderTest[] = [];
const cases: Case[] = [];

const stamp = (state: State, now: Date) => ({ hidden_at: state === 'hidden' ? now : null, deleted_at: state === 'deleted' ? now : null });
const SOMEONE: Record<Relation, string> = {
  none: 'someone',
  muted: 'someone the viewer muted',
  blocked: 'someone the viewer blocked',
  'blocked by': 'someone who blocked the viewer',
};
const label = ({ viewer, comment: c }: Case) =>
  `${c.state} ${c.parent ? `reply (under a ${c.parent.state} comment by ${SOMEONE[c.parent.relation]})` : 'top-level comment'} ` +
  `by ${SOMEONE[c.relation]}, on a ${c.postState} post / ${viewer}`;

async function build(): Promise<void> {
  const actor = (role: Actor['role']): Actor => ({ userId: crypto.randomUUID(), sessionId: crypto.randomUUID(), role });
  viewers.set('member', actor('user'));
  viewers.set('moderator', actor('user'));
  viewers.set('platform moderator', actor('moderator'));
  for (const relation of RELATIONS) {
    commenters.set(relation, crypto.randomUUID());
    parentAuthors.set(relation, crypto.randomUUID());
  }
  /** The commenter with no relation to the viewers is the 'author' viewer, with the others' relations to parents. */
  const author = commenters.get('none')!;
  const people = [
    ...[...viewers.values()].map((v) => ({ id: v.userId, role: v.role })),
    ...[...commenters.values(), ...parentAuthors.values()].map((id) => ({ id, role: 'user' as const })),
  ];
  await q
    .insertInto('users')
    .values(
      people.map((p, i) => ({
        id: p.id,
        email: `comment-parity-${tag}-${i}@example.test`,
        password_hash: 'not a hash',
        display_name: `Comment parity ${i}`,
        role: p.role,
      })),
    )
    .execute();
  await q.insertInto('communities').values({ id: communityId, slug: `comment-parity-${tag}`, name: 'Comment parity' }).execute();
  await q
    .insertInto('community_members')
    .values([
      { community_id: communityId, user_id: viewers.get('member')!.userId, role: 'member' as const },
      { community_id: communityId, user_id: viewers.get('moderator')!.userId, role: 'moderator' as const },
      // Moderates through the platform role, not the community one.
      { community_id: communityId, user_id: viewers.get('platform moderator')!.userId, role: 'member' as const },
      ...[...commenters.values(), ...parentAuthors.values()].map((id) => ({ community_id: communityId, user_id: id, role: 'member' as const })),
    ])
    .execute();

  // Each post in each state carries every comment configuration.
  const now = new Date();
  const posts = STATES.map((state) => ({ id: crypto.randomUUID(), state }));
  await q
    .insertInto('posts')
    .values(
      posts.map((p) => ({ id: p.id, community_id: communityId, author_id: author, kind: 'text' as const, body: p.state, ...stamp(p.state, now) })),
    )
    .execute();
  for (const post of posts) {
    const base = { postId: post.id, postState: post.state };
    const parents: CommentUnderTest[] = [];
    for (const state of STATES)
      for (const relation of RELATIONS)
        parents.push({ ...base, id: crypto.randomUUID(), state, relation, authorId: parentAuthors.get(relation)!, parent: null });
    comments.push(...parents);
    for (const state of STATES)
      for (const relation of RELATIONS) {
        const authorId = commenters.get(relation)!;
        comments.push({ ...base, id: crypto.randomUUID(), state, relation, authorId, parent: null });
        for (const parent of parents) {
          const under = { id: parent.id, state: parent.state, relation: parent.relation };
          comments.push({ ...base, id: crypto.randomUUID(), state, relation, authorId, parent: under });
        }
      }
  }
  await q
    .insertInto('comments')
    .values(
      comments.map((c) => ({
        id: c.id,
        post_id: c.postId,
        community_id: communityId,
        parent_id: c.parent?.id ?? null,
        author_id: c.authorId,
        body: c.state,
        ...stamp(c.state, now),
      })),
    )
    .execute();

  const related = (from: string[], to: Map<Relation, string>) => ({
    mutes: from.map((id) => ({ muter_id: id, muted_id: to.get('muted')! })),
    blocks: from.flatMap((id) => [
      { blocker_id: id, blocked_id: to.get('blocked')! },
      { blocker_id: to.get('blocked by')!, blocked_id: id },
    ]),
  });
  const viewerIds = [...viewers.values()].map((v) => v.userId);
  const toCommenters = related(viewerIds, commenters);
  const toParents = related([...viewerIds, author], parentAuthors);
  await q.insertInto('user_mutes').values([...toCommenters.mutes, ...toParents.mutes]).execute();
  await q.insertInto('user_blocks').values([...toCommenters.blocks, ...toParents.blocks]).execute();

  for (const comment of comments) {
    for (const [viewer, { userId }] of viewers) cases.push({ viewer, viewerId: userId, comment });
    if (comment.authorId === author) cases.push({ viewer: 'author', viewerId: author, comment });
  }
}

const actorOf = (c: Case): Actor =>
  c.viewer === 'author' ? { userId: c.viewerId, sessionId: crypto.randomUUID(), role: 'user' } : viewers.get(c.viewer)!;

/** Whether the viewer moderates the community, as the feed operations decide it. */
async function moderates(actor: Actor): Promise<boolean> {
  return FeedPolicy.moderate(actor, (await loadFeedAccess(q, actor.userId, communityId, new Date()))!);
}

/** The ids of the community's comments a predicate lets through. */
async function idsWhere(predicate: Expression<SqlBool>): Promise<Set<string>> {
  const rows = await q.selectFrom('comments as c').select('c.id').where('c.community_id', '=', communityId).where(predicate).execute();
  return new Set(rows.map((r) => r.id));
}

beforeAll(async () => {
  orm = await openOrm(await testDatabaseUrl(), { poolMax: 2 });
  q = db(orm.em.fork());
  await build();
});
afterAll(async () => orm?.close(true));

describe('comment rules: CommentPolicy and its predicates agree', () => {
  it('covers comment × parent × post state, viewer, and relation to the comment’s and the parent’s author', async () => {
    const inThread = await idsWhere(commentVisibleInThread());
    const membersSee = await idsWhere(commentVisibleToMembers());
    const byViewer = new Map<string, { moderates: boolean; loaded: Map<string, CommentAccess>; open: Set<string>; listed: Set<string> }>();
    for (const c of cases) {
      if (byViewer.has(c.viewerId)) continue;
      const mod = await moderates(actorOf(c));
      const loaded = await selectCommentAccess(q, c.viewerId).where('c.community_id', '=', communityId).execute();
      byViewer.set(c.viewerId, {
        moderates: mod,
        loaded: new Map(loaded.map((row) => [row.id, row])),
        open: await idsWhere(commentOpenTo(c.viewerId, mod)),
        listed: await idsWhere(commentListedTo(c.viewerId, mod)),
      });
    }

    const disagreements: string[] = [];
    const outcomes = new Map<string, Set<string>>();
    for (const c of cases) {
      const view = byViewer.get(c.viewerId)!;
      const comment = view.loaded.get(c.comment.id);
      if (!comment) {
        disagreements.push(`${label(c)}: not loaded`);
        continue;
      }
      const verdicts = {
        open: [CommentPolicy.open(comment, view.moderates), view.open.has(c.comment.id)],
        listed: [CommentPolicy.listed(comment, view.moderates), view.listed.has(c.comment.id)],
        'visible in thread': [CommentPolicy.visibleInThread(comment), inThread.has(c.comment.id)],
        'visible to members': [CommentPolicy.visibleToMembers(comment), membersSee.has(c.comment.id)],
      } as const;
      for (const [rule, [policy, predicate]] of Object.entries(verdicts)) {
        if (policy !== predicate) disagreements.push(`${label(c)}: ${rule} — CommentPolicy says ${policy}, the predicate ${predicate}`);
        const seen = outcomes.get(`${rule}/${c.viewer}`) ?? new Set<string>();
        outcomes.set(`${rule}/${c.viewer}`, seen.add(String(policy)));
      }
    }
    expect(disagreements).toEqual([]);
    expect(new Set(cases.map((c) => c.viewer))).toEqual(new Set(VIEWERS));
    // Not vacuous: every rule says yes in some cases and no in others, for every kind of viewer.
    for (const [rule, seen] of outcomes) expect([rule, [...seen].sort()]).toEqual([rule, ['false', 'true']]);
  });

  it('keeps the rules the product promises', async () => {
    const verdict = async (viewer: Viewer, match: (c: CommentUnderTest) => boolean) => {
      const c = cases.find((x) => x.viewer === viewer && match(x.comment))!;
      const mod = await moderates(actorOf(c));
      const comment = await selectCommentAccess(q, c.viewerId).where('c.id', '=', c.comment.id).executeTakeFirstOrThrow();
      return { open: CommentPolicy.open(comment, mod), listed: CommentPolicy.listed(comment, mod) };
    };
    const reply = (parent: { state: State; relation: Relation }, own: Partial<CommentUnderTest> = {}) => (c: CommentUnderTest) =>
      c.postState === 'visible' &&
      c.state === (own.state ?? 'visible') &&
      c.relation === (own.relation ?? 'none') &&
      c.parent?.state === parent.state &&
      c.parent.relation === parent.relation;
    // A reply under a hidden comment is gone for members, its author too; moderators get it.
    expect(await verdict('member', reply({ state: 'hidden', relation: 'none' }))).toEqual({ open: false, listed: false });
    expect(await verdict('author', reply({ state: 'hidden', relation: 'none' }))).toEqual({ open: false, listed: false });
    expect(await verdict('moderator', reply({ state: 'hidden', relation: 'none' }))).toEqual({ open: true, listed: true });
    expect(await verdict('platform moderator', reply({ state: 'hidden', relation: 'none' }))).toEqual({ open: true, listed: true });
    // Under a deleted comment, gone for everyone.
    expect(await verdict('moderator', reply({ state: 'deleted', relation: 'none' }))).toEqual({ open: false, listed: false });
    // Replies to someone the viewer muted leave the thread but still open; a block closes both, except moderators' links.
    expect(await verdict('member', reply({ state: 'visible', relation: 'muted' }))).toEqual({ open: true, listed: false });
    const byBlocker = reply({ state: 'visible', relation: 'none' }, { relation: 'blocked by' });
    expect(await verdict('member', byBlocker)).toEqual({ open: false, listed: false });
    expect(await verdict('moderator', byBlocker)).toEqual({ open: true, listed: false });
    // On a hidden post, a comment is out of members' reach and within moderators'.
    const onHiddenPost = (c: CommentUnderTest) => c.postState === 'hidden' && c.state === 'visible' && c.relation === 'none' && c.parent === null;
    expect(await verdict('member', onHiddenPost)).toMatchObject({ open: false });
    expect(await verdict('moderator', onHiddenPost)).toMatchObject({ open: true });
  });
});
