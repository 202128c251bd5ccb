import type { Readable } from 'node:stream';
import type { AssetKind } from '../../contracts/media.ts';
import { db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import type { MediaService } from './service.ts';
import type { ByteRange } from './storage.ts';

/*
 * Delivery by short-lived signed URLs: `<prefix>/<id>/content?exp=<unix seconds>&sig=<hmac>[&download=1]` and
 * `<prefix>/<id>/thumbnail?…`, served by the API from whichever store holds the bytes (S3 included: the API streams
 * from the bucket rather than handing out presigned S3 URLs, so every response carries the same safety headers, the
 * expiry is judged on the domain clock, and the bucket never needs to be reachable from browsers).
 */

export type AssetVariant = 'content' | 'thumbnail';

/** Expiry times are rounded up to this, so URLs signed within one minute are identical (and cacheable). */
const EXPIRY_STEP_SECONDS = 60;

const message = (assetId: string, variant: AssetVariant, exp: number, download: boolean) =>
  `${assetId}\n${variant}\n${exp}\n${download ? 1 : 0}`;

export function signedAssetUrl(
  media: MediaService,
  input: { assetId: string; variant: AssetVariant; download: boolean; now: Date },
): { url: string; expiresAt: Date } {
  const earliest = Math.floor(input.now.getTime() / 1000) + media.urlTtlSeconds;
  const exp = Math.ceil(earliest / EXPIRY_STEP_SECONDS) * EXPIRY_STEP_SECONDS;
  const sig = media.signer.sign(message(input.assetId, input.variant, exp, input.download));
  const query = `exp=${exp}&sig=${sig}${input.download ? '&download=1' : ''}`;
  return { url: `${media.urlPrefix}/${input.assetId}/${input.variant}?${query}`, expiresAt: new Date(exp * 1000) };
}

/** Throws `forbidden` unless the URL was signed by us for this asset and variant and has not expired. */
export function verifyAssetUrl(
  deps: Deps,
  input: { assetId: string; variant: AssetVariant; exp?: string; sig?: string; download?: string },
): { download: boolean } {
  const exp = input.exp && /^\d{1,12}$/.test(input.exp) ? Number(input.exp) : NaN;
  const download = input.download === '1';
  const valid =
    Number.isFinite(exp) &&
    input.sig !== undefined &&
    (input.download === undefined || download) &&
    deps.media.signer.verify(message(input.assetId, input.variant, exp, download), input.sig);
  if (!valid) throw new AppError('forbidden', 'This link is not valid. Ask for the asset again to get a fresh link.');
  if (exp * 1000 <= deps.clock.now().getTime()) throw new AppError('forbidden', 'This link has expired. Ask for the asset again to get a fresh link.');
  return { download };
}

/** What a Range header asks of an object of `size` bytes: all of it, one range, or something unsatisfiable. */
export type RangeRequest = { kind: 'whole' } | { kind: 'partial'; range: ByteRange } | { kind: 'unsatisfiable' };

/**
 * One `bytes=` range (`a-b`, `a-`, `-n`). A header that is malformed, asks in another unit or for several ranges is
 * ignored (the whole object is served), as RFC 9110 allows; a well-formed range past the end is unsatisfiable.
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (!header) return { kind: 'whole' };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'whole' };
  const [, from, to] = match;
  if (from === '') {
    const suffix = Number(to);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(from);
  const end = to === '' ? size - 1 : Math.min(Number(to), size - 1);
  if (to !== '' && Number(to) < start) return { kind: 'whole' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', range: { start, end } };
}

export interface AssetContent {
  kind: AssetKind;
  mime: string;
  name: string;
  sha256: string | null;
  /** Size of the whole object. */
  byteSize: number;
  download: boolean;
  /** Null when the range could not be satisfied (answer 416). */
  body: { stream: Readable; range: ByteRange | null } | null;
}

/** Opens the bytes behind a signed URL, honouring one byte range. */
export async function openAssetContent(
  deps: Deps,
  input: { assetId: string; variant: AssetVariant; exp?: string; sig?: string; download?: string; range?: string },
): Promise<AssetContent> {
  const { download } = verifyAssetUrl(deps, input);
  const row = await db(deps.orm.em.fork())
    .selectFrom('assets')
    .select(['kind', 'mime', 'original_name', 'sha256', 'byte_size', 'storage_key', 'thumbnail_key'])
    .where('id', '=', input.assetId)
    .where('status', '=', 'ready')
    .executeTakeFirst();
  const key = input.variant === 'thumbnail' ? row?.thumbnail_key : row?.storage_key;
  if (!row || !key) throw new AppError('not_found', 'No such asset.');
  const thumbnail = input.variant === 'thumbnail';
  // The thumbnail's size is not recorded: ask the store (it is small and rarely asked for by range).
  const byteSize = thumbnail ? ((await deps.media.storage.head(key))?.byteSize ?? null) : row.byte_size;
  if (byteSize === null) throw new AppError('not_found', 'No such asset.');
  const base = {
    kind: row.kind,
    mime: thumbnail ? 'image/webp' : row.mime,
    name: thumbnail ? `${stem(row.original_name)}-thumbnail.webp` : row.original_name,
    sha256: thumbnail ? null : row.sha256,
    byteSize,
    download,
  };
  const wanted = parseRange(input.range, byteSize);
  if (wanted.kind === 'unsatisfiable') return { ...base, body: null };
  const range = wanted.kind === 'partial' ? wanted.range : null;
  const stream = await deps.media.storage.get(key, range ?? undefined);
  if (!stream) throw new AppError('not_found', 'No such asset.');
  return { ...base, body: { stream, range } };
}

const stem = (name: string) => (name.lastIndexOf('.') > 0 ? name.slice(0, name.lastIndexOf('.')) : name);
