import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { IdParam } from '../../contracts/communities.ts';
import { AssetEnvelope, AssetUrlQuery, OwnedAssetEnvelope } from '../../contracts/media.ts';
import { deleteAsset, getOwnedAsset } from '../../domain/media/assets.ts';
import { openAssetContent, type AssetVariant } from '../../domain/media/delivery.ts';
import { formatBytes, storeUpload, type IncomingFile } from '../../domain/media/upload.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { AppError } from '../../domain/shared/errors.ts';
import type { ApiContext } from '../context.ts';
import { actorOf } from '../middlewares/auth.ts';
import { reply, type RouteKit } from '../routeKit.ts';

const tags = ['assets'];
/** Room for the multipart framing around the file when judging a declared Content-Length. */
const MULTIPART_OVERHEAD = 64 * 1024;

/**
 * Media uploads and their delivery. The upload is multipart/form-data with one file part (any field name, `file` by
 * convention), streamed to storage as it arrives; the content routes serve the bytes behind short-lived signed URLs.
 */
export function assetRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'post',
      path: '/assets',
      summary:
        'Upload one file as multipart/form-data (one file part, e.g. field "file"). The type is judged from the content: ' +
        'images (PNG, JPEG, WebP, GIF; re-encoded without metadata, with a thumbnail), video (MP4, WebM), audio (MP3, ' +
        'M4A, Ogg, WAV), PDF, EPUB, ZIP and UTF-8 .txt/.md/.csv. Over the limit for its kind → 413 payload_too_large.',
      tags,
      auth: true,
      responses: { 201: { description: 'Stored and ready to attach', schema: AssetEnvelope } },
    },
    async (ctx) => {
      const actor = actorOf(ctx);
      const declared = Number(ctx.get('content-length') || 0);
      if (declared > deps.media.maxUploadBytes + MULTIPART_OVERHEAD) {
        ctx.set('Connection', 'close');
        throw new AppError('payload_too_large', `The upload is larger than ${formatBytes(deps.media.maxUploadBytes)}, the largest file accepted.`, {
          details: { maxBytes: deps.media.maxUploadBytes },
        });
      }
      try {
        return { asset: await receiveOneFile(ctx, deps.media.maxUploadBytes, (file) => storeUpload(deps, actor, file)) };
      } catch (err) {
        // Refused before the whole body arrived: stop reading it and close the connection after the answer.
        if (!ctx.req.complete) ctx.set('Connection', 'close');
        throw err;
      }
    },
  );

  route(
    {
      method: 'get',
      path: '/assets/:id',
      summary: 'One of my uploads (or any, for platform admins), with fresh signed URLs',
      tags,
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'The asset', schema: OwnedAssetEnvelope } },
    },
    async (ctx, { params }) => ({ asset: await getOwnedAsset(deps, actorOf(ctx), params.id) }),
  );

  route(
    {
      method: 'delete',
      path: '/assets/:id',
      summary: 'Delete one of my uploads that nothing uses yet (an attached asset → 409 conflict)',
      tags,
      auth: true,
      params: IdParam,
      responses: { 204: { description: 'Deleted with its stored bytes' } },
    },
    async (ctx, { params }) => {
      await deleteAsset(deps, actorOf(ctx), params.id);
    },
  );

  const content = (variant: AssetVariant, summary: string) =>
    route(
      {
        method: 'get',
        path: `/assets/:id/${variant}`,
        summary,
        tags,
        auth: false,
        params: IdParam,
        query: AssetUrlQuery,
        responses: {
          200: { description: 'The whole file', raw: 'application/octet-stream' },
          206: { description: 'The requested byte range (Content-Range)', raw: 'application/octet-stream' },
          416: { description: 'The range lies beyond the end of the file (Content-Range: bytes */size)' },
        },
      },
      async (ctx, { params, query }) => {
        const found = await openAssetContent(deps, { assetId: params.id, variant, ...query, range: ctx.get('range') || undefined });
        // The bytes are never a page of ours: no sniffing, no script, no plugins, no same-origin rights.
        ctx.set('X-Content-Type-Options', 'nosniff');
        ctx.set('Content-Security-Policy', "default-src 'none'; sandbox");
        ctx.set('Cross-Origin-Resource-Policy', 'same-site');
        ctx.set('Accept-Ranges', 'bytes');
        ctx.set('Cache-Control', 'private, max-age=300');
        if (found.sha256) ctx.set('ETag', `"${found.sha256}"`);
        if (!found.body) {
          ctx.set('Content-Range', `bytes */${found.byteSize}`);
          ctx.body = { error: { code: 'invalid_input', message: `The range lies beyond the end of the file (${found.byteSize} bytes).` } };
          return reply(416, undefined);
        }
        // filename= gets a plain-ASCII stand-in (some clients mishandle anything else); filename* carries the real name.
        ctx.attachment(found.name, { type: found.download ? 'attachment' : 'inline', fallback: found.name.replace(/[^\x20-\x7e]/g, '_') });
        // After attachment(), which would otherwise guess a type from the name.
        ctx.type = found.mime.startsWith('text/') ? `${found.mime}; charset=utf-8` : found.mime;
        const { stream, range } = found.body;
        // HEAD answers with the headers alone; the opened stream is released at once.
        if (ctx.method === 'HEAD') stream.destroy();
        else ctx.body = stream;
        if (!range) {
          ctx.length = found.byteSize;
          return reply(200, undefined);
        }
        ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${found.byteSize}`);
        ctx.length = range.end - range.start + 1;
        return reply(206, undefined);
      },
    );
  content('content', 'The bytes behind a signed asset URL (no sign-in: the signature is the permission); supports Range');
  content('thumbnail', 'The WebP thumbnail behind a signed thumbnail URL (images only)');
}

/**
 * Reads a multipart body holding exactly one file and hands that file, as a stream, to `store` while the body is still
 * arriving. A missing file part, a second file or a malformed body is `invalid_input`; a client that goes away
 * mid-body ends the file stream with an error, so `store` cleans up.
 */
function receiveOneFile<T>(ctx: ApiContext, maxFileBytes: number, store: (file: IncomingFile) => Promise<T>): Promise<T> {
  const req: IncomingMessage = ctx.req;
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: req.headers,
      // File names in UTF-8, as browsers send them (busboy's default is latin1).
      defParamCharset: 'utf8',
      // One byte over our largest limit lets the upload itself say which limit was crossed.
      limits: { files: 1, fileSize: maxFileBytes + 1, fields: 20, fieldSize: 4096, parts: 30, headerPairs: 20 },
    });
  } catch {
    throw new AppError('invalid_input', 'Send the file as multipart/form-data with one file part (e.g. a field named "file").');
  }

  return new Promise<T>((resolve, reject) => {
    let fileStream: Readable | undefined;
    let storing: Promise<T> | undefined;
    let settle: { resolve: () => void; reject: (err: Error) => void } | undefined;
    const requestDone = new Promise<void>((res, rej) => (settle = { resolve: res, reject: rej }));
    // Awaited by the upload; a rejection before it gets there must not count as unhandled.
    requestDone.catch(() => {});
    let failed: Error | undefined;

    const fail = (err: Error) => {
      if (failed) return;
      failed = err;
      settle?.reject(err);
      req.unpipe(parser);
      // Discard whatever else arrives; the answer closes the connection.
      req.resume();
      if (fileStream && !fileStream.readableEnded) fileStream.destroy(err);
      if (storing) storing.then(() => reject(err), () => reject(err));
      else reject(err);
    };

    parser.on('file', (_field, stream, info) => {
      if (storing) {
        stream.resume();
        return;
      }
      fileStream = stream;
      // Errors reach the upload through its reads; a late destroy must not count as unhandled.
      stream.on('error', () => {});
      storing = store({ name: info.filename, stream, requestDone });
      storing.then(
        (value) => resolve(value),
        (err: Error) => {
          if (!failed) {
            failed = err;
            req.unpipe(parser);
            req.resume();
          }
          reject(failed);
        },
      );
    });
    parser.on('filesLimit', () => fail(new AppError('invalid_input', 'Send exactly one file per upload.')));
    parser.on('partsLimit', () => fail(new AppError('invalid_input', 'The upload has too many parts; send one file.')));
    parser.on('fieldsLimit', () => fail(new AppError('invalid_input', 'The upload has too many fields; send one file.')));
    parser.on('error', (err: Error) => fail(new AppError('invalid_input', `The multipart body is malformed: ${err.message}`)));
    parser.on('close', () => {
      if (!storing) fail(new AppError('invalid_input', 'The upload has no file: send one file part (e.g. a field named "file").'));
      else settle?.resolve();
    });
    req.on('close', () => {
      if (!req.complete) fail(new AppError('invalid_input', 'The upload was interrupted before the whole file arrived.'));
    });
    req.pipe(parser);
  });
}
