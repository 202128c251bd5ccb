import { expressionBuilder, type Expression, type SqlBool } from 'kysely';
import type { DB } from '../../orm/db.ts';
import { queriesOf, type Queries } from './queries.ts';

/*
 * "Is this user entitled to X?" — the one question every paid-or-free door asks (lessons of a course, chapters of an
 * ebook). A free enrolment or claim, a staff grant and (with commerce) a paid order each write an `entitlements` row;
 * a refund or a removal revokes it. `isEntitled` answers for one resource; `entitledTo` is the same rule as a
 * predicate for lists and joins ("the courses I'm enrolled in"). Staff of the resource (instructors, owners) are not
 * entitled through this table: their own policies let them in.
 */

/** Courses and ebooks (their content), classroom seats (tickets) and community tiers (paid memberships). */
export type EntitledResourceType = 'course' | 'ebook' | 'classroom' | 'tier';
export interface EntitledResource {
  type: EntitledResourceType;
  id: string;
}

/** The rule as a predicate: an active entitlement of `userId` to the resource whose id is `resourceId`. */
export function entitledTo(
  userId: string | Expression<string>,
  type: EntitledResourceType,
  resourceId: Expression<string>,
): Expression<SqlBool> {
  const eb = expressionBuilder<DB>();
  const user = typeof userId === 'string' ? eb.val(userId) : userId;
  return eb.exists(
    eb
      .selectFrom('entitlements as en')
      .select('en.id')
      .where('en.resource_type', '=', type)
      .whereRef('en.resource_id', '=', resourceId as never)
      .where((w) => w('en.user_id', '=', user as never))
      .where('en.revoked_at', 'is', null),
  );
}

/** Active entitlements of one user among `ids` (one statement): the ids they are entitled to. */
export async function entitledIds(source: Queries, userId: string, type: EntitledResourceType, ids: readonly string[]): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const rows = await queriesOf(source)
    .selectFrom('entitlements')
    .select('resource_id')
    .where('user_id', '=', userId)
    .where('resource_type', '=', type)
    .where('resource_id', 'in', [...ids])
    .where('revoked_at', 'is', null)
    .execute();
  return new Set(rows.map((row) => row.resource_id));
}

export async function isEntitled(source: Queries, userId: string, resource: EntitledResource): Promise<boolean> {
  return (await entitledIds(source, userId, resource.type, [resource.id])).has(resource.id);
}

/**
 * Grants an entitlement; granting what is already held changes nothing (the partial unique index decides races).
 * Returns whether a new grant was written. Run it inside the transaction of the change it belongs to.
 */
export async function grantEntitlement(
  source: Queries,
  grant: {
    userId: string;
    resource: EntitledResource;
    source: 'free' | 'grant' | 'order';
    grantedBy?: string | null;
    /** The paid order that opened the door (source `order`). */
    orderId?: string | null;
    /** A subscription's door closes at the end of the paid period; null or absent: for good. */
    expiresAt?: Date | null;
    at: Date;
  },
): Promise<boolean> {
  const inserted = await queriesOf(source)
    .insertInto('entitlements')
    .values({
      id: crypto.randomUUID(),
      user_id: grant.userId,
      resource_type: grant.resource.type,
      resource_id: grant.resource.id,
      source: grant.source,
      granted_by_id: grant.grantedBy ?? null,
      order_id: grant.orderId ?? null,
      expires_at: grant.expiresAt ?? null,
      created_at: grant.at,
    })
    .onConflict((oc) => oc.columns(['user_id', 'resource_type', 'resource_id']).where('revoked_at', 'is', null).doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted !== undefined;
}

/**
 * Revokes a user's active entitlement (a refund, a removal) — with `orderId`, only if that order opened it. Returns
 * whether one was active.
 */
export async function revokeEntitlement(
  source: Queries,
  userId: string,
  resource: EntitledResource,
  at: Date,
  options: { orderId?: string } = {},
): Promise<boolean> {
  let revoke = queriesOf(source)
    .updateTable('entitlements')
    .set({ revoked_at: at })
    .where('user_id', '=', userId)
    .where('resource_type', '=', resource.type)
    .where('resource_id', '=', resource.id)
    .where('revoked_at', 'is', null);
  if (options.orderId) revoke = revoke.where('order_id', '=', options.orderId);
  const revoked = await revoke.returning('id').executeTakeFirst();
  return revoked !== undefined;
}

/**
 * Revokes every active entitlement a paid order opened (a full refund, a lost dispute). Returns the revoked rows, so
 * the caller can close each door and announce it.
 */
export async function revokeOrderEntitlements(
  source: Queries,
  orderId: string,
  at: Date,
): Promise<Array<{ user_id: string; resource_type: DB['entitlements']['resource_type']; resource_id: string }>> {
  return queriesOf(source)
    .updateTable('entitlements')
    .set({ revoked_at: at })
    .where('order_id', '=', orderId)
    .where('revoked_at', 'is', null)
    .returning(['user_id', 'resource_type', 'resource_id'])
    .execute();
}
