/** Where the API is mounted (api/app.ts API_PREFIX); avatar URLs are paths on the same origin. */
const API_PREFIX = '/api/v1';

/**
 * The one URL of a person's avatar, for every DTO that shows a face (profiles, member lists, message authors):
 * `/api/v1/users/<userId>/avatar?v=<assetId>`. Unlike an asset's signed URL it never expires, so a page open for days
 * and a cached list keep working; it changes whenever the avatar does (the asset id is in it), so it can be cached for
 * long. Null without an avatar. Takes the `users` row as queries select it (`id`, `avatar_asset_id`).
 */
export function avatarUrlOf(row: { id: string; avatar_asset_id: string | null }): string | null {
  return row.avatar_asset_id ? `${API_PREFIX}/users/${row.id}/avatar?v=${row.avatar_asset_id}` : null;
}
