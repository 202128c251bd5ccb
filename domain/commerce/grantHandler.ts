import type { Db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import type { AfterCommit } from './afterCommit.ts';
import type { OrderRow } from './orderRows.ts';

/** What opening or closing one paid door takes: one handler per resource type (grants.ts holds the registry). */
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

