import type { IncomingMessage, ServerResponse } from 'node:http';
import zlib from 'node:zlib';

type WebHandler = (req: IncomingMessage, res: ServerResponse, next: () => void) => void;

/** Hashed build output: a file's name changes with its content, so browsers may keep it for a year without asking. */
export const IMMUTABLE_PREFIX = '/_app/immutable/';
export const IMMUTABLE_CACHE_CONTROL = 'public, max-age=31536000, immutable';

const COMPRESSIBLE = /^(text\/(?!event-stream)|application\/(javascript|json|manifest\+json|xml|[a-z.+-]*\+(json|xml))|image\/svg\+xml)/i;
/** Below this a compressed body is hardly smaller and costs a stream. */
const MIN_BYTES = 1024;

/** The encoding a response to these request headers should use: brotli before gzip, and neither when refused (q=0). */
export function negotiateEncoding(acceptEncoding: string | undefined): 'br' | 'gzip' | undefined {
  if (!acceptEncoding) return undefined;
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.toLowerCase().split(',')) {
    const [name, ...params] = part.trim().split(';');
    if (!name) continue;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    weights.set(name.trim(), q ? Number(q.slice(2)) || 0 : 1);
  }
  const weight = (name: string) => weights.get(name) ?? weights.get('*') ?? 0;
  if (weight('br') > 0 && weight('br') >= weight('gzip')) return 'br';
  if (weight('gzip') > 0) return 'gzip';
  return undefined;
}

/**
 * Wraps the SvelteKit (adapter-node) handler for delivery: hashed assets under /_app/immutable/ are marked immutable,
 * and text responses are compressed. Files the build precompressed (.br/.gz beside them) are sent as they are by the
 * adapter's static server; pages and any text file without a precompressed twin are compressed here as they stream
 * (brotli at a quality that keeps up with rendering, every write flushed so streamed page data is not held back).
 */
export function withWebDelivery(handler: WebHandler): WebHandler {
  return (req, res, next) => {
    const pathname = (req.url ?? '/').split('?')[0]!;
    const encoding = negotiateEncoding(req.headers['accept-encoding']);
    const immutable = pathname.startsWith(IMMUTABLE_PREFIX);
    // The adapter's static server picks a precompressed twin by substring and ignores q-values ("br;q=0"); tell it
    // the one encoding chosen here.
    req.headers['accept-encoding'] = encoding ?? 'identity';
    interceptHead(res, () => {
      // Only a hashed file that exists may be kept for a year: never a page, an API answer or a 404.
      if (immutable && res.statusCode === 200) res.setHeader('cache-control', IMMUTABLE_CACHE_CONTROL);
      else if (/immutable/.test(String(res.getHeader('cache-control') ?? ''))) res.removeHeader('cache-control');
      const type = String(res.getHeader('content-type') ?? '');
      if (!COMPRESSIBLE.test(type)) return;
      addVary(res, 'Accept-Encoding');
      if (res.getHeader('content-encoding')) return;
      if (!encoding || req.method === 'HEAD' || res.statusCode < 200 || res.statusCode === 204 || res.statusCode === 206 || res.statusCode === 304) return;
      if (/no-transform/.test(String(res.getHeader('cache-control') ?? ''))) return;
      const length = Number(res.getHeader('content-length'));
      if (Number.isFinite(length) && length < MIN_BYTES) return;
      res.setHeader('content-encoding', encoding);
      res.removeHeader('content-length');
      const etag = res.getHeader('etag');
      // The bytes differ from the file's, so a strong validator would lie.
      if (typeof etag === 'string' && !etag.startsWith('W/')) res.setHeader('etag', `W/${etag}`);
      compressBody(res, encoding);
    });
    handler(req, res, next);
  };
}

/**
 * Runs `decide` once, just before the status line and headers go out, with every header the handler set in place.
 * `decide` may replace `res.write`/`res.end` (to compress); writes that would send the headers implicitly come here
 * first, so not one byte goes out before the decision.
 */
