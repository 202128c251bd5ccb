import { z } from 'zod';
import type { ClaimResultDto, EbookDetailDto, EbookDto } from '../../contracts/ebooks.ts';
import { db } from '../../orm/db.ts';
import { loadCommunityAccess, CommunityPolicy } from '../access/community.ts';
import { authorizeEbook, visibleEbookIds } from '../access/ebook.ts';
import { grantEntitlement } from '../access/entitlement.ts';
import { isPlatformAdmin } from '../access/roles.ts';
import { decodeCursor, encodeCursor } from '../communities/cursor.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import './events.ts';
import { ebookDtoQuery, loadEbookDetail, presentEbook } from './presenters.ts';

/** The catalogue: published ebooks by who may see them, one ebook's page, and taking a free copy. */

const CatalogueCursor = z.tuple([z.iso.datetime(), z.uuid()]);

export interface ListEbooksFilter {
  communityId?: string;
  cursor?: string;
  limit: number;
}

/** Published ebooks the caller may see, newest first (of one community, or everywhere). */
export async function listEbooks(deps: Deps, actor: Actor, filter: ListEbooksFilter): Promise<{ data: EbookDto[]; nextCursor: string | null }> {
  const q = db(deps.orm.em.fork());
  const { communityId } = filter;
  if (communityId) {
    const community = await loadCommunityAccess(q, actor.userId, communityId, { requireView: false });
    if (!CommunityPolicy.view(community) && !isPlatformAdmin(actor)) throw new AppError('not_found', 'No such community.');
  }
  const after = decodeCursor(CatalogueCursor, filter.cursor);
  const rows = await ebookDtoQuery(q)
    .where('e.status', '=', 'published')
    .where('e.id', 'in', visibleEbookIds(q, actor))
    .$if(communityId !== undefined, (qb) => qb.where('e.community_id', '=', communityId!))
    .$if(after !== undefined, (qb) =>
      qb.where((eb) => eb(eb.refTuple('e.published_at', 'e.id'), '<', eb.tuple(new Date(after![0]), after![1]))),
    )
    .orderBy('e.published_at', 'desc')
    .orderBy('e.id', 'desc')
    .limit(filter.limit + 1)
    .execute();
  const page = rows.slice(0, filter.limit);
  const last = page[page.length - 1];
  return {
    data: page.map(presentEbook),
    nextCursor: rows.length > filter.limit && last?.published_at ? encodeCursor([last.published_at.toISOString(), last.id]) : null,
  };
}

export async function getEbook(deps: Deps, actor: Actor, ebookId: string): Promise<EbookDetailDto> {
  const q = db(deps.orm.em.fork());
  return loadEbookDetail(q, actor, await authorizeEbook(q, actor, ebookId, 'view'));
}

/**
 * Takes a free copy of a published ebook: an entitlement with source 'free'. Claiming again changes nothing (and
 * concurrent claims write one entitlement: the partial unique index decides). A priced ebook is claimed by buying it.
 */
export async function claimEbook(deps: Deps, actor: Actor, ebookId: string): Promise<ClaimResultDto & { changed: boolean }> {
  const now = deps.clock.now();
  const result = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const access = await authorizeEbook(q, actor, ebookId, 'claim');
    let changed = false;
    if (!access.entitled) {
      if (access.ebook.price_minor > 0) {
        throw new AppError('conflict', 'This is a paid ebook. Buy it first, then it is yours to read.');
      }
      changed = await grantEntitlement(q, { userId: actor.userId, resource: { type: 'ebook', id: ebookId }, source: 'free', at: now });
    }
    const ebook = await loadEbookDetail(q, actor, { ...access, entitled: true });
    return { changed, ebook, entitlement: ebook.myEntitlement! };
  });
  if (result.changed) await deps.events.emit('ebook.claimed', { ebookId, userId: actor.userId });
  return result;
}
