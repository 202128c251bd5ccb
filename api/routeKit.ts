import type { Router } from '@koa/router';
import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import type { z } from 'zod';
import { ErrorResponse } from '../contracts/errors.ts';
import { parseInput } from '../domain/shared/validate.ts';
import type { Deps } from '../domain/shared/deps.ts';
import type { ApiContext } from './context.ts';
import { optionalActor, requireActor } from './middlewares/auth.ts';
import type { Next } from 'koa';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** One success status of a route: its description and, unless it answers without a body (202, 204), its schema. */
export interface ResponseSpec {
  description: string;
  /** The JSON body, from contracts/. */
  schema?: z.ZodType;
  /** Another representation the route may answer with through `rawBody()`, by content type (e.g. `text/csv`). */
  raw?: string;
}

type Responses = Record<number, ResponseSpec>;

export interface RouteSpec<B extends z.ZodType, P extends z.ZodType, Q extends z.ZodType, R extends Responses> {
  method: Method;
  /** Koa-style path below /api/v1, e.g. `/auth/sessions/:id` */
  path: string;
  summary: string;
  tags: string[];
  /** `true`: a signed-in caller only; `'optional'`: signed-out visitors too (a token sent must be valid); `false`: nobody is identified. */
  auth: boolean | 'optional';
  body?: B;
  params?: P;
  query?: Q;
  /** Success statuses. Error responses are documented automatically. */
  responses: R;
  /** Middlewares run after authentication and before the handler (rate limits…). */
  before?: ((ctx: ApiContext, next: Next) => Promise<unknown>)[];
}

export interface RouteInput<B, P, Q> {
  body: B;
  params: P;
  query: Q;
}

const REPLY = Symbol('reply');

/** An answer with an explicit status, for routes that declare more than one. */
export interface Reply<S extends number, T> {
  readonly [REPLY]: true;
  readonly status: S;
  readonly body: T;
}

export function reply<const S extends number, T>(status: S, body: T): Reply<S, T> {
  return { [REPLY]: true, status, body };
}

const RAW = Symbol('raw');

/** A body that is not JSON (a CSV or PDF download), for a status whose spec names it as `raw`. */
export interface RawBody {
  readonly [RAW]: true;
  readonly type: string;
  readonly body: string | Uint8Array;
  /** Sent as an attachment under this name. */
  readonly filename?: string;
}

export function rawBody(body: { type: string; body: string | Uint8Array; filename?: string }): RawBody {
  return { [RAW]: true, ...body };
}

/** What a handler may answer for one status: its schema's input, nothing for a bodyless status, or its raw form. */
type BodyOf<T extends ResponseSpec> =
  | (T extends { schema: infer S extends z.ZodType } ? z.input<S> : void)
  | (T extends { raw: string } ? RawBody : never);

type Status<R extends Responses> = keyof R & number;
/** True when a route declares more than one success status. */
type Several<T, U = T> = T extends unknown ? ([U] extends [T] ? false : true) : never;
type Replies<R extends Responses> = { [S in Status<R>]: Reply<S, BodyOf<R[S]>> }[Status<R>];

/**
 * What a handler returns: the body itself when the route declares one success status, else `reply(status, body)`.
 * Either way the compiler checks it against the declared schema.
 */
export type Answer<R extends Responses> = Replies<R> | (true extends Several<Status<R>> ? never : BodyOf<R[Status<R>]>);

const isReply = (value: unknown): value is Reply<number, unknown> => typeof value === 'object' && value !== null && REPLY in value;
const isRaw = (value: unknown): value is RawBody => typeof value === 'object' && value !== null && RAW in value;

export interface RouteKitOptions {
  /**
   * Check every JSON answer against its schema and fail loudly on a mismatch (on by default under NODE_ENV=test). The
   * types already hold handlers to the contract; this also catches what they cannot see (date formats, uuids).
   */
  checkResponses?: boolean;
}

