import { z } from 'zod';

/** What an uploaded file is, judged from its content (never from its name or declared type). */
export const ASSET_KINDS = ['image', 'video', 'audio', 'pdf', 'epub', 'file'] as const;
export const AssetKind = z.enum(ASSET_KINDS);
export type AssetKind = z.infer<typeof AssetKind>;

/** The multipart field that carries the one file of `POST /assets`. */
export const ASSET_FILE_FIELD = 'file';

/**
 * A ready asset as a viewer receives it. `url` (and `thumbnailUrl` for images) are short-lived signed URLs: fetch them
 * before `urlExpiresAt`, and ask the API again for fresh ones afterwards.
 */
export const AssetDto = z
  .object({
    id: z.uuid(),
    kind: AssetKind,
    /** The sniffed media type the content is served with. */
    mime: z.string(),
    byteSize: z.number().int().nonnegative(),
    /** The uploaded file's name, reduced to a safe display name (never a path). */
    name: z.string(),
    /** Pixels, for images; null otherwise. */
    width: z.number().int().nullable(),
    height: z.number().int().nullable(),
    url: z.string(),
    /** A small WebP preview (images only). */
    thumbnailUrl: z.string().nullable(),
    urlExpiresAt: z.iso.datetime(),
    createdAt: z.iso.datetime(),
  })
  .describe('Asset');
export type AssetDto = z.infer<typeof AssetDto>;

export const AssetEnvelope = z.object({ asset: AssetDto }).describe('AssetEnvelope');
export type AssetEnvelope = z.infer<typeof AssetEnvelope>;

/** `GET /assets/:id` also says whether the asset is in use (an attached asset cannot be deleted). */
export const OwnedAssetDto = AssetDto.extend({ attached: z.boolean() }).describe('OwnedAsset');
export type OwnedAssetDto = z.infer<typeof OwnedAssetDto>;
export const OwnedAssetEnvelope = z.object({ asset: OwnedAssetDto }).describe('OwnedAssetEnvelope');
export type OwnedAssetEnvelope = z.infer<typeof OwnedAssetEnvelope>;

/**
 * The query of a signed content URL. Loose on purpose: a missing, malformed or tampered signature is `forbidden`
 * (judged by the signature check), not a validation error.
 */
export const AssetUrlQuery = z.object({
  exp: z.string().max(20).optional(),
  sig: z.string().max(200).optional(),
  download: z.string().max(5).optional(),
});
export type AssetUrlQuery = z.infer<typeof AssetUrlQuery>;
