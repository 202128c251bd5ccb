import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../contracts/errors.ts';
import { api, registerUser, type ApiResponse } from '../test/factories.ts';
import { startNode, type RunningNode } from '../test/nodes.ts';

/**
 * Hostile and sloppy input against every operation in the OpenAPI document, so a new route is covered the moment it is
 * registered. Whatever comes in, the answer is a 4xx with `{error:{code,message}}` — never a 500, never a crash.
 */

interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  required?: string[];
  format?: string;
}

interface Operation {
  method: string;
  template: string;
  needsAuth: boolean;
  bodySchema?: JsonSchema;
  pathParams: { name: string; schema?: JsonSchema }[];
  queryParams: { name: string; schema?: JsonSchema }[];
}

const BODY_METHODS = new Set(['post', 'put', 'patch', 'delete']);
/** Above the node's 1 MB body limit. */
const OVERSIZED = 1024 * 1024 + 1024;

let node: RunningNode;
let doc: { paths: Record<string, Record<string, any>>; components?: { schemas?: Record<string, JsonSchema> } };
let operations: Operation[];

beforeAll(async () => {
  node = await startNode();
  const res = await api(node.url, 'GET', '/api/v1/openapi.json');
  expect(res.status).toBe(200);
  doc = res.body;
  operations = Object.entries(doc.paths).flatMap(([template, item]) =>
    Object.entries(item).map(([method, op]) => {
      const parameters: { in: string; name: string; schema?: JsonSchema }[] = op.parameters ?? [];
      return {
        method,
        template,
        // An empty requirement ({}) among the alternatives: signing in is optional (the course catalogue).
        needsAuth: (op.security ?? []).length > 0 && !(op.security as object[]).some((r) => Object.keys(r).length === 0),
        bodySchema: op.requestBody?.content?.['application/json']?.schema,
        pathParams: parameters.filter((p) => p.in === 'path'),
        queryParams: parameters.filter((p) => p.in === 'query'),
      };
    }),
  );
});
afterAll(async () => node?.close());

afterEach(async () => {
  expect((await api(node.url, 'GET', '/health/live')).status, 'the node must keep answering').toBe(200);
});

function resolve(schema: JsonSchema | undefined): JsonSchema | undefined {
  if (!schema?.$ref) return schema;
  const name = schema.$ref.replace('#/components/schemas/', '');
  return resolve(doc.components?.schemas?.[name]);
}

/** Fills a path template; `{param}` gets a fresh UUID unless an override is given. */
function fill(template: string, overrides: Record<string, string> = {}): string {
  return template.replace(/\{([^}]+)\}/g, (_m, name: string) => encodeURIComponent(overrides[name] ?? crypto.randomUUID()));
}

/** A value of a type the schema does not allow. */
function wrongTypeFor(schema: JsonSchema | undefined): unknown {
  const types = [resolve(schema)?.type ?? []].flat();
  if (types.includes('string')) return 12345;
  if (types.includes('number') || types.includes('integer')) return 'not a number';
  if (types.includes('boolean')) return 'not a boolean';
  if (types.includes('array')) return { not: 'an array' };
  return ['not', 'an', 'object'];
}

/** A fresh user per operation, so an operation that ends its own session cannot disturb the next one. */
/**
 * Signed-in callers, taken in turn: bad input is refused before anything is done with it, so no call changes what the
 * next one sees. A pool (rather than a user per operation, a password hash each) keeps the run short as the API grows,
 * and spreading the calls over it keeps every per-person budget (feed writes: 30 a minute) far from its limit.
 */
const POOL_SIZE = 40;
const tokens: string[] = [];
let turn = 0;
async function tokenFor(op: Operation): Promise<string | undefined> {
  if (!op.needsAuth) return undefined;
  if (tokens.length === 0) {
    for (let i = 0; i < POOL_SIZE; i += 8) {
      const batch = await Promise.all(Array.from({ length: 8 }, () => registerUser(node.url)));
      tokens.push(...batch.map((user) => user.accessToken));
    }
  }
  return tokens[turn++ % tokens.length];
}

function expectRefused(res: ApiResponse<any>, label: string, expected?: { status: number; code: ErrorCode }) {
  expect(res.status, `${label}: ${JSON.stringify(res.body)}`).toBeGreaterThanOrEqual(400);
  expect(res.status, `${label}: never a server error`).toBeLessThan(500);
  expect(res.body, label).toEqual({
    error: expect.objectContaining({ code: expect.any(String), message: expect.any(String) }),
  });
  expect(ERROR_CODES, `${label}: code ${res.body.error.code}`).toContain(res.body.error.code);
  if (expected) {
    expect(res.status, label).toBe(expected.status);
    expect(res.body.error.code, label).toBe(expected.code);
  }
}

const label = (op: Operation) => `${op.method.toUpperCase()} ${op.template}`;

