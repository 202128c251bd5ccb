import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleDto, BundleList } from '../../contracts/commerce.ts';
import { publishedCourse, registerInstructor } from '../../test/courseFactories.ts';
import { createEbook } from '../../test/ebookFactories.ts';
import { call, ok, registerUsers } from '../../test/factories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';

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
