import { sql } from 'kysely';
import type { GrantType, ProductDto, ProductType } from '../../contracts/commerce.ts';
import { db, type Db } from '../../orm/db.ts';
import { classroomVisibleTo } from '../access/classroom.ts';
import { communityVisibleTo } from '../access/community.ts';
import { courseVisibleTo, viewerId, type Viewer } from '../access/course.ts';
import { ebookVisibleTo } from '../access/ebook.ts';
import type { Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';

/*
 * What is for sale. A product id is the id of the thing sold — a course, an ebook, a classroom (a ticket), a community
 * tier (a membership) or a bundle — and its price lives on that row. `loadProduct` resolves an id to what buying it
 * grants and who sells it; `productOnSaleTo` decides whether a viewer may see it for sale (published, visible, not
 * ended); `buyerRefusal` whether this buyer may buy it now (not its seller, not already holding it).
 */

export interface ProductGrant {
  type: GrantType;
  id: string;
  title: string;
  /** The item's own price (a bundle shares its price over its items by these). */
  listPriceMinor: number;
}

export interface Product {
  id: string;
  type: ProductType;
  title: string;
  priceMinor: number;
  /** null only for a free thing (price 0), which is not for sale. */
  currency: string;
  sellerId: string;
  communityId: string | null;
  interval: 'month' | 'year' | null;
  grants: ProductGrant[];
  /** On sale at all: a published course, ebook or bundle, an active tier, a class neither ended nor cancelled. */
  listed: boolean;
}

const NOBODY = { userId: viewerId(null), role: 'user' as const };

/** Which table an id belongs to (ids are random uuids: at most one matches). */
async function productTypeOf(q: Db, productId: string): Promise<ProductType | null> {
  const { rows } = await sql<{ type: ProductType }>`
    select 'course' as type from courses where id = ${productId}
    union all select 'ebook' from ebooks where id = ${productId}
    union all select 'classroom' from classrooms where id = ${productId}
    union all select 'tier' from community_tiers where id = ${productId}
    union all select 'bundle' from bundles where id = ${productId}
    limit 1`.execute(q);
  return rows[0]?.type ?? null;
}

/** Resolves a product id; null when nothing has that id. Says nothing about who may see or buy it. */
export async function loadProduct(q: Db, productId: string): Promise<Product | null> {
  const type = await productTypeOf(q, productId);
  switch (type) {
    case null:
      return null;
    case 'course':
    case 'ebook': {
      const row =
        type === 'course'
          ? await q.selectFrom('courses').select(['id', 'title', 'price_minor', 'currency', 'owner_id', 'community_id', 'status']).where('id', '=', productId).executeTakeFirstOrThrow()
          : await q.selectFrom('ebooks').select(['id', 'title', 'price_minor', 'currency', 'owner_id', 'community_id', 'status']).where('id', '=', productId).executeTakeFirstOrThrow();
      return {
        id: row.id,
        type,
        title: row.title,
        priceMinor: row.price_minor,
        currency: row.currency ?? '',
        sellerId: row.owner_id,
        communityId: row.community_id,
        interval: null,
        grants: [{ type, id: row.id, title: row.title, listPriceMinor: row.price_minor }],
        listed: row.status === 'published',
      };
    }
    case 'classroom': {
      const row = await q
        .selectFrom('classrooms')
        .select(['id', 'title', 'price_minor', 'currency', 'host_id', 'community_id', 'status'])
        .where('id', '=', productId)
        .executeTakeFirstOrThrow();
      return {
        id: row.id,
        type,
        title: row.title,
        priceMinor: row.price_minor,
        currency: row.currency ?? '',
        sellerId: row.host_id,
        communityId: row.community_id,
        interval: null,
        grants: [{ type: 'classroom', id: row.id, title: row.title, listPriceMinor: row.price_minor }],
        listed: row.status === 'scheduled' || row.status === 'live',
      };
    }
    case 'tier': {
      const row = await q
        .selectFrom('community_tiers as t')
        .innerJoin('communities as c', 'c.id', 't.community_id')
        .select((eb) => [
          't.id',
          't.name',
          't.price_minor',
          't.currency',
          't.interval',
          't.active',
          't.community_id',
          'c.name as community_name',
          'c.archived_at',
          // The community's owner sells its memberships (its creator when it has no owner any more).
          eb
            .fn.coalesce(
              eb
                .selectFrom('community_members as m')
                .select('m.user_id')
                .whereRef('m.community_id', '=', 'c.id')
                .where('m.role', '=', 'owner')
                .orderBy('m.joined_at')
                .limit(1),
              'c.created_by_id',
            )
            .as('seller_id'),
        ])
        .where('t.id', '=', productId)
        .executeTakeFirstOrThrow();
      if (!row.seller_id) return null;
      const title = `${row.community_name}: ${row.name}`.slice(0, 200);
      return {
        id: row.id,
        type,
        title,
        priceMinor: row.price_minor,
        currency: row.currency,
        sellerId: row.seller_id,
        communityId: row.community_id,
        interval: row.interval,
        grants: [{ type: 'tier', id: row.id, title, listPriceMinor: row.price_minor }],
        listed: row.active && row.archived_at === null,
      };
    }
    case 'bundle': {
      const bundle = await q
        .selectFrom('bundles')
        .select(['id', 'title', 'price_minor', 'currency', 'seller_id', 'status'])
        .where('id', '=', productId)
        .executeTakeFirstOrThrow();
      const items = await q
        .selectFrom('bundle_items as i')
        .leftJoin('courses as k', (join) => join.onRef('k.id', '=', 'i.item_id').on('i.item_type', '=', 'course'))
        .leftJoin('ebooks as e', (join) => join.onRef('e.id', '=', 'i.item_id').on('i.item_type', '=', 'ebook'))
        .select(['i.item_type', 'i.item_id', 'k.title as course_title', 'k.price_minor as course_price', 'e.title as ebook_title', 'e.price_minor as ebook_price'])
        .where('i.bundle_id', '=', productId)
        .orderBy('i.position')
        .orderBy('i.item_id')
        .execute();
      const grants = items
        .filter((i) => (i.item_type === 'course' ? i.course_title : i.ebook_title) !== null)
        .map((i) => ({
          type: i.item_type,
          id: i.item_id,
          title: (i.item_type === 'course' ? i.course_title : i.ebook_title) ?? '',
          listPriceMinor: (i.item_type === 'course' ? i.course_price : i.ebook_price) ?? 0,
        }));
      return {
        id: bundle.id,
        type,
        title: bundle.title,
        priceMinor: bundle.price_minor,
        currency: bundle.currency,
        sellerId: bundle.seller_id,
        communityId: null,
        interval: null,
        grants,
        listed: bundle.status === 'published' && grants.length > 0,
      };
    }
  }
}

/** Whether the viewer may see the product (its own visibility rule, from domain/access). */
async function visibleTo(q: Db, viewer: Viewer, product: Product): Promise<boolean> {
  const actor = viewer ?? NOBODY;
  switch (product.type) {
    case 'course':
      return (await q.selectFrom('courses as k').select('k.id').where('k.id', '=', product.id).where(courseVisibleTo(viewer)).executeTakeFirst()) !== undefined;
    case 'ebook':
      return (await q.selectFrom('ebooks as e').select('e.id').where('e.id', '=', product.id).where(ebookVisibleTo(actor)).executeTakeFirst()) !== undefined;
    case 'classroom':
      return (await q.selectFrom('classrooms as k').select('k.id').where('k.id', '=', product.id).where(classroomVisibleTo(actor)).executeTakeFirst()) !== undefined;
    case 'tier':
      return (
        (await q
          .selectFrom('communities as c')
          .select('c.id')
          .where('c.id', '=', product.communityId!)
          .where(communityVisibleTo(actor.userId))
          .executeTakeFirst()) !== undefined
      );
    case 'bundle':
      return true;
  }
}

/**
 * The product as the viewer may buy it: it exists, is on sale and visible to them (else `not_found`, revealing
 * nothing), and has a price (a free thing is enrolled in or claimed instead: `conflict`).
 */
export async function productOnSaleTo(q: Db, viewer: Viewer, productId: string): Promise<Product> {
  const product = await loadProduct(q, productId);
  if (!product || !product.listed || !(await visibleTo(q, viewer, product))) throw new AppError('not_found', 'No such product.');
  if (product.priceMinor <= 0) throw new AppError('conflict', 'This is free: enrol in it or claim it instead.');
  return product;
}

/** The grants (`type:id`) the user holds an active entitlement to at `at`. */
export async function heldGrants(q: Db, userId: string, grants: readonly Pick<ProductGrant, 'type' | 'id'>[], at: Date): Promise<Set<string>> {
  if (grants.length === 0) return new Set();
  const rows = await q
    .selectFrom('entitlements')
    .select(['resource_type', 'resource_id'])
    .where('user_id', '=', userId)
    .where('resource_id', 'in', grants.map((g) => g.id))
    .where('revoked_at', 'is', null)
    .where((w) => w.or([w('expires_at', 'is', null), w('expires_at', '>', at)]))
    .execute();
  return new Set(rows.map((r) => `${r.resource_type}:${r.resource_id}`));
}

/** Whether the user already holds everything the product grants. */
export async function ownsProduct(q: Db, userId: string, product: Product, at: Date): Promise<boolean> {
  if (product.grants.length === 0) return false;
  const held = await heldGrants(q, userId, product.grants, at);
  return product.grants.every((g) => held.has(`${g.type}:${g.id}`));
}

const OWNED = 'You already own this.';

/**
 * Why this buyer may not buy the product now, or null: its seller and those who teach or host it need not buy it, and
 * nobody buys what they already hold (a tier: any active membership tier of that community).
 */
export async function buyerRefusal(q: Db, buyerId: string, product: Product, at: Date): Promise<AppError | null> {
  if (product.sellerId === buyerId) return new AppError('conflict', 'You sell this: there is nothing to buy.');
  switch (product.type) {
    case 'course': {
      const seat = await q.selectFrom('course_instructors').select('role').where('course_id', '=', product.id).where('user_id', '=', buyerId).executeTakeFirst();
      if (seat) return new AppError('conflict', 'You teach this course: instructors need not buy it.');
      break;
    }
    case 'classroom': {
      const row = await q
        .selectFrom('classrooms as k')
        .leftJoin('community_members as cm', (join) => join.onRef('cm.community_id', '=', 'k.community_id').on('cm.user_id', '=', buyerId))
        .leftJoin('classroom_registrations as r', (join) => join.onRef('r.classroom_id', '=', 'k.id').on('r.user_id', '=', buyerId))
        .select((eb) => [
          'cm.role',
          'r.status as registration',
          eb
            .exists(eb.selectFrom('classroom_cohosts as h').select(sql.lit(1).as('one')).whereRef('h.classroom_id', '=', 'k.id').where('h.user_id', '=', buyerId))
            .$castTo<boolean>()
            .as('is_cohost'),
        ])
        .where('k.id', '=', product.id)
        .executeTakeFirstOrThrow();
      if (row.is_cohost) return new AppError('conflict', 'You co-host this class: hosts need no ticket.');
      if (row.registration === 'registered') return new AppError('conflict', OWNED);
      if (!row.role) return new AppError('forbidden', 'Join the community first: its classes are for its members.');
      break;
    }
    case 'tier': {
      const held = await q
        .selectFrom('entitlements as en')
        .innerJoin('community_tiers as t', 't.id', 'en.resource_id')
        .select('en.id')
        .where('en.user_id', '=', buyerId)
        .where('en.resource_type', '=', 'tier')
        .where('t.community_id', '=', product.communityId!)
        .where('en.revoked_at', 'is', null)
        .where((w) => w.or([w('en.expires_at', 'is', null), w('en.expires_at', '>', at)]))
        .executeTakeFirst();
      if (held) return new AppError('conflict', 'You already hold a membership of this community.');
      const role = await q
        .selectFrom('community_members')
        .select('role')
        .where('community_id', '=', product.communityId!)
        .where('user_id', '=', buyerId)
        .executeTakeFirst();
      if (role && (role.role === 'owner' || role.role === 'admin')) return new AppError('conflict', 'You run this community: there is nothing to buy.');
      return null;
    }
    default:
      break;
  }
  if (await ownsProduct(q, buyerId, product, at)) return new AppError('conflict', OWNED);
  return null;
}

/** GET /products/:id — what the product is and costs, and whether the caller already holds it. */
export async function getProduct(deps: Deps, viewer: Viewer, productId: string): Promise<ProductDto> {
  const q = db(deps.orm.em.fork());
  const product = await productOnSaleTo(q, viewer, productId);
  const seller = await q.selectFrom('users').select(['id', 'display_name']).where('id', '=', product.sellerId).executeTakeFirstOrThrow();
  return {
    id: product.id,
    type: product.type,
    title: product.title,
    priceMinor: product.priceMinor,
    currency: product.currency,
    seller: { id: seller.id, displayName: seller.display_name },
    interval: product.interval,
    grants: product.grants.map((g) => ({ type: g.type, id: g.id, title: g.title })),
    owned: viewer ? await ownsProduct(q, viewer.userId, product, deps.clock.now()) : false,
  };
}
