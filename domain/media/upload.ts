import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileTypeFromBuffer, fileTypeFromFile } from 'file-type';
import type { AssetDto } from '../../contracts/media.ts';
import { db } from '../../orm/db.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import { presentAsset, removeStoredObjects } from './assets.ts';
import { classifyUpload, displayName, textChecker, type Classified } from './fileTypes.ts';
import { processImage } from './images.ts';
import { originalKey, thumbnailKey } from './storage.ts';

/** Bytes looked at before the type is decided; enough for every format on the allow-list. */
const SNIFF_BYTES = 64 * 1024;

export interface IncomingFile {
  /** The name the client gave (any string: it is only ever displayed). */
  name: string | undefined;
  stream: Readable;
  /**
   * Resolves once the rest of the request is read and holds nothing else we refuse (a second file); rejects otherwise.
   * Awaited before the asset is made ready.
   */
  requestDone?: Promise<void>;
}

const tooLarge = (limit: number, what: string) =>
  new AppError('payload_too_large', `${what} larger than ${formatBytes(limit)}, the limit for this kind of file.`, {
    details: { maxBytes: limit },
  });

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
  if (bytes >= 1024) return `${Math.round((bytes / 1024) * 10) / 10} KB`;
  return `${bytes} bytes`;
}

/**
 * Stores one upload as an asset. The bytes stream to a spool file (never held whole in memory) while they are hashed,
 * counted and, after the first 64 KiB, typed from their content; the row is inserted `pending` as soon as the type is
 * known, and turns `ready` only after the stored object is complete. Images are decoded and re-encoded (EXIF and any
 * trailing payload stripped) with a thumbnail. On any failure — refused type, over the limit, the client going away —
 * the spool files, stored objects and pending row are removed; after a crash the clean-up job does it.
 */
export async function storeUpload(deps: Deps, actor: Actor, file: IncomingFile): Promise<AssetDto> {
  const { media } = deps;
  const id = crypto.randomUUID();
  const name = displayName(file.name);
  await mkdir(media.tempDir, { recursive: true });
  const spool = path.join(media.tempDir, `${id}.upload`);
  const reencoded = path.join(media.tempDir, `${id}.image`);
  const thumb = path.join(media.tempDir, `${id}.thumb`);
  const em = deps.orm.em.fork();
  let inserted = false;
  let stored = false;

  try {
    const handle = await open(spool, 'wx', 0o600);
    let classified: Classified | undefined;
    let size = 0;
    const hash = createHash('sha256');
    let head: Buffer[] = [];
    let headBytes = 0;
    let text: ReturnType<typeof textChecker> | undefined;

    const decide = async () => {
      const sample = Buffer.concat(head);
      head = [];
      const detected = (await fileTypeFromBuffer(sample))?.mime;
      classified = classifyUpload(detected, sample, name);
      if (classified.mime.startsWith('text/')) {
        text = textChecker();
        text.push(sample);
      }
      if (size > media.limits[classified.kind]) throw tooLarge(media.limits[classified.kind], `The ${classified.kind} is`);
      await db(em)
        .insertInto('assets')
        .values({
          id,
          owner_id: actor.userId,
          status: 'pending',
          kind: classified.kind,
          mime: classified.mime,
          original_name: name,
          storage_key: originalKey(id),
          created_at: deps.clock.now(),
        })
        .execute();
      inserted = true;
    };

    try {
      for await (const chunk of file.stream as AsyncIterable<Buffer>) {
        size += chunk.length;
        hash.update(chunk);
        if (classified) {
          if (size > media.limits[classified.kind]) throw tooLarge(media.limits[classified.kind], `The ${classified.kind} is`);
          text?.push(chunk);
        } else {
          if (size > media.maxUploadBytes) throw tooLarge(media.maxUploadBytes, 'The file is');
          head.push(chunk);
          headBytes += chunk.length;
        }
        await handle.write(chunk);
        if (!classified && headBytes >= SNIFF_BYTES) await decide();
      }
      if ((file.stream as { truncated?: boolean }).truncated) throw tooLarge(media.maxUploadBytes, 'The file is');
      if (size === 0) throw new AppError('invalid_input', 'The file is empty.');
      if (!classified) await decide();
      text?.end();
    } finally {
      await handle.close();
    }
    if (file.requestDone) await file.requestDone;

    let { kind, mime } = classified!;
    // The head decided the limit early; the whole file has the last word (an archive's later entries can make a ZIP
    // an Office document, for instance).
    if (size > SNIFF_BYTES && !mime.startsWith('text/')) ({ kind, mime } = recheck(classified!, (await fileTypeFromFile(spool))?.mime, name));

    let contentFile = spool;
    let byteSize = size;
    let sha256 = hash.digest('hex');
    let dimensions: { width: number; height: number } | null = null;
    if (kind === 'image') {
      dimensions = await processImage(spool, mime, reencoded, thumb, media.maxImagePixels);
      contentFile = reencoded;
      ({ byteSize, sha256 } = await digestFile(reencoded));
    }

    stored = true;
    await media.storage.put(originalKey(id), createReadStream(contentFile), { byteSize, contentType: mime });
    if (dimensions) {
      await media.storage.put(thumbnailKey(id), createReadStream(thumb), { byteSize: (await stat(thumb)).size, contentType: 'image/webp' });
    }
    const row = await db(em)
      .updateTable('assets')
      .set({
        status: 'ready',
        kind,
        mime,
        byte_size: byteSize,
        sha256,
        width: dimensions?.width ?? null,
        height: dimensions?.height ?? null,
        thumbnail_key: dimensions ? thumbnailKey(id) : null,
        ready_at: deps.clock.now(),
      })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .returningAll()
      .executeTakeFirst();
    // Gone means the clean-up job took it for abandoned (an upload that ran for hours): nothing to make ready.
    if (!row) throw new AppError('unavailable', 'The upload took too long and was discarded; please try again.');
    return presentAsset(deps, row, deps.clock.now());
  } catch (err) {
    if (inserted) {
      await db(em)
        .deleteFrom('assets')
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .execute()
        .catch((e) => deps.logger.warn({ err: String(e), assetId: id }, 'could not remove a failed upload'));
    }
    if (stored) await removeStoredObjects(deps, { id, storage_key: originalKey(id), thumbnail_key: thumbnailKey(id) });
    throw err;
  } finally {
    await Promise.all([spool, reencoded, thumb].map((f) => rm(f, { force: true })));
  }
}

/** The type from the whole file must agree in kind with the one from its head. */
function recheck(early: Classified, detected: string | undefined, name: string): Classified {
  if (!detected) return early;
  const final = classifyUpload(detected, Buffer.alloc(0), name);
  if (final.kind !== early.kind) throw new AppError('invalid_input', `The file's content is not consistent: it starts as ${early.mime} but reads as ${final.mime}.`);
  return final;
}

async function digestFile(file: string): Promise<{ byteSize: number; sha256: string }> {
  const hash = createHash('sha256');
  let byteSize = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    byteSize += chunk.length;
  }
  return { byteSize, sha256: hash.digest('hex') };
}
