import type { GrantType } from '../../contracts/commerce.ts';
import type { Db } from '../../orm/db.ts';
import { grantEntitlement, isEntitled, revokeEntitlement } from '../access/entitlement.ts';
import { revokeChannelAccess } from '../communities/revoke.ts';
import { enrolPaidInTx } from '../courses/enrolment.ts';
import type { Deps } from '../shared/deps.ts';
import type { AfterCommit } from './afterCommit.ts';
import { classroomGrantHandler } from './classroomSeats.ts';
import './events.ts';
import type { GrantContext, GrantHandler } from './grantHandler.ts';
import { loadOrderLines, type OrderRow } from './orderRows.ts';
import { tierGrantHandler } from './tiers.ts';

/*
 * Opening and closing the door an order line pays for. Each resource type has one handler; every handler writes the
 * `entitlements` row (source `order`, `order_id` set) plus whatever else the door takes (a course's enrolment and
 * discussion membership, a classroom seat, a community membership), inside the caller's transaction, and returns the
 * announcements to make after commit (`entitlement.granted` / `.revoked` and the feature's own events).
 */

export type { GrantContext, GrantHandler } from './grantHandler.ts';

export type GrantHandlers = Record<GrantType, GrantHandler>;

const announceGranted = (deps: Deps, type: GrantType, ctx: GrantContext): AfterCommit => () =>
  deps.events.emit('entitlement.granted', { userId: ctx.userId, resourceType: type, resourceId: ctx.resourceId, orderId: ctx.order.id });

const announceRevoked = (deps: Deps, type: GrantType, ctx: GrantContext): AfterCommit => () =>
  deps.events.emit('entitlement.revoked', { userId: ctx.userId, resourceType: type, resourceId: ctx.resourceId, orderId: ctx.order.id });

/** Revokes the active entitlement this order opened to one resource; whether there was one. */
function revokeOrderEntitlement(q: Db, type: GrantType, ctx: GrantContext): Promise<boolean> {
  return revokeEntitlement(q, ctx.userId, { type, id: ctx.resourceId }, ctx.at, { orderId: ctx.order.id });
}

/** Whether the user still holds the door some other way (a free enrolment, a staff grant, another order). */
function stillEntitled(q: Db, type: GrantType, ctx: GrantContext): Promise<boolean> {
  return isEntitled(q, ctx.userId, { type, id: ctx.resourceId });
}

/**
 * A course: the entitlement, the enrolment and the course discussion. Closing it keeps the enrolment and progress
 * (bought again, the learner carries on where they were) but takes the lessons and the discussion away.
 */
export const courseGrantHandler: GrantHandler = {
  async grant(deps, q, ctx) {
    await grantEntitlement(q, { userId: ctx.userId, resource: { type: 'course', id: ctx.resourceId }, source: 'order', orderId: ctx.order.id, at: ctx.at });
    const enrolment = await enrolPaidInTx(q, ctx.resourceId, ctx.userId, ctx.at);
    return [() => enrolment.announce(deps), announceGranted(deps, 'course', ctx)];
  },
  async revoke(deps, q, ctx) {
    if (!(await revokeOrderEntitlement(q, 'course', ctx))) return [];
    const after: AfterCommit[] = [announceRevoked(deps, 'course', ctx)];
    if (await stillEntitled(q, 'course', ctx)) return after;
    const course = await q.selectFrom('courses').select('channel_id').where('id', '=', ctx.resourceId).executeTakeFirst();
    if (!course) return after;
    // Instructors read the discussion by their role, not by a purchase: only a learner leaves it.
    const teaches = await q
      .selectFrom('course_instructors')
      .select('user_id')
      .where('course_id', '=', ctx.resourceId)
      .where('user_id', '=', ctx.userId)
      .executeTakeFirst();
    if (teaches) return after;
    const left = await q
      .deleteFrom('channel_members')
      .where('channel_id', '=', course.channel_id)
      .where('user_id', '=', ctx.userId)
      .returning('user_id')
      .executeTakeFirst();
    if (left) after.push(() => revokeChannelAccess(deps, ctx.userId, [course.channel_id]));
    return after;
  },
};

/** An ebook: the entitlement is the whole door (the reader checks it). */
export const ebookGrantHandler: GrantHandler = {
  async grant(deps, q, ctx) {
    await grantEntitlement(q, { userId: ctx.userId, resource: { type: 'ebook', id: ctx.resourceId }, source: 'order', orderId: ctx.order.id, at: ctx.at });
    return [announceGranted(deps, 'ebook', ctx)];
  },
  async revoke(deps, q, ctx) {
    return (await revokeOrderEntitlement(q, 'ebook', ctx)) ? [announceRevoked(deps, 'ebook', ctx)] : [];
  },
};

/** The handler of each resource type (built on first use: the classroom and tier handlers import this module too). */
export function grantHandlers(): GrantHandlers {
  return { course: courseGrantHandler, ebook: ebookGrantHandler, classroom: classroomGrantHandler, tier: tierGrantHandler };
}

async function eachLine(
  q: Db,
  order: OrderRow,
  step: (handler: GrantHandler, ctx: GrantContext) => Promise<AfterCommit[]>,
  at: Date,
  expiresAt: Date | null,
): Promise<AfterCommit[]> {
  const handlers = grantHandlers();
  const after: AfterCommit[] = [];
  for (const line of await loadOrderLines(q, order.id)) {
    after.push(...(await step(handlers[line.resource_type], { userId: order.buyer_id, resourceId: line.resource_id, order, at, expiresAt })));
  }
  return after;
}

/** Grants every line of a paid order (in the transaction that marks it paid). */
export async function grantOrderLines(deps: Deps, q: Db, order: OrderRow, at: Date, expiresAt: Date | null = null): Promise<AfterCommit[]> {
  return eachLine(q, order, (handler, ctx) => handler.grant(deps, q, ctx), at, expiresAt);
}

/** Revokes what an order granted (full refund, lost dispute, ended subscription). */
export async function revokeOrderLines(deps: Deps, q: Db, order: OrderRow, at: Date): Promise<AfterCommit[]> {
  return eachLine(q, order, (handler, ctx) => handler.revoke(deps, q, ctx), at, null);
}
