import { OrderDto, OrderList, OrderListQuery, TestPaymentInput } from '../../contracts/commerce.ts';
import { IdParam } from '../../contracts/communities.ts';
import { getOrder, listMyOrders, submitTestPayment } from '../../domain/commerce/orders.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { actorOf } from '../middlewares/auth.ts';
import type { RouteKit } from '../routeKit.ts';

/** Orders: the buyer's history and receipts, and the test payment page's Pay and Decline. */
export function orderRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'get',
      path: '/orders/:id',
      summary: 'One order with its lines, tax and status — for its buyer, its seller or a platform admin',
      tags: ['commerce'],
      auth: true,
      params: IdParam,
      responses: { 200: { description: 'The order', schema: OrderDto } },
    },
    async (ctx, { params }) => getOrder(deps, actorOf(ctx), params.id),
  );

  route(
    {
      method: 'get',
      path: '/me/orders',
      summary: 'My orders, newest first',
      tags: ['commerce'],
      auth: true,
      query: OrderListQuery,
      responses: { 200: { description: 'A page of my orders', schema: OrderList } },
    },
    async (ctx, { query }) => listMyOrders(deps, actorOf(ctx), query),
  );

  route(
    {
      method: 'post',
      path: '/test-payments/:id',
      summary: "The test payment page's Pay or Decline for a pending test order (only where test payments are enabled)",
      tags: ['commerce'],
      auth: true,
      params: IdParam,
      body: TestPaymentInput,
      responses: { 202: { description: 'Queued: the order follows through order:updated', schema: OrderDto } },
    },
    async (ctx, { params, body }) => submitTestPayment(deps, actorOf(ctx), params.id, body.outcome),
  );
}
