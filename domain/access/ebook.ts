import { expressionBuilder, sql, type Expression, type QueryCreator, type Selectable, type SqlBool } from 'kysely';
import type { CommunityRole } from '../../contracts/communities.ts';
import type { DB, Db } from '../../orm/db.ts';
import type { Actor } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { entitledTo } from './entitlement.ts';
import { MANAGING_ROLES, isManagingRole, isPlatformAdmin, mayCreateContent } from './roles.ts';

/*
 * Who may do what with an ebook. `EbookPolicy` decides for one loaded `EbookAccess`; `visibleEbookIds` is its view rule
 * as a subquery for lists. ebook.test.ts builds every case in a real database and proves the two agree.
 *
 * The rules (the authoring rule is the courses' one, domain/access/course.ts):
 * - Platform ebooks (no community) are created by platform instructors and admins; a community's ebooks by its owners
 *   and admins, platform admins, and platform instructors who moderate it. Once created, an ebook is edited by its owner, by platform admins and, for a
 *   community's ebook, by that community's owners and admins.
 * - Drafts exist only for their authors. A published ebook is visible wherever its community is (members; anyone for
 *   a public community; everyone for a platform ebook). An archived community shows nothing to readers.
 * - Readers entitled to an ebook (a free claim, a grant, a purchase) keep seeing it and reading it even once it is
 *   unpublished or they left its community: they hold it. Chapters are read by the entitled and by the authors.
 */

/** An ebooks row. */
export type Ebook = Selectable<DB['ebooks']>;

/** Everything EbookPolicy needs about one user and one ebook, loaded in one query. */
export interface EbookAccess {
  ebook: Ebook;
  /** The user's role in the ebook's community; null for a platform ebook or a non-member. */
  communityRole: CommunityRole | null;
  /** null for a platform ebook. */
  community: { visibility: 'public' | 'private'; archived: boolean } | null;
  /** An active entitlement of the user to this ebook. */
  entitled: boolean;
}

/** Is a published ebook of this community open to this reader (before entitlement)? */
function communityOpen(a: Pick<EbookAccess, 'community' | 'communityRole'>): boolean {
  if (!a.community) return true;
  return !a.community.archived && (a.community.visibility === 'public' || a.communityRole !== null);
}

/** Pure rules over loaded data, shared by every route. */
export const EbookPolicy = {
  /** Creating an ebook: the one rule for teaching content (`mayCreateContent`). */
  create(actor: Actor, communityRole: CommunityRole | null | undefined): boolean {
    return mayCreateContent(actor, communityRole);
  },
  /** Edit metadata and chapters, import, publish: the owner, platform admins, owners and admins of its community. */
  author(actor: Actor, a: EbookAccess): boolean {
    if (a.ebook.owner_id === actor.userId || isPlatformAdmin(actor)) return true;
    return a.ebook.community_id !== null && isManagingRole(a.communityRole);
  },
  view(actor: Actor, a: EbookAccess): boolean {
    if (EbookPolicy.author(actor, a) || a.entitled) return true;
    return a.ebook.status === 'published' && communityOpen(a);
  },
  /** Open chapters; keep a position, highlights and bookmarks. */
  read(actor: Actor, a: EbookAccess): boolean {
    return a.entitled || EbookPolicy.author(actor, a);
  },
  /** Take a free copy: a published ebook the reader can see. */
  claim(actor: Actor, a: EbookAccess): boolean {
    return a.ebook.status === 'published' && (a.entitled || communityOpen(a) || EbookPolicy.author(actor, a));
  },
} as const;

export type EbookAction = Exclude<keyof typeof EbookPolicy, 'create'>;

