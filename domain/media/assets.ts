import type { Selectable } from 'kysely';
import type { AssetDto, AssetKind, OwnedAssetDto } from '../../contracts/media.ts';
import { db, uuids, type DB, type Db } from '../../orm/db.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { signedAssetUrl } from './delivery.ts';

/** An `assets` row as every query here selects it (all columns). */
export type AssetRow = Selectable<DB['assets']>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const article = (kind: string) => (/^[aeiou]/.test(kind) ? `an ${kind}` : `a ${kind}`);

/**
 * Marks assets as used by something (a lesson, a cover, a submission, an import), inside the caller's transaction so
 * the use and the mark commit together; the clean-up job never removes an attached asset. Every id must be a READY
 * asset, owned by `ownerId` (unless null: staff or system use) and of one of `kinds` when given; otherwise nothing is
 * marked and `invalid_input` names the first problem. Returns the rows in the order of `assetIds` (duplicates once).
 */
export async function attachAssets(
  _deps: Deps,
  q: Db,
  input: { ownerId: string | null; assetIds: readonly string[]; kinds?: readonly AssetKind[]; at: Date },
): Promise<AssetRow[]> {
  const ids = [...new Set(input.assetIds)];
  if (ids.length === 0) return [];
  const malformed = ids.find((id) => !UUID.test(id));
  if (malformed !== undefined) throw new AppError('invalid_input', `"${malformed.slice(0, 60)}" is not an asset id.`);
  // Locked so the clean-up job (which deletes only unattached rows) waits for this transaction, then sees it attached.
  const rows = await q.selectFrom('assets').selectAll().where('id', '=', (eb) => eb.fn.any(uuids(ids))).forUpdate().execute();
  const byId = new Map(rows.map((row) => [row.id, row]));
  for (const id of ids) {
    const row = byId.get(id);
    if (!row || (input.ownerId !== null && row.owner_id !== input.ownerId)) {
      throw new AppError('invalid_input', `Asset ${id} is not one of your uploads. Upload the file first (POST /api/v1/assets).`);
    }
    if (row.status !== 'ready') throw new AppError('invalid_input', `Asset ${id} is still uploading; attach it once its upload has finished.`);
    if (input.kinds && !input.kinds.includes(row.kind)) {
      const wanted = input.kinds.map(article).join(' or ');
      throw new AppError('invalid_input', `Asset ${id} is ${article(row.kind)}; ${wanted} is needed here.`);
    }
  }
  const updated = await q
    .updateTable('assets')
    .set((eb) => ({ attached_at: eb.fn.coalesce('attached_at', eb.val(input.at)) }))
    .where('id', '=', (eb) => eb.fn.any(uuids(ids)))
    .returningAll()
    .execute();
  const updatedById = new Map(updated.map((row) => [row.id, row]));
  return ids.map((id) => updatedById.get(id)!);
}

/**
 * The DTOs of READY assets among `assetIds`, with freshly signed URLs (a missing or pending id is simply absent from
 * the map). The caller has already decided that the viewer may see them. `download` signs URLs that are served as
 * attachments (Content-Disposition: attachment) rather than inline.
 */
export async function assetDtos(
  deps: Deps,
  q: Db,
  assetIds: readonly string[],
  options: { download?: boolean } = {},
): Promise<Map<string, AssetDto>> {
  const ids = [...new Set(assetIds)].filter((id) => UUID.test(id));
  if (ids.length === 0) return new Map();
  const rows = await q
    .selectFrom('assets')
    .selectAll()
    .where('id', '=', (eb) => eb.fn.any(uuids(ids)))
    .where('status', '=', 'ready')
    .execute();
  const now = deps.clock.now();
  return new Map(rows.map((row) => [row.id, presentAsset(deps, row, now, options)]));
}

/** One ready asset as a viewer receives it, with URLs signed to expire `urlTtlSeconds` after `now`. */
export function presentAsset(deps: Deps, row: AssetRow, now: Date, options: { download?: boolean } = {}): AssetDto {
  const url = signedAssetUrl(deps.media, { assetId: row.id, variant: 'content', download: options.download ?? false, now });
  const thumbnail = row.thumbnail_key ? signedAssetUrl(deps.media, { assetId: row.id, variant: 'thumbnail', download: false, now }) : null;
  return {
    id: row.id,
    kind: row.kind,
    mime: row.mime,
    byteSize: row.byte_size,
    name: row.original_name,
    width: row.width,
    height: row.height,
    url: url.url,
    thumbnailUrl: thumbnail?.url ?? null,
    urlExpiresAt: url.expiresAt.toISOString(),
    createdAt: row.created_at.toISOString(),
  };
}

