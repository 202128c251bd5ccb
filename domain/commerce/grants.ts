import type { GrantType } from '../../contracts/commerce.ts';
import type { Db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import type { AfterCommit } from './afterCommit.ts';
import type { OrderRow } from './orderRows.ts';

/*
 * Opening and closing the door an order line pays for. Each resource type has one handler; every handler writes the
 * `entitlements` row (source `order`, `order_id` set) plus whatever else the door takes (a course's enrolment and
 * discussion membership, a classroom seat, a community membership), inside the caller's transaction, and returns the
 * announcements to make after commit (`entitlement.granted` / `.revoked` and the feature's own events).
 */

export interface GrantContext {
  userId: string;
  resourceId: string;
  order: OrderRow;
  at: Date;
  /** A subscription's entitlement lasts until the end of the paid period; null: for good. */
  expiresAt: Date | null;
}

export interface GrantHandler {
  grant(deps: Deps, q: Db, ctx: GrantContext): Promise<AfterCommit[]>;
  revoke(deps: Deps, q: Db, ctx: GrantContext): Promise<AfterCommit[]>;
}

/** Grants every line of a paid order (in the transaction that marks it paid). */
export async function grantOrderLines(deps: Deps, q: Db, order: OrderRow, at: Date, expiresAt: Date | null = null): Promise<AfterCommit[]> {
  void deps; void q; void order; void at; void expiresAt;
  throw new Error('grantOrderLines: not implemented yet');
}

/** Revokes what an order granted (full refund, lost dispute, ended subscription). */
export async function revokeOrderLines(deps: Deps, q: Db, order: OrderRow, at: Date): Promise<AfterCommit[]> {
  void deps; void q; void order; void at;
  throw new Error('revokeOrderLines: not implemented yet');
}

export type GrantHandlers = Record<GrantType, GrantHandler>;
