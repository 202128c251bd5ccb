import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleDto, BundleList, EarningsDto, RefundResponse } from '../../contracts/commerce.ts';
import { checkoutAs, payTestOrder } from '../../test/commerceFactories.ts';
import { publishedCourse, registerInstructor } from '../../test/courseFactories.ts';
import { createEbook } from '../../test/ebookFactories.ts';
import { api, call, ok, registerUsers } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await node?.close();
});

describe('bundles', () => {
  it('a seller bundles their own published course and ebook; drafts and archived bundles are theirs alone', async () => {
    const author = await registerInstructor(node);
    const [stranger] = await registerUsers(node.url, 1);
    const { course } = await publishedCourse(node, { author, course: { priceMinor: 4000, currency: 'EUR' } });
    const ebook = await createEbook(node, author, { priceMinor: 2000, currency: 'EUR' });
    const input = { title: 'Statistics kit', priceMinor: 4500, currency: 'EUR', items: [{ type: 'course', id: course.id }, { type: 'ebook', id: ebook.id }] };

    const bundle = await ok(call<BundleDto>(node, 'POST', '/bundles', author, input), 201);
    expect(bundle).toMatchObject({
      title: 'Statistics kit',
      priceMinor: 4500,
      currency: 'EUR',
      status: 'published',
      items: [
        { type: 'course', id: course.id, title: course.title, priceMinor: 4000 },
        { type: 'ebook', id: ebook.id, title: ebook.title, priceMinor: 2000 },
      ],
    });
    expect(await ok(call<BundleDto>(node, 'GET', `/bundles/${bundle.id}`, null))).toEqual(bundle);

    const draft = await ok(call<BundleDto>(node, 'POST', '/bundles', author, { ...input, title: 'Draft kit', publish: false }), 201);
    expect(draft.status).toBe('draft');
    expect((await call(node, 'GET', `/bundles/${draft.id}`, stranger)).status).toBe(404);
    expect((await call(node, 'GET', `/bundles/${draft.id}`, author)).status).toBe(200);
    expect((await ok(call<BundleList>(node, 'GET', '/me/bundles', author))).data.map((b) => b.id)).toEqual([draft.id, bundle.id]);
    expect((await ok(call<BundleList>(node, 'GET', '/me/bundles', stranger))).data).toEqual([]);

    // Only the seller changes its status; an archived bundle is off sale and out of sight.
    expect((await call(node, 'PATCH', `/bundles/${bundle.id}`, stranger, { status: 'archived' })).status).toBe(404);
    expect((await ok(call<BundleDto>(node, 'PATCH', `/bundles/${bundle.id}`, author, { status: 'archived' }))).status).toBe('archived');
    expect((await call(node, 'GET', `/bundles/${bundle.id}`, stranger)).status).toBe(404);
    expect((await ok(call<BundleDto>(node, 'PATCH', `/bundles/${draft.id}`, author, { status: 'published' }))).status).toBe('published');
    expect((await call(node, 'GET', `/bundles/${draft.id}`, stranger)).status).toBe(200);
  });

  it('refuses items that are not the seller’s, not published, priced otherwise or twice, and a client-sent field it does not know', async () => {
    const [author, other] = await Promise.all([registerInstructor(node), registerInstructor(node)]);
    const [{ course: mine }, { course: theirs }, { course: dollars }] = await Promise.all([
      publishedCourse(node, { author, lessons: 1, course: { priceMinor: 4000, currency: 'EUR' } }),
      publishedCourse(node, { author: other, lessons: 1, course: { priceMinor: 4000, currency: 'EUR' } }),
      publishedCourse(node, { author, lessons: 1, course: { priceMinor: 4000, currency: 'USD' } }),
    ]);
    const unpublished = await createEbook(node, author, { priceMinor: 1000, currency: 'EUR', publish: false });
    const bundleOf = (items: Array<{ type: string; id: string }>, extra: object = {}) =>
      call(node, 'POST', '/bundles', author, { title: 'Kit', priceMinor: 3000, currency: 'EUR', items, ...extra });

    const cases: Array<[Array<{ type: string; id: string }>, RegExp]> = [
      [[{ type: 'course', id: mine.id }, { type: 'course', id: theirs.id }], /No course of yours/],
      [[{ type: 'course', id: mine.id }, { type: 'ebook', id: unpublished.id }], /not published/],
      [[{ type: 'course', id: mine.id }, { type: 'course', id: dollars.id }], /priced in EUR/],
      [[{ type: 'course', id: mine.id }, { type: 'course', id: mine.id }], /twice/],
      [[{ type: 'course', id: mine.id }, { type: 'ebook', id: crypto.randomUUID() }], /No ebook of yours/],
    ];
    for (const [items, message] of cases) {
      const res = await bundleOf(items);
      expect(res.status, JSON.stringify(items)).toBe(400);
      expect(res.body.error.code).toBe('invalid_input');
      expect(res.body.error.message).toMatch(message);
    }
    expect((await bundleOf([{ type: 'course', id: mine.id }])).status).toBe(400);
    expect((await bundleOf([{ type: 'course', id: mine.id }, { type: 'course', id: dollars.id }], { sellerId: other.user.id })).status).toBe(400);
  });
});

