import { expressionBuilder, sql, type Expression, type SqlBool } from 'kysely';
import type { SearchType } from '../../contracts/search.ts';
import type { DB, Db } from '../../orm/db.ts';
import { classroomVisibleTo } from '../access/classroom.ts';
import { communityVisibleTo } from '../access/community.ts';
import { courseVisibleTo } from '../access/course.ts';
import { ebookVisibleTo } from '../access/ebook.ts';
import { barredAt } from '../access/membership.ts';
import { authorListedTo, blockedBetween, excludedAuthorIds, postVisibleToMembers } from '../access/post.ts';
import type { Actor } from '../shared/deps.ts';
import type { DocumentRef, Viewer } from './backend.ts';

/*
 * What a viewer may find, as one predicate over a document row `d`: each kind is checked through the access module's
 * predicates for that kind, against live state, so search can never say more than the pages do.
 *
 * - course, ebook: published, and `CoursePolicy.view` / `EbookPolicy.view` (an author's drafts are not results).
 * - community: `CommunityPolicy.view` (public or mine, not archived).
 * - classroom: scheduled or live, `ClassroomPolicy.view`, in a community that is not archived.
 * - person: not suspended, no block either way (signed in only: profiles are for members).
 * - post: not hidden or deleted, its author neither muted nor blocked either way, in a community whose feed the
 *   viewer may read (visible, not barred) — `PostPolicy.listed` with `FeedPolicy.read` (signed in only).
 *
 * Posts and people are most of an index, so their branches start from the document's own columns, which never
 * change for an item (a post's community and author, a person's id): the few communities the viewer may read and the
 * few people hidden from them are small sets, and the item's live state (hidden, deleted, suspended) is looked up by
 * its primary key. Building every readable post instead cost ≈ 0.3 s per query at 100,000 documents.
 */

/** Who "nobody" is for predicates written over a user id. */
const NOBODY = '00000000-0000-0000-0000-000000000000';
const anonymous: Actor = { userId: NOBODY, sessionId: NOBODY, role: 'user' };

type DocScope = DB & { d: { type: string; source_id: string; community_id: string | null; author_id: string | null } };

/** The predicate over the row `d` (any relation with `type` and `source_id`) for `viewer` at `now`. */
export function documentVisibleTo(viewer: Viewer, now: Date, types: readonly SearchType[] = ALL_TYPES): Expression<SqlBool> {
  const eb = expressionBuilder<DocScope, 'd'>();
  const actor = viewer ?? anonymous;
  const branches: Expression<SqlBool>[] = [];
  const of = (type: SearchType, ids: Expression<unknown>) =>
    eb.and([eb('d.type', '=', type), sql<SqlBool>`${eb.ref('d.source_id')} in (${ids})`]);

  for (const type of types) {
    switch (type) {
      case 'course':
        branches.push(
          of(type, eb.selectFrom('courses as k').select('k.id').where('k.status', '=', 'published').where(courseVisibleTo(viewer))),
        );
        break;
      case 'ebook':
        branches.push(
          of(type, eb.selectFrom('ebooks as e').select('e.id').where('e.status', '=', 'published').where(ebookVisibleTo(actor))),
        );
        break;
      case 'community':
        branches.push(of(type, eb.selectFrom('communities as c').select('c.id').where(communityVisibleTo(actor.userId))));
        break;
      case 'classroom':
        branches.push(
          of(
            type,
            eb
              .selectFrom('classrooms as k')
              .innerJoin('communities as kc', 'kc.id', 'k.community_id')
              .select('k.id')
              .where('k.status', 'in', ['scheduled', 'live'])
              .where('kc.archived_at', 'is', null)
              .where(classroomVisibleTo(actor)),
          ),
        );
        break;
      case 'person':
        if (!viewer) break;
        branches.push(
          eb.and([
            eb('d.type', '=', type),
            eb.not(blockedBetween(viewer.userId, eb.ref('d.source_id'))),
            eb.exists(eb.selectFrom('users as u').select(sql.lit(1).as('one')).whereRef('u.id', '=', 'd.source_id').where('u.suspended_at', 'is', null)),
          ]),
        );
        break;
      case 'post':
        if (!viewer) break;
        branches.push(
          eb.and([
            eb('d.type', '=', type),
            eb(
              'd.community_id',
              'in',
              eb
                .selectFrom('communities as c')
                .select('c.id')
                .where(communityVisibleTo(viewer.userId))
                .where((w) => w.not(barredAt(viewer.userId, w.ref('c.id'), now))),
            ),
            authorListedTo(viewer.userId, sql<string>`${eb.ref('d.author_id')}`),
            eb.exists(eb.selectFrom('posts as p').select(sql.lit(1).as('one')).whereRef('p.id', '=', 'd.source_id').where(postVisibleToMembers())),
          ]),
        );
        break;
    }
  }
  return branches.length ? eb.or(branches) : sql<SqlBool>`false`;
}

export const ALL_TYPES: readonly SearchType[] = ['course', 'ebook', 'community', 'classroom', 'person', 'post'];

export const refKey = (ref: DocumentRef): string => `${ref.type}:${ref.id}`;

/** Which of `refs` the viewer may see (keys as `refKey`), by the same predicate: external engines re-check with it. */
export async function visibleRefs(q: Db, viewer: Viewer, refs: readonly DocumentRef[], now: Date): Promise<Set<string>> {
  if (!refs.length) return new Set();
  // A post's community and author come from the post itself (they never change); a person is their own author.
  const rows = await q
    .selectFrom(
      sql<{ type: string; source_id: string; community_id: string | null; author_id: string | null }>`(
        select r.type, r.source_id, p.community_id,
               case when r.type = 'person' then r.source_id else p.author_id end as author_id
        from unnest(${refs.map((r) => r.type)}::text[], ${refs.map((r) => r.id)}::uuid[]) as r(type, source_id)
        left join posts p on r.type = 'post' and p.id = r.source_id)`.as('d'),
    )
    .select(['d.type', 'd.source_id'])
    .where(documentVisibleTo(viewer, now))
    .execute();
  return new Set(rows.map((r) => `${r.type}:${r.source_id}`));
}

/**
 * What an external engine's filter needs to know about a viewer: the communities they belong to (private ones open
 * to them), those that barred them, and the people hidden from them (blocked either way, or muted).
 */
export async function viewerScope(
  q: Db,
  viewer: Viewer,
  now: Date,
): Promise<{ memberCommunityIds: string[]; barredCommunityIds: string[]; hiddenAuthorIds: string[] }> {
  if (!viewer) return { memberCommunityIds: [], barredCommunityIds: [], hiddenAuthorIds: [] };
  const [members, barred, hidden] = await Promise.all([
    q.selectFrom('community_members').select('community_id').where('user_id', '=', viewer.userId).execute(),
    q
      .selectFrom('community_bans as bar')
      .select('bar.community_id')
      .where('bar.user_id', '=', viewer.userId)
      .where((w) => w.or([w('bar.expires_at', 'is', null), w('bar.expires_at', '>', now)]))
      .execute(),
    q.selectFrom(excludedAuthorIds(viewer.userId).as('x')).select('x.id').execute(),
  ]);
  return {
    memberCommunityIds: members.map((r) => r.community_id),
    barredCommunityIds: barred.map((r) => r.community_id),
    hiddenAuthorIds: [...new Set(hidden.map((r) => r.id))],
  };
}