// Each test walks every operation of the API (well over a hundred requests), so they get more than the default budget.
describe('every documented operation refuses bad input cleanly', { timeout: 120_000 }, () => {
  it('the document lists operations to exercise', () => {
    expect(operations.length).toBeGreaterThan(5);
    expect(operations.some((op) => op.bodySchema)).toBe(true);
    expect(operations.some((op) => op.pathParams.length > 0)).toBe(true);
    expect(operations.some((op) => op.needsAuth)).toBe(true);
  });

  it('malformed JSON → 400 invalid_input (every method that takes a body)', async () => {
    for (const op of operations.filter((o) => BODY_METHODS.has(o.method))) {
      const token = await tokenFor(op);
      for (const rawBody of ['{"email":', '{email: "a"}', "{'a':1}", '\u0000', 'undefined', '{"a":1}}']) {
        const res = await api(node.url, op.method.toUpperCase(), fill(op.template), {
          token,
          rawBody,
          headers: { 'content-type': 'application/json' },
        });
        expectRefused(res, `${label(op)} body ${JSON.stringify(rawBody)}`, { status: 400, code: 'invalid_input' });
      }
    }
  });

  it('a body that is not JSON → 400 invalid_input (every method that takes a body)', async () => {
    for (const op of operations.filter((o) => BODY_METHODS.has(o.method))) {
      const token = await tokenFor(op);
      for (const [contentType, rawBody] of [
        ['text/plain', 'email=a@b.c'],
        ['application/x-www-form-urlencoded', 'email=a%40b.c&password=x'],
        ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--'],
        ['application/xml', '<a>1</a>'],
      ] as const) {
        const res = await api(node.url, op.method.toUpperCase(), fill(op.template), {
          token,
          rawBody,
          headers: { 'content-type': contentType },
        });
        expectRefused(res, `${label(op)} as ${contentType}`, { status: 400, code: 'invalid_input' });
      }
    }
  });

  it('a body over 1 MB → 413 payload_too_large, declared or streamed', async () => {
    for (const op of operations.filter((o) => BODY_METHODS.has(o.method))) {
      const token = await tokenFor(op);
      const big = JSON.stringify({ pad: 'x'.repeat(OVERSIZED) });
      const declared = await api(node.url, op.method.toUpperCase(), fill(op.template), {
        token,
        rawBody: big,
        headers: { 'content-type': 'application/json' },
      });
      expectRefused(declared, `${label(op)} with Content-Length`, { status: 413, code: 'payload_too_large' });

      // Chunked, with no Content-Length to refuse up front: the limit applies while reading.
      const streamed = await sendChunked(op, token, big);
      expectRefused(streamed, `${label(op)} chunked`, { status: 413, code: 'payload_too_large' });
    }
  });

  it('a JSON body of the wrong shape → 400 invalid_input (operations with a body schema)', async () => {
    for (const op of operations.filter((o) => o.bodySchema)) {
      const token = await tokenFor(op);
      for (const body of [[], [{}], 5, 'a string', true, { email: 5 }]) {
        const res = await api(node.url, op.method.toUpperCase(), fill(op.template), { token, body });
        expectRefused(res, `${label(op)} body ${JSON.stringify(body)}`, { status: 400, code: 'invalid_input' });
      }
      expectRefused(await api(node.url, op.method.toUpperCase(), fill(op.template), { token, body: null }), `${label(op)} null`, {
        status: 400,
        code: 'invalid_input',
      });
    }
  });

  it('each body field with a wrong-typed value → 400 naming that field', async () => {
    for (const op of operations.filter((o) => o.bodySchema)) {
      const schema = resolve(op.bodySchema)!;
      const token = await tokenFor(op);
      for (const [field, fieldSchema] of Object.entries(schema.properties ?? {})) {
        const res = await api(node.url, op.method.toUpperCase(), fill(op.template), {
          token,
          body: { [field]: wrongTypeFor(fieldSchema) },
        });
        expectRefused(res, `${label(op)} ${field}`, { status: 400, code: 'invalid_input' });
        expect(res.body.error.details?.fields, `${label(op)} names ${field}`).toHaveProperty([field]);
      }
    }
  });

  it('unknown fields → 400 naming them, wherever the schema forbids extra properties', async () => {
    const strict = operations.filter((o) => resolve(o.bodySchema)?.additionalProperties === false);
    expect(strict.length).toBeGreaterThan(0);
    for (const op of strict) {
      const token = await tokenFor(op);
      const declared = Object.keys(resolve(op.bodySchema)?.properties ?? {});
      // A probe name the schema declares (UpdateMemberInput has `role`) is not an unknown field there.
      for (const field of ['isAdmin', 'role', 'unexpected_field', '__proto__', 'constructor'].filter((f) => !declared.includes(f))) {
        const res = await api(node.url, op.method.toUpperCase(), fill(op.template), {
          token,
          rawBody: `{${JSON.stringify(field)}: true}`,
          headers: { 'content-type': 'application/json' },
        });
        expectRefused(res, `${label(op)} extra ${field}`, { status: 400, code: 'invalid_input' });
        expect(res.body.error.details?.fields, `${label(op)} names ${field}`).toHaveProperty([field], 'Unknown field.');
      }
    }
  });

  it('a path id that is not a UUID → 400 invalid_input naming the parameter', async () => {
    const withParams = operations.filter((o) => o.pathParams.length > 0);
    for (const op of withParams) {
      const token = await tokenFor(op);
      for (const param of op.pathParams.filter((p) => resolve(p.schema)?.format === 'uuid')) {
        for (const value of ['not-a-uuid', '123', "1' OR '1'='1", '00000000-0000-0000-0000-00000000000Z', 'x'.repeat(2000)]) {
          const res = await api(node.url, op.method.toUpperCase(), fill(op.template, { [param.name]: value }), { token });
          expectRefused(res, `${label(op)} ${param.name}=${value.slice(0, 40)}`, { status: 400, code: 'invalid_input' });
          expect(res.body.error.details?.fields).toHaveProperty([param.name]);
        }
      }
    }
  });

  it('query parameters with odd values never cause a server error', async () => {
    for (const op of operations) {
      const token = await tokenFor(op);
      const names = [...op.queryParams.map((p) => p.name), 'unexpected'];
      for (const value of ['', 'x'.repeat(4000), '%00', '-1', '1e999']) {
        const query = names.map((n) => `${encodeURIComponent(n)}=${encodeURIComponent(value)}&${encodeURIComponent(n)}=2`).join('&');
        const res = await api(node.url, op.method.toUpperCase(), `${fill(op.template)}?${query}`, { token });
        expect(res.status, `${label(op)} ?${query.slice(0, 60)}`).toBeLessThan(500);
        // Node's HTTP parser refuses a request line over its 16 KB header limit (431, no body) before the app runs;
        // operations with several query parameters reach it with the 4000-character values.
        if (res.status === 431) continue;
        if (res.status >= 400) expectRefused(res, `${label(op)} query`);
      }
    }
  });

  it('operations that need a bearer token → 401 unauthenticated without a valid one', async () => {
    const protectedOps = operations.filter((o) => o.needsAuth);
    const user = await registerUser(node.url);
    const loggedOut = await registerUser(node.url);
    expect((await api(node.url, 'POST', '/api/v1/auth/logout', { token: loggedOut.accessToken })).status).toBe(204);
    const [header, payload] = user.accessToken.split('.');
    const authorizations: [string, string | undefined][] = [
      ['no header', undefined],
      ['empty bearer', 'Bearer '],
      ['garbage bearer', 'Bearer garbage'],
      ['wrong scheme', `Basic ${Buffer.from('a:b').toString('base64')}`],
      ['token without scheme', user.accessToken],
      ['forged signature', `Bearer ${header}.${payload}.${'A'.repeat(43)}`],
      ['alg none', `Bearer ${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${payload}.`],
      ['refresh token as bearer', `Bearer ${user.refreshToken}`],
      ['logged-out session', `Bearer ${loggedOut.accessToken}`],
      ['oversized', `Bearer ${'a'.repeat(8000)}`],
    ];
    for (const op of protectedOps) {
      for (const [what, authorization] of authorizations) {
        const res = await api(node.url, op.method.toUpperCase(), fill(op.template), {
          headers: authorization === undefined ? {} : { authorization },
        });
        expectRefused(res, `${label(op)} ${what}`, { status: 401, code: 'unauthenticated' });
      }
    }
    // None of that disturbed the real session.
    expect((await api(node.url, 'GET', '/api/v1/me', { token: user.accessToken })).status).toBe(200);
  });

  it('an undocumented method on a documented path → 4xx, not 500', async () => {
    for (const template of Object.keys(doc.paths)) {
      const documented = new Set(Object.keys(doc.paths[template]!));
      for (const method of ['get', 'post', 'put', 'patch', 'delete'].filter((m) => !documented.has(m))) {
        const res = await api(node.url, method.toUpperCase(), fill(template));
        expectRefused(res, `${method.toUpperCase()} ${template}`);
      }
    }
  });
});

/** Sends `body` with Transfer-Encoding: chunked (no Content-Length), so the server must count as it reads. */
async function sendChunked(op: Operation, token: string | undefined, body: string): Promise<ApiResponse<any>> {
  const bytes = new TextEncoder().encode(body);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 64 * 1024) controller.enqueue(bytes.subarray(i, i + 64 * 1024));
      controller.close();
    },
  });
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(node.url + fill(op.template), {
    method: op.method.toUpperCase(),
    headers,
    body: stream,
    duplex: 'half',
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}