/** Who may see an asset's record through the assets API: its owner, and platform admins. */
export const AssetPolicy = {
  view: (actor: Actor, row: Pick<AssetRow, 'owner_id'>) => row.owner_id === actor.userId || actor.role === 'admin',
  remove: (actor: Actor, row: Pick<AssetRow, 'owner_id'>) => row.owner_id === actor.userId,
};

async function loadReady(q: Db, assetId: string): Promise<AssetRow | undefined> {
  if (!UUID.test(assetId)) return undefined;
  return q.selectFrom('assets').selectAll().where('id', '=', assetId).where('status', '=', 'ready').executeTakeFirst();
}

/** `GET /assets/:id`: the owner or a platform admin; to anyone else (and while uploading) it does not exist. */
export async function getOwnedAsset(deps: Deps, actor: Actor, assetId: string, options: { download?: boolean } = {}): Promise<OwnedAssetDto> {
  const row = await loadReady(db(deps.orm.em.fork()), assetId);
  if (!row || !AssetPolicy.view(actor, row)) throw new AppError('not_found', 'No such asset.');
  return { ...presentAsset(deps, row, deps.clock.now(), options), attached: row.attached_at !== null };
}

/**
 * Deletes one of my uploads that nothing uses yet; an attached asset is refused with `conflict` (remove it from what
 * uses it first). The row goes first, in a transaction that re-checks it is unattached; the stored objects after.
 */
export async function deleteAsset(deps: Deps, actor: Actor, assetId: string): Promise<void> {
  const removed = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const row = UUID.test(assetId) ? await q.selectFrom('assets').selectAll().where('id', '=', assetId).forUpdate().executeTakeFirst() : undefined;
    if (!row || row.status !== 'ready' || !AssetPolicy.view(actor, row)) throw new AppError('not_found', 'No such asset.');
    if (!AssetPolicy.remove(actor, row)) throw new AppError('forbidden', 'Only the uploader can delete an asset.');
    if (row.attached_at) throw new AppError('conflict', 'This asset is in use (a course, lesson, ebook or submission uses it) and cannot be deleted.');
    await q.deleteFrom('assets').where('id', '=', assetId).execute();
    return row;
  });
  await removeStoredObjects(deps, removed);
}

/** Deletes an asset's stored objects; a failure is logged (the row is already gone, so nothing will serve them). */
export async function removeStoredObjects(deps: Deps, row: Pick<AssetRow, 'id' | 'storage_key' | 'thumbnail_key'>): Promise<void> {
  const keys = [row.storage_key, row.thumbnail_key ?? `${row.id}/thumbnail`];
  await Promise.all(
    keys.map((key) =>
      deps.media.storage.delete(key).catch((err) => deps.logger.warn({ err: String(err), key }, 'could not delete a stored asset object')),
    ),
  );
}

/**
 * The bytes of a ready asset, for server-side processing (an EPUB import). Refuses (payload_too_large) an asset over
 * `maxBytes` before reading it; reads at most `maxBytes` whatever the store returns.
 */
export async function readAssetBytes(deps: Deps, assetId: string, maxBytes: number): Promise<{ bytes: Buffer; mime: string; kind: AssetKind }> {
  const row = await loadReady(db(deps.orm.em.fork()), assetId);
  if (!row) throw new AppError('not_found', 'No such asset.');
  if (row.byte_size > maxBytes) {
    throw new AppError('payload_too_large', `The file is ${row.byte_size} bytes; at most ${maxBytes} bytes can be processed.`);
  }
  const stream = await deps.media.storage.get(row.storage_key);
  if (!stream) throw new AppError('unavailable', 'The stored file is missing; upload it again.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      stream.destroy();
      throw new AppError('payload_too_large', `The file is larger than ${maxBytes} bytes.`);
    }
    chunks.push(chunk);
  }
  return { bytes: Buffer.concat(chunks), mime: row.mime, kind: row.kind };
}
