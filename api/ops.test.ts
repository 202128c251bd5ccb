import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { api, connectSocket, registerUser } from '../test/factories.ts';
import { startNode, type RunningNode } from '../test/nodes.ts';
import { freePort } from '../test/ports.ts';

const ALLOWED_ORIGIN = 'http://localhost:3000';
const OTHER_ORIGIN = 'https://evil.example';

/** Operations every build must document; the doc may have more (dev routes, new features). */
const KNOWN_OPERATIONS = [
  'post /api/v1/auth/register',
  'post /api/v1/auth/login',
  'post /api/v1/auth/refresh',
  'post /api/v1/auth/logout',
  'get /api/v1/auth/sessions',
  'delete /api/v1/auth/sessions/{id}',
  'post /api/v1/auth/verify-email',
  'post /api/v1/auth/verify-email/resend',
  'get /api/v1/me',
];

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await node?.close();
});


describe('health', () => {
  it('/health/live answers 200 without touching dependencies', async () => {
    const res = await api(node.url, 'GET', '/health/live');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('/health/ready answers 200 and lists each check', async () => {
    const res = await api(node.url, 'GET', '/health/ready');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ready', checks: { database: 'ok' } });
  });

  it.skipIf(!inject('redisUrl'))('/health/ready checks Redis when the node uses it', async () => {
    const withRedis = await startNode({ redis: true });
    try {
      const res = await api(withRedis.url, 'GET', '/health/ready');
      expect(res.status).toBe(200);
      expect(res.body.checks).toEqual({ database: 'ok', redis: 'ok' });
    } finally {
      await withRedis.close();
    }
  });

  it('/health/ready answers 503 naming redis when Redis is unreachable, and the node still starts and stops', async () => {
    // A port nothing listens on: connections are refused at once, so this stays fast.
    const deadPort = await freePort();
    const started = Date.now();
    // A recently revoked session makes start-up reload revocations into Redis; a dead Redis must not stop the node.
    const user = await registerUser(node.url);
    expect((await api(node.url, 'POST', '/api/v1/auth/logout', { token: user.accessToken })).status).toBe(204);
    const broken = await startNode({ env: { REDIS_URL: `redis://127.0.0.1:${deadPort}` } });
    try {
      const res = await api(broken.url, 'GET', '/health/ready');
      expect(res.status).toBe(503);
      expect(res.body.status).toBe('unavailable');
      expect(res.body.checks.database).toBe('ok');
      expect(res.body.checks.redis).toMatch(/^failing/);
      expect(res.body.error).toMatchObject({ code: 'unavailable', message: expect.stringMatching(/^redis /) });
      // Liveness is not readiness: the process is fine, only a dependency is not.
      expect((await api(broken.url, 'GET', '/health/live')).status).toBe(200);
    } finally {
      await broken.close();
    }
    expect(Date.now() - started).toBeLessThan(5000);
  });
});

describe('metrics', () => {
  it('exposes HTTP latency, open sockets and socket events in Prometheus text format', async () => {
    const user = await registerUser(node.url);
    await api(node.url, 'GET', '/api/v1/me', { token: user.accessToken });
    const socket = await connectSocket(node.url, user.accessToken);
    try {
      expect((await socket.timeout(3000).emitWithAck('session:hello', {})).ok).toBe(true);
      const res = await fetch(`${node.url}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(text).toContain('# TYPE edulure_http_request_duration_seconds histogram');
      // Labelled by route template, not raw path, so ids do not explode the series count.
      expect(text).toMatch(/edulure_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/me",status="200"\} [1-9]/);
      expect(text).toMatch(/^edulure_socket_connections_open [1-9]\d*$/m);
      expect(text).toMatch(/edulure_socket_events_total\{event="session:hello",outcome="ok"\} [1-9]/);
    } finally {
      socket.close();
    }
  });
});

describe('request ids', () => {
  it('echoes a well-formed x-request-id', async () => {
    const res = await api(node.url, 'GET', '/health/live', { headers: { 'x-request-id': 'trace-abc.123:9' } });
    expect(res.headers.get('x-request-id')).toBe('trace-abc.123:9');
  });

  it('generates one when none is sent, and replaces a malformed one', async () => {
    const none = await api(node.url, 'GET', '/health/live');
    const generated = none.headers.get('x-request-id');
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);
    const again = await api(node.url, 'GET', '/health/live');
    expect(again.headers.get('x-request-id')).not.toBe(generated);
    const bad = await api(node.url, 'GET', '/health/live', { headers: { 'x-request-id': 'has spaces<script>' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('carries the id on error responses too', async () => {
    const res = await api(node.url, 'GET', '/api/v1/me', { headers: { 'x-request-id': 'err-1' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toBe('err-1');
  });
});

describe('API documentation', () => {
  it('serves an OpenAPI 3.1 document with every route, each of which the router actually serves', async () => {
    const res = await api(node.url, 'GET', '/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });

    const documented: string[] = [];
    for (const [path, item] of Object.entries<Record<string, { security?: unknown[] }>>(doc.paths)) {
      for (const method of Object.keys(item)) documented.push(`${method} ${path}`);
    }
    expect(documented).toEqual(expect.arrayContaining(KNOWN_OPERATIONS));
    expect(documented).toContain('get /api/v1/dev/outbox'); // test nodes run without SMTP, so dev routes are on

    // The other direction: nothing documented is missing from the router.
    for (const operation of documented) {
      const [method, template] = operation.split(' ') as [string, string];
      const path = template.replace(/\{[^}]+\}/g, crypto.randomUUID());
      const probe = await api(node.url, method.toUpperCase(), path);
      const unrouted = probe.status === 404 && /^No route/.test(probe.body?.error?.message ?? '');
      expect(unrouted, `${operation} is documented but not routed`).toBe(false);
      expect(probe.status, operation).not.toBe(405);
      expect(probe.status, operation).toBeLessThan(500);
      const security: object[] = doc.paths[template][method].security ?? [];
      // An empty requirement ({}) among the alternatives means signing in is optional (the course catalogue).
      const needsAuth = security.length > 0 && !security.some((requirement) => Object.keys(requirement).length === 0);
      if (needsAuth) expect(probe.status, `${operation} without a token`).toBe(401);
    }
  });

  it('serves a human-readable HTML reference at /api/docs', async () => {
    const res = await fetch(`${node.url}/api/docs`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/i);
    for (const operation of KNOWN_OPERATIONS) expect(html).toContain(`<code>${operation.split(' ')[1]}</code>`);
  });
});

describe('CORS', () => {
  it('allows the configured origin, with credentials, on success and error responses', async () => {
    for (const path of ['/health/live', '/api/v1/me']) {
      const res = await api(node.url, 'GET', path, { headers: { origin: ALLOWED_ORIGIN } });
      expect(res.headers.get('access-control-allow-origin'), path).toBe(ALLOWED_ORIGIN);
      expect(res.headers.get('access-control-allow-credentials'), path).toBe('true');
      expect(res.headers.get('access-control-expose-headers'), path).toMatch(/x-request-id/);
    }
  });

  it('answers a preflight from the configured origin', async () => {
    const res = await api(node.url, 'OPTIONS', '/api/v1/auth/login', {
      headers: { origin: ALLOWED_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
    expect(res.headers.get('access-control-allow-methods')).toMatch(/POST/);
    expect(res.headers.get('access-control-allow-headers')).toMatch(/content-type/i);
  });

  it('gives other origins no CORS grant, for requests and preflights', async () => {
    const simple = await api(node.url, 'GET', '/health/live', { headers: { origin: OTHER_ORIGIN } });
    expect(simple.headers.get('access-control-allow-origin')).toBeNull();
    expect(simple.headers.get('access-control-allow-credentials')).toBeNull();
    const preflight = await api(node.url, 'OPTIONS', '/api/v1/auth/login', {
      headers: { origin: OTHER_ORIGIN, 'access-control-request-method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('security headers', () => {
  it('sets helmet headers on API responses, including errors, and hides the framework', async () => {
    for (const [path, status] of [
      ['/health/live', 200],
      ['/api/v1/me', 401],
      ['/api/v1/no-such-route', 404],
    ] as const) {
      const res = await api(node.url, 'GET', path);
      expect(res.status, path).toBe(status);
      expect(res.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(res.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(res.headers.get('content-security-policy'), path).toMatch(/default-src 'self'/);
      expect(res.headers.get('strict-transport-security'), path).toMatch(/max-age=\d+/);
      expect(res.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(res.headers.get('cross-origin-opener-policy'), path).toBe('same-origin');
      expect(res.headers.get('x-powered-by'), path).toBeNull();
    }
  });
});