function interceptHead(res: ServerResponse, decide: () => void): void {
  const { writeHead, write, end } = res;
  let decided = false;
  const decideOnce = () => {
    decided = true;
    res.writeHead = writeHead;
    res.write = write;
    res.end = end;
    decide();
  };
  res.writeHead = function (this: ServerResponse, status: number, ...rest: unknown[]) {
    const headers = typeof rest[0] === 'string' ? rest[1] : rest[0];
    const reason = typeof rest[0] === 'string' ? rest[0] : undefined;
    this.statusCode = status;
    // Fold headers passed here into the response so the decision sees them (and can change them).
    if (Array.isArray(headers)) {
      const pairs: unknown[] = Array.isArray(headers[0]) ? (headers as unknown[][]).flat() : headers;
      for (let i = 0; i + 1 < pairs.length; i += 2) this.setHeader(String(pairs[i]), pairs[i + 1] as string);
    } else if (headers && typeof headers === 'object') {
      for (const [name, value] of Object.entries(headers)) if (value !== undefined) this.setHeader(name, value as string);
    }
    if (reason !== undefined) this.statusMessage = reason;
    if (!decided) decideOnce();
    return writeHead.call(this, this.statusCode);
  } as ServerResponse['writeHead'];
  res.write = function (this: ServerResponse, ...args: unknown[]) {
    if (!decided) this.writeHead(this.statusCode);
    return (this.write as (...a: unknown[]) => boolean).apply(this, args);
  } as ServerResponse['write'];
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    if (!decided) this.writeHead(this.statusCode);
    return (this.end as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as ServerResponse['end'];
}

function addVary(res: ServerResponse, field: string): void {
  const current = String(res.getHeader('vary') ?? '');
  const fields = current.split(',').map((f) => f.trim().toLowerCase());
  if (fields.includes('*') || fields.includes(field.toLowerCase())) return;
  res.setHeader('vary', current ? `${current}, ${field}` : field);
}

/** Sends everything written to `res` from now on through a brotli or gzip stream (backpressure included). */
function compressBody(res: ServerResponse, encoding: 'br' | 'gzip'): void {
  const stream =
    encoding === 'br'
      ? zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } })
      : zlib.createGzip({ level: 6 });
  const flush = () =>
    encoding === 'br' ? stream.flush(zlib.constants.BROTLI_OPERATION_FLUSH) : (stream as zlib.Gzip).flush(zlib.constants.Z_SYNC_FLUSH);
  const write = res.write.bind(res) as (chunk: Buffer) => boolean;
  const end = res.end.bind(res) as () => ServerResponse;
  const on = res.on.bind(res);
  let ended = false;

  stream.on('data', (chunk: Buffer) => {
    if (!write(chunk)) stream.pause();
  });
  stream.on('end', () => end());
  stream.on('error', (err) => res.destroy(err));
  on('drain', () => stream.resume());
  res.on('close', () => {
    if (!res.writableFinished) stream.destroy();
  });

  const toBuffer = (chunk: unknown, enc?: unknown) =>
    typeof chunk === 'string' ? Buffer.from(chunk, typeof enc === 'string' ? (enc as BufferEncoding) : 'utf8') : Buffer.from(chunk as Uint8Array);

  res.write = function (chunk: unknown, enc?: unknown, cb?: unknown) {
    if (ended) return false;
    const callback = typeof enc === 'function' ? enc : cb;
    const ok = stream.write(toBuffer(chunk, enc), callback as never);
    flush();
    return ok;
  } as ServerResponse['write'];
  res.end = function (chunk?: unknown, enc?: unknown, cb?: unknown) {
    if (ended) return res;
    ended = true;
    if (typeof chunk === 'function') {
      res.once('finish', chunk as () => void);
      chunk = undefined;
    } else if (typeof enc === 'function') {
      res.once('finish', enc as () => void);
      enc = undefined;
    } else if (typeof cb === 'function') {
      res.once('finish', cb as () => void);
    }
    if (chunk !== undefined && chunk !== null) stream.end(toBuffer(chunk, enc));
    else stream.end();
    return res;
  } as ServerResponse['end'];
  // A writer waiting for 'drain' (a piped file, SvelteKit's streamed body) waits on the compressor it writes into.
  res.on = function (this: ServerResponse, event: string | symbol, listener: (...args: unknown[]) => void) {
    if (event === 'drain') {
      stream.on('drain', listener);
      return this;
    }
    return on(event, listener);
  } as ServerResponse['on'];
}
