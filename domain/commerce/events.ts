import type { EntitlementEvent, OrderDto } from '../../contracts/commerce.ts';
import type { PaymentEvent } from './provider.ts';

/*
 * Commerce's domain events (emitted after commit) and jobs. The buyer's open pages follow their orders and the doors
 * that open and close; notifications and receipts subscribe the same way.
 */

declare module '../shared/events.ts' {
  interface DomainEvents {
    /** An order changed status (paid, failed, expired, refunded, disputed…). */
    'order.updated': { order: OrderDto; buyerId: string; sellerId: string };
    /** A door opened for a user (paid order, free enrolment or claim, staff grant). */
    'entitlement.granted': EntitlementEvent & { userId: string };
    /** A door closed (full refund, lost dispute, subscription ended). */
    'entitlement.revoked': EntitlementEvent & { userId: string };
  }
}

declare module '../shared/jobs.ts' {
  interface JobPayloads {
    /** One provider event to process (webhook deliveries and test payments queue it; keyed by event id). */
    'payments.event': { event: PaymentEvent };
    /** A pending checkout reaches its hold time: settle it with the provider or expire it. */
    'orders.expire': { orderId: string };
    /** Periodic: re-check orders pending for longer than 30 minutes; renew or end test subscriptions. */
    'orders.reconcile': Record<string, never>;
  }
}