/** `lock`: takes the ebook row FOR UPDATE (inside a transaction), so changes to one ebook's chapters run one at a time. */
export async function loadEbookAccess(q: Db, userId: string, ebookId: string, options: { lock?: boolean } = {}): Promise<EbookAccess | null> {
  let query = q
    .selectFrom('ebooks as e')
    .leftJoin('communities as co', 'co.id', 'e.community_id')
    .leftJoin('community_members as cm', (join) => join.onRef('cm.community_id', '=', 'e.community_id').on('cm.user_id', '=', userId))
    .selectAll('e')
    .select([
      'cm.role as community_role',
      'co.visibility as community_visibility',
      'co.archived_at as community_archived_at',
      (eb) => sql<boolean>`${entitledTo(userId, 'ebook', eb.ref('e.id'))}`.as('entitled'),
    ])
    .where('e.id', '=', ebookId);
  if (options.lock) query = query.forUpdate('e');
  const row = await query.executeTakeFirst();
  if (!row) return null;
  const { community_role, community_visibility, community_archived_at, entitled, ...ebook } = row;
  return {
    ebook,
    communityRole: community_role,
    community: ebook.community_id && community_visibility ? { visibility: community_visibility, archived: community_archived_at !== null } : null,
    entitled,
  };
}

/** An ebooks row aliased `e`, the scope the predicate below is written in. */
type EbookScope = DB & { e: DB['ebooks'] };

/** `EbookPolicy.view` over the ebook row `e` of the surrounding query, for `actor`. */
export function ebookVisibleTo(actor: Pick<Actor, 'userId' | 'role'>): Expression<SqlBool> {
  if (isPlatformAdmin(actor)) return sql<SqlBool>`true`;
  const eb = expressionBuilder<EbookScope, 'e'>();
  return eb.or([
    eb('e.owner_id', '=', actor.userId),
    entitledTo(actor.userId, 'ebook', eb.ref('e.id')),
    eb.exists(
      eb
        .selectFrom('community_members as am')
        .select(sql.lit(1).as('one'))
        .whereRef('am.community_id', '=', 'e.community_id')
        .where('am.user_id', '=', actor.userId)
        .where('am.role', 'in', MANAGING_ROLES),
    ),
    eb.and([
      eb('e.status', '=', 'published'),
      eb.or([
        eb('e.community_id', 'is', null),
        eb.exists(
          eb
            .selectFrom('communities as vc')
            .select(sql.lit(1).as('one'))
            .whereRef('vc.id', '=', 'e.community_id')
            .where('vc.archived_at', 'is', null)
            .where((w) =>
              w.or([
                w('vc.visibility', '=', 'public'),
                w.exists(
                  w
                    .selectFrom('community_members as vm')
                    .select(sql.lit(1).as('one'))
                    .whereRef('vm.community_id', '=', 'vc.id')
                    .where('vm.user_id', '=', actor.userId),
                ),
              ]),
            ),
        ),
      ]),
    ]),
  ]);
}

/** The ids of the ebooks `actor` may see: `EbookPolicy.view` as a subquery, for lists. */
export function visibleEbookIds(q: QueryCreator<DB>, actor: Pick<Actor, 'userId' | 'role'>) {
  return q.selectFrom('ebooks as e').select('e.id').where(ebookVisibleTo(actor));
}

const REFUSALS: Record<EbookAction, string> = {
  view: 'No such ebook.',
  author: 'Only the ebook’s owner, its community’s owners and admins, and platform admins can change it.',
  read: 'Claim or buy this ebook to read it.',
  claim: 'This ebook is not available.',
};

/**
 * Checks one action. An ebook the actor may not even see answers `not_found` (drafts are not revealed); a visible
 * one answers `forbidden` with the reason.
 */
export function checkEbookAccess(actor: Actor, access: EbookAccess | null, action: EbookAction): EbookAccess {
  if (!access || !EbookPolicy.view(actor, access)) throw new AppError('not_found', 'No such ebook.');
  if (!EbookPolicy[action](actor, access)) throw new AppError('forbidden', REFUSALS[action]);
  return access;
}

export async function authorizeEbook(q: Db, actor: Actor, ebookId: string, action: EbookAction, options: { lock?: boolean } = {}): Promise<EbookAccess> {
  return checkEbookAccess(actor, await loadEbookAccess(q, actor.userId, ebookId, options), action);
}
