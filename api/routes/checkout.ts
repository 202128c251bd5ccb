import { CheckoutInput, CheckoutResponse, ProductDto, QuoteResponse } from '../../contracts/commerce.ts';
import { IdParam } from '../../contracts/communities.ts';
import { checkout, quote } from '../../domain/commerce/checkout.ts';
import { getProduct } from '../../domain/commerce/products.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf, viewerOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

/** Checkout, quotes and products (prices set by the server). */
export function checkoutRoutes(route: RouteKit, deps: Deps) {
  const tags = ['commerce'];

  route(
    {
      method: 'get',
      path: '/products/:id',
      summary: 'Something for sale (a course, ebook, class ticket, community tier or bundle): its price, seller, what it grants and whether I hold it',
      tags,
      auth: 'optional',
      params: IdParam,
      responses: { 200: { description: 'The product', schema: ProductDto } },
    },
    async (ctx, { params }) => getProduct(deps, viewerOf(ctx), params.id),
  );

  route(
    {
      method: 'post',
      path: '/checkout/quote',
      summary: 'What I would pay for a product with this coupon and country (tax, discount, total); reserves nothing',
      tags,
      auth: true,
      body: CheckoutInput,
      responses: { 200: { description: 'The price; an invalid coupon says why in coupon.message', schema: QuoteResponse } },
    },
    async (ctx, { body }) => quote(deps, actorOf(ctx), body),
  );

  route(
    {
      method: 'post',
      path: '/checkout',
      summary: 'Start buying a product: a pending order priced by the server and how to pay it (the same order while it is pending)',
      tags,
      auth: true,
      body: CheckoutInput,
      responses: { 201: { description: 'The order and its payment (Stripe, the test page, or none for a total of zero)', schema: CheckoutResponse } },
    },
    async (ctx, { body }) => checkout(deps, actorOf(ctx), body),
  );
}
