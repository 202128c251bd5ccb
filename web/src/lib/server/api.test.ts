import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { apiRequest, internalApiOrigin, toErrorBody } from './api.ts';

interface Seen {
  method: string | undefined;
  url: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}

let server: Server;
let origin: string;
let seen: Seen[] = [];
let reply: (url: string) => { status: number; body?: unknown } = () => ({ status: 200, body: { ok: true } });

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      const { status, body: payload } = reply(req.url ?? '');
      res.writeHead(status, payload === undefined ? {} : { 'content-type': 'application/json' });
      res.end(payload === undefined ? undefined : JSON.stringify(payload));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const originalEnv = { ...process.env };
afterEach(() => {
  process.env = { ...originalEnv };
  seen = [];
});

function caller(userAgent = 'TestBrowser/1.0', ip = '203.0.113.9') {
  return {
    request: new Request('http://web.test/signin', { headers: { 'user-agent': userAgent } }),
    getClientAddress: () => ip,
  };
}

describe('apiRequest', () => {
  it('forwards the browser identity with the internal secret and bearer token', async () => {
    process.env.EDULURE_INTERNAL_API = `${origin}/`;
    process.env.EDULURE_INTERNAL_SECRET = 's3cret';
    reply = () => ({ status: 201, body: { hello: 'world' } });

    const result = await apiRequest<{ hello: string }>(caller(), '/api/v1/things', {
      method: 'POST',
      body: { a: 1 },
      token: 'tok',
    });

    expect(result).toEqual({ ok: true, status: 201, data: { hello: 'world' } });
    const [request] = seen;
    expect(request?.url).toBe('/api/v1/things');
    expect(request?.method).toBe('POST');
    expect(request?.headers['x-edulure-internal']).toBe('s3cret');
    expect(request?.headers['x-edulure-client-ip']).toBe('203.0.113.9');
    expect(request?.headers['user-agent']).toBe('TestBrowser/1.0');
    expect(request?.headers.authorization).toBe('Bearer tok');
    expect(JSON.parse(request?.body ?? '')).toEqual({ a: 1 });
  });

  it('does not claim a client IP without the internal secret', async () => {
    process.env.EDULURE_INTERNAL_API = origin;
    delete process.env.EDULURE_INTERNAL_SECRET;
    reply = () => ({ status: 204 });
    const result = await apiRequest(caller(), '/api/v1/auth/logout', { method: 'POST' });
    expect(result).toEqual({ ok: true, status: 204, data: undefined });
    expect(seen[0]?.headers['x-edulure-client-ip']).toBeUndefined();
    expect(seen[0]?.headers['x-edulure-internal']).toBeUndefined();
  });

  it('returns the API error body as is', async () => {
    process.env.EDULURE_INTERNAL_API = origin;
    reply = () => ({ status: 429, body: { error: { code: 'rate_limited', message: 'Slow down', retryAfter: 12 } } });
    const result = await apiRequest(caller(), '/api/v1/auth/login', { method: 'POST', body: {} });
    expect(result).toEqual({ ok: false, status: 429, error: { code: 'rate_limited', message: 'Slow down', retryAfter: 12 } });
  });

  it('reports an unreachable API as unavailable', async () => {
    process.env.EDULURE_INTERNAL_API = 'http://127.0.0.1:1';
    const result = await apiRequest(caller(), '/api/v1/me');
    expect(result).toMatchObject({ ok: false, status: 503, error: { code: 'unavailable' } });
  });
});

describe('internalApiOrigin', () => {
  it('falls back to the default port when unset (vite dev)', () => {
    delete process.env.EDULURE_INTERNAL_API;
    expect(internalApiOrigin()).toBe('http://127.0.0.1:3000');
  });
});

describe('toErrorBody', () => {
  it('derives a code from the status when a proxy answered with HTML', () => {
    expect(toErrorBody(502, undefined)).toEqual({ code: 'unavailable', message: 'The request failed (HTTP 502).' });
    expect(toErrorBody(404, { nope: true }).code).toBe('not_found');
  });

  it('replaces unknown codes but keeps details', () => {
    expect(toErrorBody(400, { error: { code: 'weird', message: 'Bad', details: { fields: {} } } })).toEqual({
      code: 'invalid_input',
      message: 'Bad',
      details: { fields: {} },
    });
  });
});
