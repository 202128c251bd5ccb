import type { OrderDto, OrderList } from '../../contracts/commerce.ts';
import type { Db } from '../../orm/db.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import type { AfterCommit } from './afterCommit.ts';

/** The order as the wire shows it (lines, tax, buyer and seller names). */
export async function loadOrderDto(q: Db, orderId: string): Promise<OrderDto> {
  void q; void orderId;
  throw new Error('not implemented yet');
}

/** Loads the order's DTO now (inside the transaction) and announces `order.updated` once it has committed. */
export async function announceOrder(deps: Deps, q: Db, orderId: string): Promise<AfterCommit> {
  void deps; void q; void orderId;
  throw new Error('not implemented yet');
}

/** GET /orders/:id — the buyer, the seller or a platform admin; anyone else `not_found`. */
export async function getOrder(deps: Deps, actor: Actor, orderId: string): Promise<OrderDto> {
  void deps; void actor; void orderId;
  throw new Error('not implemented yet');
}

/** GET /me/orders — newest first, keyset paged. */
export async function listMyOrders(deps: Deps, actor: Actor, page: { cursor?: string; limit: number }): Promise<OrderList> {
  void deps; void actor; void page;
  throw new Error('not implemented yet');
}
