import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Stripe from 'stripe';

/*
 * A loopback stand-in for the part of Stripe's API the adapter calls (PaymentIntents, refunds, customers, prices,
 * subscriptions), with Stripe's wire habits: form-encoded requests with nested keys, JSON answers, Idempotency-Key
 * replays, expandable fields, `{error: {type, message}}` failures. It also builds the webhook events Stripe would send
 * for what happened in it, ready to be signed and POSTed to /api/v1/webhooks/stripe.
 */

type Json = Record<string, any>;

export interface RecordedRequest {
  method: string;
  /** Without the query string, e.g. /v1/payment_intents */
  path: string;
  headers: IncomingHttpHeaders;
  idempotencyKey: string | null;
  /** The form body (or, for GET, the query) as a nested object; values are strings as sent. */
  form: Json;
}

export interface PlannedFailure {
  status: number;
  error: { type: string; message: string; code?: string };
}

const id = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;
const now = () => Math.floor(Date.now() / 1000);
const MONTH = 30 * 24 * 3600;
const YEAR = 365 * 24 * 3600;

export async function startStripeFake() {
  const requests: RecordedRequest[] = [];
  const intents = new Map<string, Json>();
  const refunds = new Map<string, Json>();
  const customers = new Map<string, Json>();
  const prices = new Map<string, Json>();
  const subscriptions = new Map<string, Json>();
  const invoices = new Map<string, Json>();
  const charges = new Map<string, string>(); // payment intent id → charge id
  const replays = new Map<string, { status: number; body: Json }>();
  const failures: PlannedFailure[] = [];

  const list = (data: Json[], url: string) => ({ object: 'list', data, has_more: false, url });

  function createIntent(form: Json, extra: Json = {}): Json {
    const intentId = id('pi');
    const intent: Json = {
      id: intentId,
      object: 'payment_intent',
      amount: Number(form.amount),
      amount_capturable: 0,
      amount_received: 0,
      automatic_payment_methods: form.automatic_payment_methods ? { enabled: form.automatic_payment_methods.enabled === 'true' } : null,
      cancellation_reason: null,
      client_secret: `${intentId}_secret_${randomBytes(8).toString('hex')}`,
      created: now(),
      currency: String(form.currency),
      customer: form.customer ?? null,
      description: form.description ?? null,
      last_payment_error: null,
      latest_charge: null,
      livemode: false,
      metadata: form.metadata ?? {},
      status: 'requires_payment_method',
      ...extra,
    };
    intents.set(intentId, intent);
    return intent;
  }

  function expandInvoice(invoice: Json, expand: string[]): Json {
    const shown: Json = { ...invoice };
    delete shown.confirmation_secret;
    delete shown.payments;
    if (expand.includes('confirmation_secret')) shown.confirmation_secret = invoice.confirmation_secret;
    if (expand.includes('payments')) shown.payments = invoice.payments;
    return shown;
  }

  function presentSubscription(subscription: Json, expand: string[]): Json {
    const invoiceExpand = expand.filter((e) => e.startsWith('latest_invoice')).map((e) => e.slice('latest_invoice.'.length));
    const invoice = invoices.get(subscription.latest_invoice);
    return {
      ...subscription,
      latest_invoice: invoiceExpand.length && invoice ? expandInvoice(invoice, invoiceExpand) : subscription.latest_invoice,
    };
  }

  const expandsOf = (form: Json): string[] => (Array.isArray(form.expand) ? form.expand : form.expand ? [form.expand] : []);

  function handle(method: string, path: string, form: Json): { status: number; body: Json } {
    const notFound = (what: string) => ({
      status: 404,
      body: { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such ${what}` } },
    });
    let m: RegExpMatchArray | null;

    if (method === 'POST' && path === '/v1/payment_intents') return { status: 200, body: createIntent(form) };
    if ((m = path.match(/^\/v1\/payment_intents\/([^/]+)$/)) && method === 'GET') {
      const intent = intents.get(m[1]!);
      return intent ? { status: 200, body: intent } : notFound(`payment_intent: '${m[1]}'`);
    }
    if ((m = path.match(/^\/v1\/payment_intents\/([^/]+)\/cancel$/)) && method === 'POST') {
      const intent = intents.get(m[1]!);
      if (!intent) return notFound(`payment_intent: '${m[1]}'`);
      if (intent.status === 'succeeded' || intent.status === 'canceled') {
        return {
          status: 400,
          body: {
            error: {
              type: 'invalid_request_error',
              code: 'payment_intent_unexpected_state',
              message: `You cannot cancel this PaymentIntent because it has a status of ${intent.status}.`,
            },
          },
        };
      }
      Object.assign(intent, { status: 'canceled', cancellation_reason: form.cancellation_reason ?? 'requested_by_customer' });
      return { status: 200, body: intent };
    }
    if (method === 'POST' && path === '/v1/refunds') {
      const intent = intents.get(String(form.payment_intent));
      if (!intent) return notFound(`payment_intent: '${form.payment_intent}'`);
      const refunded = [...refunds.values()].filter((r) => r.payment_intent === intent.id && r.status !== 'failed').reduce((s, r) => s + r.amount, 0);
      const amount = form.amount ? Number(form.amount) : intent.amount_received - refunded;
      if (intent.status !== 'succeeded' || amount > intent.amount_received - refunded) {
        return { status: 400, body: { error: { type: 'invalid_request_error', code: 'amount_too_large', message: 'Refund amount is greater than unrefunded amount on charge.' } } };
      }
      const refund = {
        id: id('re'),
        object: 'refund',
        amount,
        charge: charges.get(intent.id) ?? null,
        created: now(),
        currency: intent.currency,
        metadata: form.metadata ?? {},
        payment_intent: intent.id,
        reason: form.reason ?? null,
        status: 'succeeded',
      };
      refunds.set(refund.id, refund);
      return { status: 200, body: refund };
    }
    if (method === 'POST' && path === '/v1/customers') {
      const customer = { id: id('cus'), object: 'customer', created: now(), email: form.email ?? null, name: form.name ?? null, metadata: form.metadata ?? {} };
      customers.set(customer.id, customer);
      return { status: 200, body: customer };
    }
    if (method === 'POST' && path === '/v1/prices') {
      const price = {
        id: id('price'),
        object: 'price',
        active: true,
        currency: form.currency,
        unit_amount: Number(form.unit_amount),
        recurring: form.recurring ? { interval: form.recurring.interval, interval_count: 1 } : null,
        product: id('prod'),
        metadata: form.metadata ?? {},
        type: form.recurring ? 'recurring' : 'one_time',
      };
      prices.set(price.id, price);
      return { status: 200, body: price };
    }
    if (method === 'POST' && path === '/v1/subscriptions') {
      const price = prices.get(String(form.items?.[0]?.price));
      if (!price) return notFound(`price: '${form.items?.[0]?.price}'`);
      if (!customers.has(String(form.customer))) return notFound(`customer: '${form.customer}'`);
      const subscriptionId = id('sub');
      const start = now();
      const end = start + (price.recurring?.interval === 'year' ? YEAR : MONTH);
      const itemId = id('si');
      const intent = createIntent({ amount: price.unit_amount, currency: price.currency, customer: form.customer, description: 'Subscription creation' });
      const invoice: Json = {
        id: id('in'),
        object: 'invoice',
        amount_due: price.unit_amount,
        amount_paid: 0,
        amount_remaining: price.unit_amount,
        billing_reason: 'subscription_create',
        currency: price.currency,
        customer: form.customer,
        lines: list(
          [
            {
              id: id('il'),
              object: 'line_item',
              amount: price.unit_amount,
              currency: price.currency,
              period: { start, end },
              subscription: null,
              parent: {
                type: 'subscription_item_details',
                subscription_item_details: { subscription: subscriptionId, subscription_item: itemId, invoice_item: null, proration: false, proration_details: null },
              },
            },
          ],
          '/v1/invoices/lines',
        ),
        parent: { type: 'subscription_details', subscription_details: { subscription: subscriptionId, metadata: form.metadata ?? {} }, quote_details: null },
        period_start: start,
        period_end: start,
        status: 'open',
        confirmation_secret: { client_secret: intent.client_secret, type: 'payment_intent' },
        payments: list(
          [{ id: id('inpay'), object: 'invoice_payment', amount_paid: null, amount_requested: price.unit_amount, currency: price.currency, is_default: true, payment: { type: 'payment_intent', payment_intent: intent.id }, status: 'open' }],
          '/v1/invoice_payments',
        ),
      };
      invoices.set(invoice.id, invoice);
      const subscription: Json = {
        id: subscriptionId,
        object: 'subscription',
        cancel_at_period_end: false,
        canceled_at: null,
        created: start,
        currency: price.currency,
        customer: form.customer,
        ended_at: null,
        items: list([{ id: itemId, object: 'subscription_item', price, quantity: 1, current_period_start: start, current_period_end: end }], '/v1/subscription_items'),
        latest_invoice: invoice.id,
        metadata: form.metadata ?? {},
        payment_settings: form.payment_settings ?? null,
        start_date: start,
        status: 'incomplete',
      };
      subscriptions.set(subscriptionId, subscription);
      return { status: 200, body: presentSubscription(subscription, expandsOf(form)) };
    }
    if ((m = path.match(/^\/v1\/subscriptions\/([^/]+)$/))) {
      const subscription = subscriptions.get(m[1]!);
      if (!subscription) return notFound(`subscription: '${m[1]}'`);
      if (method === 'POST') {
        if (form.cancel_at_period_end !== undefined) subscription.cancel_at_period_end = form.cancel_at_period_end === 'true';
        return { status: 200, body: presentSubscription(subscription, expandsOf(form)) };
      }
      if (method === 'DELETE') {
        Object.assign(subscription, { status: 'canceled', canceled_at: now(), ended_at: now() });
        return { status: 200, body: presentSubscription(subscription, expandsOf(form)) };
      }
      if (method === 'GET') return { status: 200, body: presentSubscription(subscription, expandsOf(form)) };
    }
    return notFound(`route: ${method} ${path}`);
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://stripe.fake');
      const method = req.method ?? 'GET';
      const raw = Buffer.concat(chunks).toString('utf8');
      const form = parseForm(method === 'GET' ? url.search.slice(1) : raw);
      const idempotencyKey = (req.headers['idempotency-key'] as string | undefined) ?? null;
      requests.push({ method, path: url.pathname, headers: req.headers, idempotencyKey, form });
      const send = (status: number, body: Json) => {
        res.writeHead(status, { 'content-type': 'application/json', 'request-id': id('req') });
        res.end(JSON.stringify(body));
      };
      const failure = failures.shift();
      if (failure) return send(failure.status, { error: failure.error });
      if (!/^Bearer (sk|rk)_test_/.test(req.headers.authorization ?? '')) {
        return send(401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided.' } });
      }
      const replayKey = idempotencyKey && method === 'POST' ? `${idempotencyKey}` : null;
      const replay = replayKey ? replays.get(replayKey) : undefined;
      if (replay) return send(replay.status, replay.body);
      const answer = handle(method, url.pathname, form);
      if (replayKey && answer.status < 500) replays.set(replayKey, answer);
      send(answer.status, answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const intentOrThrow = (intentId: string) => {
    const intent = intents.get(intentId);
    if (!intent) throw new Error(`the Stripe fake has no PaymentIntent ${intentId}`);
    return intent;
  };

  /** A Stripe event of `type` about `object` (a snapshot, as Stripe sends). */
  function event(type: string, object: Json): Stripe.Event {
    return {
      id: id('evt'),
      object: 'event',
      api_version: Stripe.API_VERSION,
      created: now(),
      data: { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: id('req'), idempotency_key: null },
      type,
    } as unknown as Stripe.Event;
  }

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    intents,
    subscriptions,
    invoices,

    /** The next `n` requests answer `status` (default 500, Stripe's api_error) instead of being served. */
    failNext(n: number, failure: PlannedFailure = { status: 500, error: { type: 'api_error', message: 'An unknown error occurred.' } }) {
      for (let i = 0; i < n; i++) failures.push(failure);
    },

    /** Requests to `path` (and method), in order. */
    requestsTo(method: string, path: string) {
      return requests.filter((r) => r.method === method && r.path === path);
    },

    /** The buyer paid: the intent succeeds; answers the payment_intent.succeeded event. */
    succeed(intentId: string): Stripe.Event {
      const intent = intentOrThrow(intentId);
      const chargeId = charges.get(intentId) ?? id('ch');
      charges.set(intentId, chargeId);
      Object.assign(intent, { status: 'succeeded', amount_received: intent.amount, last_payment_error: null, latest_charge: chargeId });
      return event('payment_intent.succeeded', intent);
    },

    /** The card was declined: answers the payment_intent.payment_failed event. */
    decline(intentId: string, message = 'Your card was declined.'): Stripe.Event {
      const intent = intentOrThrow(intentId);
      Object.assign(intent, {
        status: 'requires_payment_method',
        last_payment_error: { type: 'card_error', code: 'card_declined', decline_code: 'generic_decline', message },
      });
      return event('payment_intent.payment_failed', intent);
    },

    /** Any payment_intent.* event about the intent as it is now, with some fields changed in the event only. */
    intentEvent(type: 'payment_intent.succeeded' | 'payment_intent.payment_failed' | 'payment_intent.canceled', intentId: string, overrides: Json = {}): Stripe.Event {
      return event(type, { ...intentOrThrow(intentId), ...overrides });
    },

    /** refund.created / refund.updated / refund.failed about a refund made through the API. */
    refundEvent(type: 'refund.created' | 'refund.updated' | 'refund.failed', refundId: string, overrides: Json = {}): Stripe.Event {
      const refund = refunds.get(refundId);
      if (!refund) throw new Error(`the Stripe fake has no refund ${refundId}`);
      Object.assign(refund, overrides);
      return event(type, refund);
    },

    /** charge.refunded for the intent's charge; `withRefunds` lists them (older API versions did, current ones do not). */
    chargeRefunded(intentId: string, options: { withRefunds?: boolean } = {}): Stripe.Event {
      const intent = intentOrThrow(intentId);
      const chargeId = charges.get(intentId) ?? id('ch');
      const mine = [...refunds.values()].filter((r) => r.payment_intent === intentId);
      const amountRefunded = mine.filter((r) => r.status === 'succeeded').reduce((s, r) => s + r.amount, 0);
      return event('charge.refunded', {
        id: chargeId,
        object: 'charge',
        amount: intent.amount,
        amount_captured: intent.amount_received,
        amount_refunded: amountRefunded,
        currency: intent.currency,
        metadata: intent.metadata,
        payment_intent: intentId,
        refunded: amountRefunded >= intent.amount_received,
        status: 'succeeded',
        ...(options.withRefunds ? { refunds: list(mine, `/v1/charges/${chargeId}/refunds`) } : {}),
      });
    },

    /** charge.dispute.created (status needs_response) or charge.dispute.closed (won / lost…). */
    dispute(kind: 'created' | 'closed', intentId: string, options: { disputeId?: string; status?: string; amount?: number; reason?: string } = {}): Stripe.Event {
      const intent = intentOrThrow(intentId);
      return event(`charge.dispute.${kind}`, {
        id: options.disputeId ?? id('dp'),
        object: 'dispute',
        amount: options.amount ?? intent.amount_received,
        charge: charges.get(intentId) ?? id('ch'),
        created: now(),
        currency: intent.currency,
        is_charge_refundable: false,
        livemode: false,
        metadata: {},
        payment_intent: intentId,
        reason: options.reason ?? 'fraudulent',
        status: options.status ?? (kind === 'created' ? 'needs_response' : 'lost'),
      });
    },

    /** The subscription's latest invoice is paid (its PaymentIntent succeeds; the subscription becomes active). */
    invoicePaid(subscriptionId: string): Stripe.Event {
      const subscription = subscriptions.get(subscriptionId);
      if (!subscription) throw new Error(`the Stripe fake has no subscription ${subscriptionId}`);
      const invoice = invoices.get(subscription.latest_invoice)!;
      Object.assign(invoice, { status: 'paid', amount_paid: invoice.amount_due, amount_remaining: 0 });
      invoice.payments.data[0].status = 'paid';
      invoice.payments.data[0].amount_paid = invoice.amount_due;
      const intentId = invoice.payments.data[0].payment.payment_intent as string;
      Object.assign(intentOrThrow(intentId), { status: 'succeeded', amount_received: invoice.amount_due });
      subscription.status = 'active';
      // Webhook payloads carry the invoice without its includable fields.
      return event('invoice.paid', expandInvoice(invoice, []));
    },

    /** customer.subscription.updated / deleted about the subscription as it is now, with `overrides` applied to it. */
    subscriptionEvent(kind: 'updated' | 'deleted', subscriptionId: string, overrides: Json = {}): Stripe.Event {
      const subscription = subscriptions.get(subscriptionId);
      if (!subscription) throw new Error(`the Stripe fake has no subscription ${subscriptionId}`);
      Object.assign(subscription, kind === 'deleted' ? { status: 'canceled', ended_at: now(), canceled_at: now() } : {}, overrides);
      return event(`customer.subscription.${kind}`, subscription);
    },

    event,

    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export type StripeFake = Awaited<ReturnType<typeof startStripeFake>>;

/** The body and Stripe-Signature header Stripe would send for `event`, signed with the endpoint's secret. */
export function signStripeEvent(event: unknown, secret: string, options: { timestamp?: number } = {}): { payload: string; signature: string } {
  const payload = JSON.stringify(event, null, 2);
  const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(options.timestamp ? { timestamp: options.timestamp } : {}) });
  return { payload, signature };
}

/** `a=1&metadata[orderId]=x&items[0][price]=p&expand[0]=e` → `{a: '1', metadata: {orderId: 'x'}, items: [{price: 'p'}], expand: ['e']}` */
export function parseForm(body: string): Json {
  const root: Json = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.replace(/\]/g, '').split('[');
    let node: Json = root;
    path.forEach((segment, i) => {
      if (i === path.length - 1) {
        // `expand[]=a&expand[]=b`: an empty segment appends.
        node[segment === '' ? Object.keys(node).length : segment] = value;
        return;
      }
      node[segment] ??= {};
      node = node[segment];
    });
  }
  return arraysOf(root) as Json;
}

/** Objects whose keys are 0..n-1 become arrays. */
function arraysOf(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value).map(([k, v]) => [k, arraysOf(v)] as const);
  const keys = entries.map(([k]) => k);
  if (keys.length > 0 && keys.every((k, i) => k === String(i))) return entries.map(([, v]) => v);
  return Object.fromEntries(entries);
}
