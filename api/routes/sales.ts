import { BundleDto, BundleList, CreateBundleInput, EarningsDto, EarningsQuery, RefundInput, RefundResponse, UpdateBundleInput } from '../../contracts/commerce.ts';
import { IdParam } from '../../contracts/communities.ts';
import { createBundle, getBundle, listMyBundles, updateBundleStatus } from '../../domain/commerce/bundles.ts';
import { earnings, earningsCsv } from '../../domain/commerce/earnings.ts';
import { refundOrder } from '../../domain/commerce/refunds.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { AppError } from '../../domain/shared/errors.ts';
import type { ApiContext } from '../context.ts';
import { actorOf, viewerOf } from '../middlewares/auth.ts';
import { rawBody, type RouteKit } from '../routeKit.ts';

const tags = ['commerce'];

/** The Idempotency-Key header: a retried request with the same key gets the first answer. */
function idempotencyKey(ctx: ApiContext): string | null {
  const key = ctx.get('idempotency-key').trim();
  if (!key) return null;
  if (key.length > 100) throw new AppError('invalid_input', 'The Idempotency-Key header is at most 100 characters.', { details: { fields: { 'Idempotency-Key': 'At most 100 characters.' } } });
  return key;
}

/** Refunds, earnings and bundles. */
export function salesRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'post',
      path: '/orders/:id/refunds',
      summary:
        'Refund an order in part or in full (its seller or a platform admin); at most the refundable balance. Send an Idempotency-Key header to make retries safe',
      tags,
      auth: true,
      params: IdParam,
      body: RefundInput,
      responses: { 201: { description: 'The refund (succeeded, or pending at the provider) and the order as it now is', schema: RefundResponse } },
    },
    async (ctx, { params, body }) => refundOrder(deps, actorOf(ctx), params.id, body, idempotencyKey(ctx)),
  );

  route(
    {
      method: 'get',
      path: '/me/earnings',
      summary: 'My earnings as a seller from the ledger (default: the last 30 days); ?format=csv downloads one row per posting',
      tags,
      auth: true,
      query: EarningsQuery,
      responses: { 200: { description: 'Totals per currency, net per day and my latest sales (JSON, or CSV with format=csv)', schema: EarningsDto, raw: 'text/csv' } },
    },
    async (ctx, { query }) => {
      const range = { from: query.from, to: query.to };
      if (query.format === 'json') return earnings(deps, actorOf(ctx), range);
      const csv = await earningsCsv(deps, actorOf(ctx), range);
      return rawBody({ type: 'text/csv; charset=utf-8', body: csv.body, filename: csv.filename });
    },
  );

  route(
    {
      method: 'post',
      path: '/bundles',
      summary: 'Sell several of my published courses and ebooks together at one price',
      tags,
      auth: true,
      body: CreateBundleInput,
      responses: { 201: { description: 'The bundle', schema: BundleDto } },
    },
    async (ctx, { body }) => createBundle(deps, actorOf(ctx), body),
  );

  route(
    {
      method: 'get',
      path: '/bundles/:id',
      summary: 'A bundle (published; drafts and archived ones for their seller)',
      tags,
      auth: 'optional',
      params: IdParam,
      responses: { 200: { description: 'The bundle with its items', schema: BundleDto } },
    },
    async (ctx, { params }) => getBundle(deps, viewerOf(ctx), params.id),
  );

  route(
    {
      method: 'get',
      path: '/me/bundles',
      summary: 'The bundles I sell, every status, newest first',
      tags,
      auth: true,
      responses: { 200: { description: 'My bundles', schema: BundleList } },
    },
    async (ctx) => listMyBundles(deps, actorOf(ctx)),
  );

  route(
    {
      method: 'patch',
      path: '/bundles/:id',
      summary: 'Publish or archive one of my bundles',
      tags,
      auth: true,
      params: IdParam,
      body: UpdateBundleInput,
      responses: { 200: { description: 'The bundle', schema: BundleDto } },
    },
    async (ctx, { params, body }) => updateBundleStatus(deps, actorOf(ctx), params.id, body),
  );
}
