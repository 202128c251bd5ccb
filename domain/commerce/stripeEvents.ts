import Stripe from 'stripe';
import { invoicePaymentIntentId, refundStatus, subscriptionPeriodEnd, subscriptionStatus, unixDate } from './stripeProvider.ts';
import type { PaymentEvent } from './provider.ts';

/*
 * Stripe's webhook events as our PaymentEvents: the one shape paymentEvents.ts processes, whatever the provider.
 * Shapes follow the API version the installed SDK pins (an invoice names its subscription under
 * parent.subscription_details, the current period lives on subscription items, a charge's refunds are not sent).
 */

/** The event Stripe signed, or null when the signature is missing, wrong or too old (Stripe's tolerance: 5 minutes). */
export function verifyStripeEvent(rawBody: Buffer | string, signature: string | undefined, secret: string): Stripe.Event | null {
  if (!signature) return null;
  try {
    return Stripe.webhooks.constructEvent(rawBody, signature, secret);
  } catch {
    return null;
  }
}

const iso = (seconds: number | null | undefined) => unixDate(seconds)?.toISOString() ?? null;
const idOf = (value: string | { id: string } | null | undefined) => (value == null ? null : typeof value === 'string' ? value : value.id);

const PAYMENT_TYPES = {
  'payment_intent.succeeded': 'payment.succeeded',
  'payment_intent.payment_failed': 'payment.failed',
  'payment_intent.canceled': 'payment.canceled',
} as const;

/** Our event for a Stripe event, or null for a type (or an object) that concerns no order of ours. */
export function toPaymentEvent(event: Stripe.Event): PaymentEvent | null {
  const base = { id: event.id, provider: 'stripe' as const };
  switch (event.type) {
    case 'payment_intent.succeeded':
    case 'payment_intent.payment_failed':
    case 'payment_intent.canceled': {
      const intent = event.data.object;
      const succeeded = event.type === 'payment_intent.succeeded';
      return {
        ...base,
        type: PAYMENT_TYPES[event.type],
        paymentId: intent.id,
        orderId: intent.metadata?.orderId ?? null,
        buyerId: intent.metadata?.buyerId ?? null,
        amountMinor: succeeded ? intent.amount_received : intent.amount,
        currency: intent.currency.toUpperCase(),
        failureReason: succeeded ? null : (intent.last_payment_error?.message ?? intent.cancellation_reason ?? null),
      };
    }

    case 'charge.refunded': {
      const charge = event.data.object;
      const paymentId = idOf(charge.payment_intent);
      // Recent API versions send a charge without its refunds; each refund then comes as its own refund.* event,
      // which carries its id. A total without ids could not be matched to those, so it is left to them.
      const refunds = charge.refunds?.data ?? [];
      if (!paymentId || refunds.length === 0) return null;
      return { ...base, type: 'refund.updated', paymentId, refunds: refunds.map(presentRefund) };
    }

    case 'refund.created':
    case 'refund.updated':
    case 'refund.failed': {
      const refund = event.data.object;
      const paymentId = idOf(refund.payment_intent);
      if (!paymentId) return null;
      return { ...base, type: 'refund.updated', paymentId, refunds: [presentRefund(refund)] };
    }

    case 'charge.dispute.created':
    case 'charge.dispute.closed': {
      const dispute = event.data.object;
      const paymentId = idOf(dispute.payment_intent);
      if (!paymentId) return null;
      return {
        ...base,
        type: event.type === 'charge.dispute.created' ? 'dispute.created' : 'dispute.closed',
        paymentId,
        disputeId: dispute.id,
        amountMinor: dispute.amount,
        currency: dispute.currency.toUpperCase(),
        status: disputeStatus(dispute.status),
        reason: dispute.reason,
      };
    }

    case 'invoice.paid':
    case 'invoice.payment_failed': {
      const invoice = event.data.object;
      const subscriptionId = invoiceSubscriptionId(invoice);
      if (!subscriptionId) return null;
      const paid = event.type === 'invoice.paid';
      return {
        ...base,
        type: paid ? 'invoice.paid' : 'invoice.payment_failed',
        subscriptionId,
        invoiceId: invoice.id,
        paymentId: invoicePaymentIntentId(invoice),
        amountMinor: paid ? invoice.amount_paid : invoice.amount_due,
        currency: invoice.currency.toUpperCase(),
        periodEnd: iso(invoicePeriodEnd(invoice)),
        billingReason: invoice.billing_reason ?? null,
      };
    }

    case 'customer.subscription.updated':
    case 'customer.subscription.deleted': {
      const subscription = event.data.object;
      const deleted = event.type === 'customer.subscription.deleted';
      return {
        ...base,
        type: deleted ? 'subscription.deleted' : 'subscription.updated',
        subscriptionId: subscription.id,
        status: deleted ? 'ended' : subscriptionStatus(subscription.status),
        currentPeriodEnd: iso(subscriptionPeriodEnd(subscription)),
        cancelAtPeriodEnd: subscription.cancel_at_period_end,
      };
    }

    default:
      return null;
  }
}

function presentRefund(refund: Stripe.Refund) {
  return {
    providerRefundId: refund.id,
    amountMinor: refund.amount,
    currency: refund.currency.toUpperCase(),
    status: refundStatus(refund.status),
    refundId: refund.metadata?.refundId ?? null,
  };
}

function disputeStatus(status: Stripe.Dispute.Status): 'open' | 'won' | 'lost' {
  if (status === 'lost') return 'lost';
  // An inquiry closed without a chargeback (warning_closed) or a prevented dispute cost the seller nothing.
  if (status === 'won' || status === 'warning_closed' || status === 'prevented') return 'won';
  return 'open';
}


function invoiceSubscriptionId(invoice: Stripe.Invoice): string | null {
  const fromParent = idOf(invoice.parent?.subscription_details?.subscription);
  if (fromParent) return fromParent;
  for (const line of invoice.lines?.data ?? []) {
    const fromLine = idOf(line.subscription) ?? line.parent?.subscription_item_details?.subscription ?? null;
    if (fromLine) return fromLine;
  }
  return null;
}

/**
 * The end of the period the invoice pays for: its subscription line's period. (The invoice's own period_end is the
 * end of the period *before* it for subscription invoices.)
 */
function invoicePeriodEnd(invoice: Stripe.Invoice): number | null {
  const ends = (invoice.lines?.data ?? []).map((line) => line.period?.end).filter((end) => typeof end === 'number');
  return ends.length ? Math.max(...ends) : null;
}