/** Registers one route on the Koa router and the same contract in the OpenAPI registry. */
export function createRouteKit(router: Router, registry: OpenAPIRegistry, deps: Deps, prefix: string, options: RouteKitOptions = {}) {
  const auth = requireActor(deps);
  const optionalAuth = optionalActor(deps);
  const checkResponses = options.checkResponses ?? process.env.NODE_ENV === 'test';
  return function route<
    R extends Responses,
    B extends z.ZodType = z.ZodUndefined,
    P extends z.ZodType = z.ZodUndefined,
    Q extends z.ZodType = z.ZodUndefined,
  >(
    spec: RouteSpec<B, P, Q, R>,
    handler: (ctx: ApiContext, input: RouteInput<z.output<B>, z.output<P>, z.output<Q>>) => Promise<Answer<R>>,
  ) {
    const fullPath = prefix + spec.path;
    const responses: Responses = spec.responses;
    const statuses = Object.keys(responses).map(Number);
    registry.registerPath({
      method: spec.method,
      path: fullPath.replace(/:([A-Za-z_]+)/g, '{$1}'),
      summary: spec.summary,
      tags: spec.tags,
      security: spec.auth === 'optional' ? [{ bearerAuth: [] }, {}] : spec.auth ? [{ bearerAuth: [] }] : [],
      request: {
        ...(spec.params ? { params: spec.params as never } : {}),
        ...(spec.query ? { query: spec.query as never } : {}),
        ...(spec.body ? { body: { content: { 'application/json': { schema: spec.body } } } } : {}),
      },
      responses: {
        ...Object.fromEntries(
          Object.entries(responses).map(([status, r]) => {
            const content = {
              ...(r.schema ? { 'application/json': { schema: r.schema } } : {}),
              ...(r.raw ? { [r.raw]: { schema: { type: 'string' as const, ...(r.raw.startsWith('text/') ? {} : { format: 'binary' }) } } } : {}),
            };
            return [status, Object.keys(content).length ? { description: r.description, content } : { description: r.description }];
          }),
        ),
        default: { description: 'Error', content: { 'application/json': { schema: ErrorResponse } } },
      },
    });

    const respond = (ctx: ApiContext, answer: unknown) => {
      let status = statuses[0]!;
      let body = answer;
      if (isReply(answer)) ({ status, body } = answer);
      else if (statuses.length > 1) throw new Error(`${spec.method.toUpperCase()} ${fullPath} declares several statuses: answer with reply().`);
      const declared = responses[status];
      if (!declared) throw new Error(`${spec.method.toUpperCase()} ${fullPath} answered ${status}, which it does not declare.`);
      ctx.status = status;
      if (isRaw(body)) {
        if (body.filename) ctx.attachment(body.filename);
        ctx.type = body.type;
        ctx.body = body.body;
        return;
      }
      if (!declared.schema) return;
      if (checkResponses) {
        const checked = declared.schema.safeParse(body);
        if (!checked.success) {
          throw new Error(`${spec.method.toUpperCase()} ${fullPath} answered ${status} outside its schema: ${JSON.stringify(checked.error.issues)}`);
        }
      }
      ctx.body = body;
    };

    const middlewares = [
      async (ctx: ApiContext, next: Next) => {
        ctx.state.routeName = fullPath;
        return next();
      },
      ...(spec.auth === 'optional' ? [optionalAuth] : spec.auth ? [auth] : []),
      ...(spec.before ?? []),
      async (ctx: ApiContext) => {
        // Path first: a bad id is reported as such even when the body is missing or wrong too.
        const params = spec.params ? parseInput(spec.params, ctx.params ?? {}) : undefined;
        const query = spec.query ? parseInput(spec.query, ctx.query) : undefined;
        const body = spec.body ? parseInput(spec.body, ctx.state.body) : undefined;
        const input = { body, params, query } as RouteInput<z.output<B>, z.output<P>, z.output<Q>>;
        respond(ctx, await handler(ctx, input));
      },
    ];
    (router[spec.method] as (path: string, ...mw: unknown[]) => unknown).call(router, spec.path, ...middlewares);
  };
}

export type RouteKit = ReturnType<typeof createRouteKit>;
