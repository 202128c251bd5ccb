import { z } from 'zod';
import { toPaymentEvent, verifyStripeEvent } from '../../domain/commerce/stripeEvents.ts';
import type { Deps } from '../../domain/shared/deps.ts';
import { AppError } from '../../domain/shared/errors.ts';
import { enqueueJob } from '../../domain/shared/jobs.ts';
import type { RouteKit } from '../routeKit.ts';

export const WebhookAck = z
  .object({
    received: z.literal(true),
    /** A type (or an object) that concerns no order here: acknowledged so Stripe stops resending it. */
    ignored: z.literal(true).optional(),
  })
  .describe('WebhookAck');

/**
 * Stripe's webhook endpoint. Answers at once: the verified event is queued as a 'payments.event' job keyed by its id
 * and processed there (domain/commerce/paymentEvents.ts), so a slow database never makes Stripe resend, and a
 * redelivery of an event already processed changes nothing.
 */
export function webhookRoutes(route: RouteKit, deps: Deps) {
  route(
    {
      method: 'post',
      path: '/webhooks/stripe',
      summary: "Stripe's events (signed with STRIPE_WEBHOOK_SECRET)",
      tags: ['commerce'],
      auth: false,
      responses: { 200: { description: 'Received (queued for processing, or ignored)', schema: WebhookAck } },
    },
    async (ctx) => {
      const signature = ctx.get('stripe-signature');
      // Nothing unsigned is Stripe's: refused as bad input whether or not Stripe is configured here.
      if (!signature) throw new AppError('invalid_input', 'The Stripe signature does not verify.');
      const secret = deps.commerce.webhookSecret;
      if (!secret) throw new AppError('unavailable', 'Stripe is not configured.');
      const rawBody = (ctx.request as { rawBody?: Buffer }).rawBody ?? Buffer.alloc(0);
      const stripeEvent = verifyStripeEvent(rawBody, signature, secret);
      if (!stripeEvent) throw new AppError('invalid_input', 'The Stripe signature does not verify.');
      const event = toPaymentEvent(stripeEvent);
      if (!event) return { received: true, ignored: true } as const;
      await enqueueJob(deps.orm.em.fork(), 'payments.event', { event }, { jobKey: event.id });
      return { received: true } as const;
    },
  );
}
