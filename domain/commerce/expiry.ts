import { sql } from 'kysely';
import { db } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import type { JobHandler } from '../shared/jobs.ts';
import { runAfterCommit, type AfterCommit } from './afterCommit.ts';
import './events.ts';
import { offerLapsedSeats } from './classroomSeats.ts';
import { closeUnpaidOrder } from './fulfilment.ts';
import { lockOrder } from './orderRows.ts';
import { settleVerifiedPayment } from './paymentEvents.ts';
import type { ProviderPayment } from './provider.ts';
import { reconcileProviderSubscriptions } from './subscriptionSweep.ts';
import { renewTestSubscriptions } from './testSubscriptions.ts';

/*
 * Pending checkouts do not wait for ever. Each one queues 'orders.expire' for its hold time; when it runs, the order
 * is settled with the provider (a payment that completed but whose webhook never came is fulfilled) or expired, which
 * gives back its coupon use and classroom seat. 'orders.reconcile' sweeps every 10 minutes for checkouts pending longer
 * than 30 minutes, in case an expiry job was lost; it also passes class seats offered to waitlisted learners who did not
 * buy them in time to the next in line, and renews or ends test subscriptions.
 */

const RECONCILE_TASK = 'orders.reconcile';
/** One key for the whole cluster: graphile-worker keeps at most one pending sweep. */
const RECONCILE_KEY = 'orders.reconcile';
const RECONCILE_EVERY_MS = 10 * 60_000;
/** Checkouts pending longer than this are re-checked with the provider. */
const STALE_AFTER_MS = 30 * 60_000;
const SWEEP_BATCH = 200;

/**
 * Settles one pending order with the provider: fulfilled if its payment succeeded (and matches), expired once past its
 * hold time. Before that time an unpaid order is left to its buyer. Returns what happened.
 */
export async function settlePendingOrder(deps: Deps, orderId: string): Promise<'paid' | 'expired' | 'left'> {
  const provider = deps.commerce.provider;
  // Ask the provider before taking the lock: it is a network call, and the order is re-read under the lock anyway.
  const pre = await db(deps.orm.em.fork()).selectFrom('orders').select(['status', 'provider', 'provider_payment_id']).where('id', '=', orderId).executeTakeFirst();
  if (!pre || pre.status !== 'pending') return 'left';
  let payment: ProviderPayment | null = null;
  if (pre.provider_payment_id && provider && provider.name === pre.provider) {
    try {
      payment = await provider.retrievePayment(pre.provider_payment_id);
    } catch (err) {
      // The provider cannot say now: leave the order pending rather than expire a payment that may have completed.
      deps.logger.warn({ err: String(err), orderId }, 'could not ask the payment provider about a pending order');
      throw err;
    }
  }
  const now = deps.clock.now();
  let result: 'paid' | 'expired' | 'left' = 'left';
  let cancel: string | null = null;
  const after = await deps.orm.em.fork().transactional(async (tx): Promise<AfterCommit[]> => {
    const q = db(tx);
    const order = await lockOrder(q, orderId);
    if (!order || order.status !== 'pending') return [];
    if (payment?.status === 'succeeded') {
      const effect = await settleVerifiedPayment(deps, q, order, payment, now);
      if (effect.outcome === 'paid' || effect.outcome === 'paid_late') {
        result = 'paid';
        return effect.after;
      }
    }
    if (order.expires_at > now) return [];
    result = 'expired';
    if (order.provider_payment_id && payment?.status !== 'succeeded') cancel = order.provider_payment_id;
    return closeUnpaidOrder(deps, q, order, 'expired', 'The checkout expired before it was paid.', now);
  });
  await runAfterCommit(after);
  if (cancel && provider) {
    // So the buyer cannot complete a payment for an order we closed; a payment already final is left as it is.
    await provider.cancelPayment(cancel).catch((err: unknown) => {
      deps.logger.info({ err: String(err), orderId }, 'the payment of an expired order could not be canceled (already final?)');
    });
  }
  return result;
}

/** 'orders.expire': a pending checkout reached its hold time — settle it with the provider or expire it. */
export function expireOrderJob(deps: Deps): JobHandler<'orders.expire'> {
  return async ({ orderId }) => {
    await settlePendingOrder(deps, orderId);
  };
}

/** Settles every checkout pending longer than 30 minutes (oldest first); returns how many were looked at. */
export async function reconcilePendingOrders(deps: Deps): Promise<number> {
  const before = new Date(deps.clock.now().getTime() - STALE_AFTER_MS);
  const q = db(deps.orm.em.fork());
  let seen = 0;
  let cursor: { created_at: Date; id: string } | null = null;
  for (;;) {
    let query = q
      .selectFrom('orders')
      .select(['id', 'created_at'])
      .where('status', '=', 'pending')
      .where('created_at', '<', before)
      .orderBy('created_at')
      .orderBy('id')
      .limit(SWEEP_BATCH);
    if (cursor) {
      const { created_at, id } = cursor;
      query = query.where((eb) => eb(eb.refTuple('created_at', 'id'), '>', eb.tuple(created_at, id)));
    }
    const rows = await query.execute();
    for (const row of rows) {
      // One order's trouble (the provider down for it) does not stop the sweep; the next one tries again.
      await settlePendingOrder(deps, row.id).catch((err: unknown) =>
        deps.logger.warn({ err: String(err), orderId: row.id }, 'reconciling a pending order failed; the next sweep tries again'),
      );
    }
    seen += rows.length;
    const last = rows[rows.length - 1];
    if (rows.length < SWEEP_BATCH || !last) return seen;
    cursor = last;
  }
}

/** 'orders.reconcile': re-checks orders pending longer than 30 minutes; renews or ends test subscriptions. */
export function reconcileJob(deps: Deps): JobHandler<'orders.reconcile'> {
  return async () => {
    // The next sweep first, so a sweep that fails (and is retried) never breaks the chain.
    await sql`select graphile_worker.add_job(
        ${RECONCILE_TASK}, '{}'::json,
        run_at => ${new Date(Date.now() + RECONCILE_EVERY_MS)}::timestamptz,
        job_key => ${RECONCILE_KEY}::text
      )`.execute(deps.orm.em.fork().getKysely());
    await reconcilePendingOrders(deps);
    const now = deps.clock.now();
    await offerLapsedSeats(deps, now);
    await renewTestSubscriptions(deps, now);
    await reconcileProviderSubscriptions(deps, now);
  };
}

/** Queues the periodic reconciliation (one pending job cluster-wide, by job key; a restart neither adds nor delays one). */
export async function scheduleReconciliation(deps: Deps): Promise<void> {
  await sql`select graphile_worker.add_job(
      ${RECONCILE_TASK}, '{}'::json,
      run_at => ${new Date(Date.now() + RECONCILE_EVERY_MS)}::timestamptz,
      job_key => ${RECONCILE_KEY}::text,
      job_key_mode => 'preserve_run_at'
    )`.execute(deps.orm.em.fork().getKysely());
}
