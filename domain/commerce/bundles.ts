import type { Selectable } from 'kysely';
import type { BundleDto, BundleList, CreateBundleInput, UpdateBundleInput } from '../../contracts/commerce.ts';
import { db, type DB, type Db } from '../../orm/db.ts';
import type { Viewer } from '../access/course.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';

/*
 * Bundles: several of a seller's own courses and ebooks sold together at one price (checkout shares it over the items
 * by their list prices and grants each). Every item must be published, authored by the seller — an owner or instructor
 * of the course, the owner of the ebook, so the money goes to whoever made it — and priced in the bundle's currency.
 * A bundle is visible to all once published; drafts and archived ones only to their seller.
 */

type BundleRow = Selectable<DB['bundles']>;
type ItemRef = { type: 'course' | 'ebook'; id: string };

/** A course or an ebook as a bundle sees it: the columns both tables share, and whether the seller authored it. */
type ItemRow = Pick<Selectable<DB['courses']> | Selectable<DB['ebooks']>, 'id' | 'title' | 'price_minor' | 'currency' | 'status'> & {
  type: ItemRef['type'];
  authored: boolean;
};

async function loadItems(q: Db, sellerId: string, refs: readonly ItemRef[]): Promise<Map<string, ItemRow>> {
  const courseIds = refs.filter((r) => r.type === 'course').map((r) => r.id);
  const ebookIds = refs.filter((r) => r.type === 'ebook').map((r) => r.id);
  const items = new Map<string, ItemRow>();
  if (courseIds.length) {
    const rows = await q
      .selectFrom('courses as k')
      .leftJoin('course_instructors as ci', (join) => join.onRef('ci.course_id', '=', 'k.id').on('ci.user_id', '=', sellerId))
      .select(['k.id', 'k.title', 'k.price_minor', 'k.currency', 'k.status', 'ci.role'])
      .where('k.id', 'in', courseIds)
      .execute();
    for (const r of rows) {
      items.set(`course:${r.id}`, { ...r, type: 'course', authored: r.role !== null });
    }
  }
  if (ebookIds.length) {
    const rows = await q.selectFrom('ebooks').select(['id', 'title', 'price_minor', 'currency', 'status', 'owner_id']).where('id', 'in', ebookIds).execute();
    for (const r of rows) {
      items.set(`ebook:${r.id}`, { ...r, type: 'ebook', authored: r.owner_id === sellerId });
    }
  }
  return items;
}

/** Every item sellable in this bundle, or `invalid_input` naming the first that is not. */
async function checkItems(q: Db, sellerId: string, currency: string, refs: readonly ItemRef[]): Promise<void> {
  const seen = new Set<string>();
  const items = await loadItems(q, sellerId, refs);
  for (const [index, ref] of refs.entries()) {
    const key = `${ref.type}:${ref.id}`;
    const fail = (message: string) => {
      throw new AppError('invalid_input', message, { details: { fields: { [`items.${index}`]: message } } });
    };
    if (seen.has(key)) fail('An item appears twice in the bundle.');
    seen.add(key);
    const item = items.get(key);
    // Someone else's content answers as if it did not exist.
    if (!item || !item.authored) fail(`No ${ref.type} of yours with that id.`);
    if (item!.status !== 'published') fail(`“${item!.title}” is not published.`);
    if (item!.price_minor <= 0 || item!.currency !== currency) fail(`“${item!.title}” must be priced in ${currency} to join this bundle.`);
  }
}

async function present(q: Db, bundle: BundleRow): Promise<BundleDto> {
  const refs = await q
    .selectFrom('bundle_items')
    .select(['item_type', 'item_id'])
    .where('bundle_id', '=', bundle.id)
    .orderBy('position')
    .orderBy('item_id')
    .execute();
  const items = await loadItems(
    q,
    bundle.seller_id,
    refs.map((r) => ({ type: r.item_type, id: r.item_id })),
  );
  return {
    id: bundle.id,
    title: bundle.title,
    description: bundle.description,
    priceMinor: bundle.price_minor,
    currency: bundle.currency,
    status: bundle.status,
    items: refs.flatMap((r) => {
      const item = items.get(`${r.item_type}:${r.item_id}`);
      return item ? [{ type: item.type, id: item.id, title: item.title, priceMinor: item.price_minor }] : [];
    }),
  };
}

/** POST /bundles */
export async function createBundle(deps: Deps, actor: Actor, input: CreateBundleInput): Promise<BundleDto> {
  const at = deps.clock.now();
  return deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    await checkItems(q, actor.userId, input.currency, input.items);
    const bundle = await q
      .insertInto('bundles')
      .values({
        id: crypto.randomUUID(),
        seller_id: actor.userId,
        title: input.title,
        description: input.description,
        price_minor: input.priceMinor,
        currency: input.currency,
        status: input.publish ? 'published' : 'draft',
        created_at: at,
        updated_at: at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await q
      .insertInto('bundle_items')
      .values(input.items.map((item, position) => ({ bundle_id: bundle.id, item_type: item.type, item_id: item.id, position })))
      .execute();
    return present(q, bundle);
  });
}

/** GET /bundles/:id — published bundles for everyone; drafts and archived ones for their seller only. */
export async function getBundle(deps: Deps, viewer: Viewer, bundleId: string): Promise<BundleDto> {
  const q = db(deps.orm.em.fork());
  const bundle = await q.selectFrom('bundles').selectAll().where('id', '=', bundleId).executeTakeFirst();
  if (!bundle || (bundle.status !== 'published' && bundle.seller_id !== viewer?.userId)) throw new AppError('not_found', 'No such bundle.');
  return present(q, bundle);
}

/** GET /me/bundles — the bundles I sell, every status, newest first. */
export async function listMyBundles(deps: Deps, actor: Actor): Promise<BundleList> {
  const q = db(deps.orm.em.fork());
  const bundles = await q.selectFrom('bundles').selectAll().where('seller_id', '=', actor.userId).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(200).execute();
  const data = [];
  for (const bundle of bundles) data.push(await present(q, bundle));
  return { data };
}

/** PATCH /bundles/:id — publish (its items checked again: they may have changed since) or archive; the seller only. */
export async function updateBundleStatus(deps: Deps, actor: Actor, bundleId: string, input: UpdateBundleInput): Promise<BundleDto> {
  const at = deps.clock.now();
  return deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const bundle = await q.selectFrom('bundles').selectAll().where('id', '=', bundleId).forUpdate().executeTakeFirst();
    if (!bundle || bundle.seller_id !== actor.userId) throw new AppError('not_found', 'No such bundle.');
    if (input.status === 'published' && bundle.status !== 'published') {
      const items = await q.selectFrom('bundle_items').select(['item_type', 'item_id']).where('bundle_id', '=', bundle.id).orderBy('position').execute();
      await checkItems(
        q,
        actor.userId,
        bundle.currency,
        items.map((i) => ({ type: i.item_type, id: i.item_id })),
      );
    }
    const updated = await q.updateTable('bundles').set({ status: input.status, updated_at: at }).where('id', '=', bundle.id).returningAll().executeTakeFirstOrThrow();
    return present(q, updated);
  });
}
