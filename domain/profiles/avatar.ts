import type { Readable } from 'node:stream';
import { AVATAR_MAX_BYTES } from '../../contracts/profiles.ts';
import { db, type Db } from '../../orm/db.ts';
import { attachAssets } from '../media/assets.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';

export { avatarUrlOf } from './avatarUrl.ts';

/**
 * Makes one of my uploads my avatar: it must be a ready image of mine, at most AVATAR_MAX_BYTES (uploads are already
 * typed from their content, decoded and re-encoded without metadata, with a thumbnail — the avatar is served as that
 * thumbnail). The asset is marked attached, so the clean-up job keeps it.
 */
export async function setAvatar(deps: Deps, actor: Actor, assetId: string): Promise<void> {
  await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const [row] = await attachAssets(deps, q, { ownerId: actor.userId, assetIds: [assetId], kinds: ['image'], at: deps.clock.now() });
    if (row!.byte_size > AVATAR_MAX_BYTES) {
      throw new AppError('payload_too_large', `An avatar can be at most ${AVATAR_MAX_BYTES / (1024 * 1024)} MB; choose a smaller image.`, {
        details: { maxBytes: AVATAR_MAX_BYTES },
      });
    }
    if (!row!.thumbnail_key) throw new AppError('invalid_input', 'This image has no preview; upload it again.');
    await q.updateTable('users').set({ avatar_asset_id: row!.id }).where('id', '=', actor.userId).execute();
  });
}

/** Removes my avatar (the image itself stays among my uploads). Idempotent. */
export async function removeAvatar(deps: Deps, actor: Actor): Promise<void> {
  await db(deps.orm.em.fork()).updateTable('users').set({ avatar_asset_id: null }).where('id', '=', actor.userId).execute();
}

export interface AvatarImage {
  stream: Readable;
  byteSize: number;
  /** The asset id, a strong validator: the image behind one avatar URL never changes. */
  etag: string;
}

/**
 * The image behind an avatar URL: the thumbnail (WebP, at most 320 px) of the user's CURRENT avatar. A URL naming an
 * earlier avatar, or a user without one, is `not_found` — replacing or removing an avatar stops serving the old one.
 */
export async function openAvatar(deps: Deps, userId: string, assetId: string): Promise<AvatarImage> {
  const row = await currentAvatar(db(deps.orm.em.fork()), userId);
  if (!row || row.asset_id !== assetId || !row.thumbnail_key) throw new AppError('not_found', 'No such avatar.');
  const head = await deps.media.storage.head(row.thumbnail_key);
  const stream = head && (await deps.media.storage.get(row.thumbnail_key));
  if (!head || !stream) throw new AppError('not_found', 'No such avatar.');
  return { stream, byteSize: head.byteSize, etag: row.asset_id };
}

function currentAvatar(q: Db, userId: string) {
  return q
    .selectFrom('users as u')
    .innerJoin('assets as a', 'a.id', 'u.avatar_asset_id')
    .select(['a.id as asset_id', 'a.thumbnail_key'])
    .where('u.id', '=', userId)
    .where('a.status', '=', 'ready')
    .executeTakeFirst();
}
