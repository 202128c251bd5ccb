import { CouponDto, CouponList, CreateCouponInput, UpdateCouponInput } from '../../contracts/commerce.ts';
import { IdParam } from '../../contracts/communities.ts';
import { createCoupon, listMyCoupons, setCouponActive } from '../../domain/commerce/coupons.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

/** Coupons of a seller. */
export function couponRoutes(route: RouteKit, deps: Deps) {
  const tags = ['commerce'];

  route(
    {
      method: 'post',
      path: '/coupons',
      summary: 'A coupon for one of my products, or for everything I sell (a percentage or an amount off, a window, limits)',
      tags,
      auth: true,
      body: CreateCouponInput,
      responses: { 201: { description: 'The coupon', schema: CouponDto } },
    },
    async (ctx, { body }) => createCoupon(deps, actorOf(ctx), body),
  );

  route(
    {
      method: 'get',
      path: '/me/coupons',
      summary: 'My coupons with their reserved and redeemed uses, newest first',
      tags,
      auth: true,
      responses: { 200: { description: 'My coupons', schema: CouponList } },
    },
    async (ctx) => listMyCoupons(deps, actorOf(ctx)),
  );

  route(
    {
      method: 'patch',
      path: '/coupons/:id',
      summary: 'Switch one of my coupons on or off',
      tags,
      auth: true,
      params: IdParam,
      body: UpdateCouponInput,
      responses: { 200: { description: 'The coupon', schema: CouponDto } },
    },
    async (ctx, { params, body }) => setCouponActive(deps, actorOf(ctx), params.id, body.active),
  );
}
