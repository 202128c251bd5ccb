import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  haveChromium,
  reportMissingChromium,
  seriousA11yViolations,
  signedInApi,
  signIn,
  startProduct,
  uniqueEmail,
  waitForChannel,
  type Product,
} from './harness.ts';

reportMissingChromium('web delivery');

const BUILD_CLIENT = fileURLToPath(new URL('../../build/client', import.meta.url));
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** What the chat page may cost a visitor in compressed JavaScript (issue 13). */
const CHAT_JS_BUDGET = 150 * 1024;

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The bytes as sent, still compressed (fetch would decode them). */
  body: Buffer;
}

function getRaw(url: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

const DECODE = { br: zlib.brotliDecompressSync, gzip: zlib.gunzipSync } as const;

describe.skipIf(!haveChromium)('web delivery: compression, caching and the JavaScript a page ships', () => {
  let product: Product;

  beforeAll(async () => {
    product = await startProduct();
  });

  afterAll(async () => {
    await product?.close();
  });

  it('sends a hashed asset compressed as the browser asks, byte for byte the built file, cached for a year', async () => {
    const landing = await getRaw(`${product.baseUrl}/`);
    const linked = [...new Set(landing.body.toString().match(/\/_app\/immutable\/[^"']+\.js/g) ?? [])];
    expect(linked.length, 'the landing page links its scripts').toBeGreaterThan(0);
    // The largest of them: the entry files are a few bytes, too small to be worth compressing.
    const files = await Promise.all(linked.map(async (url) => ({ url, bytes: await readFile(path.join(BUILD_CLIENT, url)) })));
    const { url: script, bytes: onDisk } = files.sort((a, b) => b.bytes.length - a.bytes.length)[0]!;

    for (const encoding of ['br', 'gzip'] as const) {
      const res = await getRaw(`${product.baseUrl}${script}`, { 'accept-encoding': encoding });
      expect(res.status).toBe(200);
      expect(res.headers['content-encoding']).toBe(encoding);
      expect(res.headers['cache-control']).toBe(IMMUTABLE);
      expect(res.headers.vary).toMatch(/accept-encoding/i);
      expect(res.body.length).toBeLessThan(onDisk.length);
      expect(DECODE[encoding](res.body).equals(onDisk)).toBe(true);
    }
    // A client that accepts neither gets the file itself.
    const plain = await getRaw(`${product.baseUrl}${script}`, { 'accept-encoding': 'identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.equals(onDisk)).toBe(true);
    // "br;q=0" refuses brotli.
    const refused = await getRaw(`${product.baseUrl}${script}`, { 'accept-encoding': 'gzip, br;q=0' });
    expect(refused.headers['content-encoding']).toBe('gzip');
  });

  it('compresses pages but never lets them, or API answers, be cached as immutable', async () => {
    for (const encoding of ['br', 'gzip'] as const) {
      const page = await getRaw(`${product.baseUrl}/signin`, { 'accept-encoding': encoding });
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/^text\/html/);
      expect(page.headers['content-encoding']).toBe(encoding);
      expect(page.headers.vary).toMatch(/accept-encoding/i);
      expect(page.headers['cache-control'] ?? '').not.toMatch(/immutable|max-age=31536000/);
      const html = DECODE[encoding](page.body).toString();
      expect(html).toContain('</html>');
      expect(html).toMatch(/Sign in/);
    }
    const missing = await getRaw(`${product.baseUrl}/_app/immutable/chunks/not-a-chunk.js`, { 'accept-encoding': 'br' });
    expect(missing.status).toBe(404);
    expect(missing.headers['cache-control'] ?? '').not.toMatch(/immutable/);
    const api = await getRaw(`${product.baseUrl}/api/v1/openapi.json`, { 'accept-encoding': 'br, gzip' });
    expect(api.status).toBe(200);
    expect(api.headers['cache-control'] ?? '').not.toMatch(/immutable|max-age=31536000/);
  });

  it('the chat page loads at most 150 KB of compressed JavaScript and no validation library', async () => {
    const email = uniqueEmail('lin');
    const api = await signedInApi(product.baseUrl, email, 'Lin Delivery');
    const { community } = await api<{ community: { id: string } }>('POST', '/communities', {
      name: `Delivery ${Date.now().toString(36)}`,
      visibility: 'public',
    });
    const { channel } = await api<{ channel: { id: string } }>('POST', `/communities/${community.id}/channels`, { name: 'weighing' });

    const { context, page } = await product.newDevice();
    await signIn(page, product.baseUrl, email);
    // Signing in loaded the app shell; count the chat page as a first visit would, with nothing in the HTTP cache.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const scripts = new Map<string, { url: string; headerBytes: number; bytes?: number }>();
    cdp.on('Network.responseReceived', (e) => {
      if (e.type === 'Script') scripts.set(e.requestId, { url: e.response.url, headerBytes: e.response.encodedDataLength });
    });
    cdp.on('Network.loadingFinished', (e) => {
      const script = scripts.get(e.requestId);
      if (script) script.bytes = e.encodedDataLength - script.headerBytes;
    });
    const zodIn: string[] = [];
    page.on('response', (response) => {
      if (/\.js(\?|$)/.test(response.url())) void response.text().then((text) => text.includes('$ZodType') && zodIn.push(response.url()), () => {});
    });
    await page.goto(`/app/c/${community.id}/${channel.id}`);
    await waitForChannel(page);
    await page.waitForLoadState('networkidle');

    const loaded = [...scripts.values()];
    const total = loaded.reduce((sum, s) => sum + (s.bytes ?? 0), 0);
    process.stderr.write(`[delivery] chat page: ${loaded.length} scripts, ${(total / 1024).toFixed(1)} KB compressed\n`);
    expect(loaded.every((s) => s.bytes !== undefined)).toBe(true);
    expect(zodIn).toEqual([]);
    expect(loaded.length).toBeGreaterThan(5);
    // Svelte, the router and the socket client alone weigh more than this: a smaller figure would be a broken count.
    expect(total).toBeGreaterThan(40 * 1024);
    expect(total, `compressed JavaScript on the chat page: ${(total / 1024).toFixed(1)} KB`).toBeLessThanOrEqual(CHAT_JS_BUDGET);
    expect(await seriousA11yViolations(page)).toEqual([]);
  });
});
