import type { Router } from '@koa/router';
import { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { parseInput } from '../domain/shared/validate.ts';
import type { Deps } from '../domain/shared/deps.ts';
import type { ApiContext } from './context.ts';
import { requireActor } from './middlewares/auth.ts';
import type { Next } from 'koa';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      details: z.unknown().optional(),
      retryAfter: z.number().int().optional(),
    }),
  })
  .describe('Error');

export interface RouteSpec<B extends z.ZodType, P extends z.ZodType, Q extends z.ZodType> {
  method: Method;
  /** Koa-style path below /api/v1, e.g. `/auth/sessions/:id` */
  path: string;
  summary: string;
  tags: string[];
  auth: boolean;
  body?: B;
  params?: P;
  query?: Q;
  /** Status → description and optional response schema. Error responses are documented automatically. */
  responses: Record<number, { description: string; schema?: z.ZodType }>;
  /** Middlewares run after authentication and before the handler (rate limits…). */
  before?: ((ctx: ApiContext, next: Next) => Promise<unknown>)[];
}

export interface RouteInput<B, P, Q> {
  body: B;
  params: P;
  query: Q;
}

/** Registers one route on the Koa router and the same contract in the OpenAPI registry. */
export function createRouteKit(router: Router, registry: OpenAPIRegistry, deps: Deps, prefix: string) {
  const auth = requireActor(deps);
  return function route<B extends z.ZodType = z.ZodUndefined, P extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined>(
    spec: RouteSpec<B, P, Q>,
    handler: (ctx: ApiContext, input: RouteInput<z.output<B>, z.output<P>, z.output<Q>>) => Promise<void>,
  ) {
    const fullPath = prefix + spec.path;
    registry.registerPath({
      method: spec.method,
      path: fullPath.replace(/:([A-Za-z_]+)/g, '{$1}'),
      summary: spec.summary,
      tags: spec.tags,
      security: spec.auth ? [{ bearerAuth: [] }] : [],
      request: {
        ...(spec.params ? { params: spec.params as never } : {}),
        ...(spec.query ? { query: spec.query as never } : {}),
        ...(spec.body ? { body: { content: { 'application/json': { schema: spec.body } } } } : {}),
      },
      responses: {
        ...Object.fromEntries(
          Object.entries(spec.responses).map(([status, r]) => [
            status,
            r.schema ? { description: r.description, content: { 'application/json': { schema: r.schema } } } : { description: r.description },
          ]),
        ),
        default: { description: 'Error', content: { 'application/json': { schema: ErrorSchema } } },
      },
    });

    const middlewares = [
      async (ctx: ApiContext, next: Next) => {
        ctx.state.routeName = fullPath;
        return next();
      },
      ...(spec.auth ? [auth] : []),
      ...(spec.before ?? []),
      async (ctx: ApiContext) => {
        // Path first: a bad id is reported as such even when the body is missing or wrong too.
        const params = spec.params ? parseInput(spec.params, ctx.params ?? {}) : undefined;
        const query = spec.query ? parseInput(spec.query, ctx.query) : undefined;
        const body = spec.body ? parseInput(spec.body, ctx.state.body) : undefined;
        const input = { body, params, query } as RouteInput<z.output<B>, z.output<P>, z.output<Q>>;
        await handler(ctx, input);
      },
    ];
    (router[spec.method] as (path: string, ...mw: unknown[]) => unknown).call(router, spec.path, ...middlewares);
  };
}

export type RouteKit = ReturnType<typeof createRouteKit>;