/** A CSV body split into rows of fields (quoted fields with commas, doubled quotes and line breaks honoured). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',' || c === '\n') {
      row.push(field);
      field = '';
      if (c === '\n') {
        rows.push(row);
        row = [];
      }
    } else if (c !== '\r') field += c;
  }
  return rows;
}

describe('earnings', () => {
  it('two sales (one taxed) and a refund: totals per currency, net per day, latest sales, and the CSV of every posting', async () => {
    const seller = await registerInstructor(node);
    const [buyer, stranger] = await registerUsers(node.url, 2);
    const [{ course: plain }, { course: quoted }] = await Promise.all([
      publishedCourse(node, { author: seller, lessons: 1, course: { title: 'Plain statistics', priceMinor: 3000, currency: 'EUR' } }),
      publishedCourse(node, { author: seller, lessons: 1, course: { title: '=Stats, "fast"', priceMinor: 11900, currency: 'EUR' } }),
    ]);
    const first = (await ok(checkoutAs(node, buyer, { productId: plain.id }), 201)).order;
    const second = (await ok(checkoutAs(node, buyer, { productId: quoted.id, country: 'DE' }), 201)).order;
    expect(second.taxMinor).toBeGreaterThan(0);
    await payTestOrder(node, buyer, first.id, 'pay');
    await payTestOrder(node, buyer, second.id, 'pay');
    await ok(api<RefundResponse>(node.url, 'POST', `/api/v1/orders/${first.id}/refunds`, { token: seller.accessToken, body: { amountMinor: 1000, reason: 'Partly.' } }), 201);
    const fees = await dbOf(node).selectFrom('orders').select(['id', 'platform_fee_minor']).where('id', 'in', [first.id, second.id]).execute();
    const fee = fees.reduce((sum, o) => sum + o.platform_fee_minor, 0);
    // A third of the first order's fee (rounded down) went back with its refund of a third.
    const feeBack = Math.floor((fees.find((o) => o.id === first.id)!.platform_fee_minor * 1000) / 3000);

    const body = await ok(call<EarningsDto>(node, 'GET', '/me/earnings', seller));
    const gross = first.totalMinor + second.totalMinor;
    const net = gross - second.taxMinor - (fee - feeBack) - 1000;
    expect(body.totals).toEqual([
      { currency: 'EUR', orders: 2, grossMinor: gross, taxMinor: second.taxMinor, platformFeeMinor: fee - feeBack, refundsMinor: 1000, disputesMinor: 0, netMinor: net },
    ]);
    // Today (UTC), or today and yesterday when the sales straddled midnight.
    expect(body.daily.map((d) => d.day)).toContain(body.to.slice(0, 10));
    expect(body.daily.reduce((sum, d) => sum + d.netMinor, 0)).toBe(net);
    expect(body.daily.reduce((sum, d) => sum + d.orders, 0)).toBe(2);
    expect(body.recentOrders.map((o) => [o.id, o.status])).toEqual([
      [second.id, 'paid'],
      [first.id, 'partially_refunded'],
    ]);
    expect(await ok(call<EarningsDto>(node, 'GET', '/me/earnings', stranger))).toMatchObject({ totals: [], daily: [], recentOrders: [] });

    const csv = await call(node, 'GET', '/me/earnings?format=csv', seller);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(csv.headers.get('content-disposition')).toMatch(/attachment; filename="earnings-\d{4}-\d{2}-\d{2}-\d{4}-\d{2}-\d{2}\.csv"/);
    const [header, ...rows] = parseCsv(csv.body as string);
    expect(header).toEqual(['date', 'order_id', 'title', 'kind', 'currency', 'gross_minor', 'tax_minor', 'fee_minor', 'net_minor']);
    expect(rows.map((r) => [r[1], r[2], r[3], Number(r[5])])).toEqual([
      [first.id, 'Plain statistics', 'payment', first.totalMinor],
      [second.id, `'=Stats, "fast"`, 'payment', second.totalMinor],
      [first.id, 'Plain statistics', 'refund', -1000],
    ]);
    // Each row balances, and the rows add up to the totals.
    for (const r of rows) expect(Number(r[5]) - Number(r[6]) - Number(r[7]) - Number(r[8])).toBe(0);
    expect(rows.reduce((sum, r) => sum + Number(r[8]), 0)).toBe(net);

    expect((await call(node, 'GET', '/me/earnings?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z', seller)).status).toBe(400);
    expect((await call(node, 'GET', '/me/earnings?from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z', seller)).status).toBe(400);
    expect((await call(node, 'GET', '/me/earnings?format=xml', seller)).status).toBe(400);
  });
});

describe('buying a bundle', () => {
  it('opens every item of the bundle for the buyer, each line with its share of the price', async () => {
    const author = await registerInstructor(node);
    const [buyer] = await registerUsers(node.url, 1);
    const { course } = await publishedCourse(node, { author, lessons: 1, course: { priceMinor: 4000, currency: 'EUR' } });
    const ebook = await createEbook(node, author, { priceMinor: 2000, currency: 'EUR' });
    const bundle = await ok(
      call<BundleDto>(node, 'POST', '/bundles', author, { title: 'Kit', priceMinor: 4500, currency: 'EUR', items: [{ type: 'course', id: course.id }, { type: 'ebook', id: ebook.id }] }),
      201,
    );
    const { order } = await ok(checkoutAs(node, buyer, { productId: bundle.id }), 201);
    expect(order).toMatchObject({ productType: 'bundle', productId: bundle.id, totalMinor: 4500 });
    expect(order.lines.map((l) => [l.resourceType, l.resourceId])).toEqual([
      ['course', course.id],
      ['ebook', ebook.id],
    ]);
    expect(order.lines.reduce((sum, l) => sum + l.amountMinor, 0)).toBe(4500);
    expect((await payTestOrder(node, buyer, order.id, 'pay')).status).toBe('paid');
    const held = await dbOf(node)
      .selectFrom('entitlements')
      .select(['resource_type', 'resource_id', 'order_id'])
      .where('user_id', '=', buyer.user.id)
      .where('revoked_at', 'is', null)
      .orderBy('resource_type')
      .execute();
    expect(held).toEqual([
      { resource_type: 'course', resource_id: course.id, order_id: order.id },
      { resource_type: 'ebook', resource_id: ebook.id, order_id: order.id },
    ]);
  });
});
