import http from 'node:http';
import type { AddressInfo } from 'node:net';
import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { negotiateEncoding, withWebDelivery } from './webDelivery.ts';

type Handler = Parameters<typeof withWebDelivery>[0];

const servers: http.Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await new Promise((resolve) => server.close(resolve));
});

/** A web handler of the test's own behind the delivery wrapper, on a free port. */
async function serve(handler: Handler): Promise<string> {
  const delivered = withWebDelivery(handler);
  const server = http.createServer((req, res) => delivered(req, res, () => res.writeHead(404).end()));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function request(url: string, headers: Record<string, string>, method = 'GET'): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => http.request(url, { headers, method }, resolve).on('error', reject).end());
}

async function readAll(res: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const text = 'Lesson notes, said again and again. '.repeat(200);

describe('negotiateEncoding', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['gzip, deflate, br, zstd', 'br'],
    ['gzip', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['gzip;q=1, br;q=0.5', 'gzip'],
    ['identity', undefined],
    ['*', 'br'],
    ['*, br;q=0', 'gzip'],
    ['deflate', undefined],
  ])('%s → %s', (header, expected) => {
    expect(negotiateEncoding(header)).toBe(expected);
  });
});

describe('withWebDelivery', () => {
  it('compresses a page written without writeHead, and the decoded page is the one written', async () => {
    const base = await serve((_req, res) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.setHeader('content-length', Buffer.byteLength(text));
      res.end(text);
    });
    for (const [encoding, decode] of [['br', zlib.brotliDecompressSync], ['gzip', zlib.gunzipSync]] as const) {
      const res = await request(`${base}/page`, { 'accept-encoding': encoding });
      expect(res.headers['content-encoding']).toBe(encoding);
      expect(res.headers['content-length']).toBeUndefined();
      expect(res.headers.vary).toBe('Accept-Encoding');
      const body = await readAll(res);
      expect(body.length).toBeLessThan(text.length / 10);
      expect(decode(body).toString()).toBe(text);
    }
  });

  it('sends each streamed part as it is written instead of holding it for the end', async () => {
    let sendRest!: () => void;
    const base = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.write(`<p>first</p>${text}`);
      sendRest = () => res.end('<p>later</p>');
    });
    const res = await request(`${base}/streamed`, { 'accept-encoding': 'br' });
    expect(res.headers['content-encoding']).toBe('br');
    const decoded = res.pipe(zlib.createBrotliDecompress());
    let seen = '';
    await new Promise<void>((resolve) =>
      decoded.on('data', (chunk: Buffer) => {
        seen += chunk.toString();
        if (seen.includes('<p>first</p>')) resolve();
      }),
    );
    // The first part arrived while the response is still open.
    expect(seen).not.toContain('later');
    sendRest();
    await new Promise((resolve) => decoded.on('end', resolve));
    expect(seen.endsWith('<p>later</p>')).toBe(true);
  }, 10_000);

  it('leaves small bodies, binary types, event streams, HEAD and already-encoded responses as they are', async () => {
    const base = await serve((req, res) => {
      if (req.url === '/small') res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '5' }).end('hello');
      else if (req.url === '/image') res.writeHead(200, { 'content-type': 'image/png' }).end(Buffer.alloc(4096));
      else if (req.url === '/events') res.writeHead(200, { 'content-type': 'text/event-stream' }).end(text);
      else if (req.url === '/encoded') res.writeHead(200, { 'content-type': 'text/css', 'content-encoding': 'gzip' }).end(zlib.gzipSync(text));
      else res.writeHead(200, { 'content-type': 'text/html' }).end(text);
    });
    for (const path of ['/small', '/image', '/events']) {
      const res = await request(`${base}${path}`, { 'accept-encoding': 'br, gzip' });
      expect(res.headers['content-encoding'], path).toBeUndefined();
      await readAll(res);
    }
    const encoded = await request(`${base}/encoded`, { 'accept-encoding': 'br, gzip' });
    expect(encoded.headers['content-encoding']).toBe('gzip');
    expect(zlib.gunzipSync(await readAll(encoded)).toString()).toBe(text);
    const head = await request(`${base}/page`, { 'accept-encoding': 'br' }, 'HEAD');
    expect(head.headers['content-encoding']).toBeUndefined();
    expect(head.headers.vary).toBe('Accept-Encoding');
  });

  it('marks only files found under /_app/immutable/ as immutable', async () => {
    const base = await serve((req, res) => {
      // A handler that marks everything immutable, as a careless one might: only hashed files may keep it.
      res.setHeader('cache-control', 'public,max-age=31536000,immutable');
      if (req.url === '/_app/immutable/gone.js') res.writeHead(404, { 'content-type': 'text/plain' }).end('gone');
      else res.writeHead(200, { 'content-type': 'text/javascript' }).end(text);
    });
    const asset = await request(`${base}/_app/immutable/chunks/abc123.js`, {});
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const page = await request(`${base}/app/feed`, {});
    expect(page.headers['cache-control']).toBeUndefined();
    const missing = await request(`${base}/_app/immutable/gone.js`, {});
    expect(missing.headers['cache-control']).toBeUndefined();
  });
});
