import type { Next } from 'koa';
import { AppError } from '../../domain/shared/errors.ts';
import type { ApiContext } from '../context.ts';

/**
 * Reads a JSON request body with a hard size limit. Keeps the raw bytes too (`ctx.request.rawBody`), which signed
 * webhooks need. Non-JSON bodies are refused with `invalid_input`; oversized ones with 413. A multipart POST to one of
 * `multipartPaths` (uploads) is left unread for its route to stream.
 */
export function jsonBody(options: { limitBytes: number; multipartPaths?: readonly string[]; formPaths?: readonly string[] }) {
  const multipartPaths = new Set(options.multipartPaths ?? []);
  // Paths whose callers send a form, not JSON (a mail client's RFC 8058 one-click unsubscribe: List-Unsubscribe=One-Click).
  const formPaths = new Set(options.formPaths ?? []);
  return async (ctx: ApiContext, next: Next) => {
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(ctx.method)) return next();
    // Uploads: the route streams the multipart body itself; it is never read into memory here.
    if (ctx.method === 'POST' && multipartPaths.has(ctx.path) && ctx.is('multipart/form-data')) return next();
    const declared = Number(ctx.get('content-length') || 0);
    if (declared > options.limitBytes) throw new AppError('payload_too_large', 'The request body is too large.');
    const raw = await readLimited(ctx, options.limitBytes);
    (ctx.request as { rawBody?: Buffer }).rawBody = raw;
    if (raw.length === 0) {
      ctx.state.body = {};
      return next();
    }
    if (formPaths.has(ctx.path) && ctx.is('application/x-www-form-urlencoded')) {
      ctx.state.body = Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
      return next();
    }
    if (!ctx.is('application/json', 'application/*+json')) {
      throw new AppError('invalid_input', 'Send the body as JSON with Content-Type: application/json.');
    }
    try {
      ctx.state.body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new AppError('invalid_input', 'The request body is not valid JSON.');
    }
    return next();
  };
}

function readLimited(ctx: ApiContext, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const req = ctx.req;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        // Stop reading; the connection is answered with 413 and closed.
        ctx.set('Connection', 'close');
        reject(new AppError('payload_too_large', 'The request body is too large.'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(new AppError('invalid_input', `The request body could not be read: ${err.message}`));
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
