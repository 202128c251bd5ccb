/**
 * Every page of the web app on a phone (390 × 844): nothing scrolls sideways. The route list is read from
 * web/src/routes, so a new page without an entry here fails the test instead of going unchecked.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { haveChromium, loggedInApi, reportMissingChromium, signIn, startProduct, type Product } from './harness.ts';

reportMissingChromium('narrow screens');

const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 };
const MISSING = '00000000-0000-4000-8000-000000000000';
const ROUTES_DIR = path.resolve(import.meta.dirname, '../src/routes');

/** Every page's route pattern, as SvelteKit spells it without groups or layout resets: `/app/c/[communityId]`. */
function pageRoutes(dir = ROUTES_DIR, prefix = ''): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      const segment = /^\(.*\)$/.test(entry.name) ? '' : `/${entry.name}`;
      found.push(...pageRoutes(path.join(dir, entry.name), prefix + segment));
    } else if (/^\+page(@[^.]*)?\.svelte$/.test(entry.name)) {
      found.push(prefix || '/');
    }
  }
  return found.sort();
}

/** How far the page reaches past the viewport, and the elements that stick out furthest (to fix from the output). */
async function overflowOf(page: Page): Promise<{ scrollWidth: number; culprits: string[] }> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const culprits: { right: number; what: string }[] = [];
    const inScrollers: { right: number; what: string }[] = [];
    for (const el of document.body.querySelectorAll<HTMLElement>('*')) {
      const box = el.getBoundingClientRect();
      if (box.right <= width + 1) continue;
      // Inside a scrolling or clipping container that itself fits, the overflow is intended (tables, code blocks).
      let scroller = el.parentElement;
      let contained = false;
      while (scroller && scroller !== document.body) {
        const overflowX = getComputedStyle(scroller).overflowX;
        if (overflowX !== 'visible' && scroller.getBoundingClientRect().right <= width + 1) {
          contained = true;
          break;
        }
        scroller = scroller.parentElement;
      }
      const id = el.id ? `#${el.id}` : '';
      const testId = el.dataset.testid ? `[data-testid=${el.dataset.testid}]` : '';
      const cls = typeof el.className === 'string' ? `.${el.className.split(/\s+/).slice(0, 4).join('.')}` : '';
      (contained ? inScrollers : culprits).push({ right: Math.round(box.right), what: `${el.tagName.toLowerCase()}${id}${testId}${cls} → ${Math.round(box.right)}px` });
    }
    // Nothing sticks out on its own: then a positioned element (an sr-only caption, a badge) escapes a scroller that
    // is not its containing block — give that scroller `relative`.
    const named = culprits.length > 0 ? culprits : inScrollers.map((c) => ({ ...c, what: `${c.what} (inside a scroller that is not position: relative?)` }));
    named.sort((a, b) => b.right - a.right);
    return { scrollWidth: document.documentElement.scrollWidth, culprits: named.slice(0, 5).map((c) => c.what) };
  });
}

describe.skipIf(!haveChromium)('the web app on a phone', () => {
  let product: Product;

  beforeAll(async () => {
    product = await startProduct({ SEED_DEMO: 'always' });
  });

  afterAll(async () => {
    await product?.close();
  });

  it('no page scrolls sideways at 390 px, signed in or not', { timeout: 240_000 }, async () => {
    const instructor = await loggedInApi(product.baseUrl, 'instructor@demo.edulure.test', 'teach-with-edulure');
    const learner = await loggedInApi(product.baseUrl, 'learner@demo.edulure.test', 'learn-with-edulure');
    const me = await learner<{ user: { id: string } }>('GET', '/me');

    // Real ids from the demo data, so each page shows its content rather than "not found".
    const { data: communities } = await instructor<{ data: { id: string; slug: string }[] }>('GET', '/communities?limit=100');
    const community = communities.find((c) => c.slug === 'demo-academy')!;
    const { data: channels } = await instructor<{ data: { id: string; name: string }[] }>('GET', `/communities/${community.id}/channels`);
    const general = channels.find((c) => c.name === 'general')!;
    const { data: classrooms } = await instructor<{ data: { id: string }[] }>('GET', `/classrooms?communityId=${community.id}`);
    const { data: courses } = await learner<{ data: { id: string; title: string }[] }>('GET', '/courses?limit=100');
    const freeCourse = courses.find((c) => c.title === 'Learning together: a starter course')!;
    const paidCourse = courses.find((c) => c.title === 'Deep work for learners')!;
    const detail = await learner<{ modules: { lessons: { id: string }[] }[] }>('GET', `/courses/${freeCourse.id}`);
    const lessonId = detail.modules[0]!.lessons[0]!.id;
    const { data: ebooks } = await learner<{ data: { id: string }[] }>('GET', '/ebooks?limit=100');
    const ebookId = ebooks[0]!.id;
    const { data: posts } = await learner<{ data: { id: string }[] }>('GET', `/communities/${community.id}/feed?limit=1`);
    const { order } = await learner<{ order: { id: string } }>('POST', '/checkout', { productId: paidCourse.id });
    const { channel: dm } = await instructor<{ channel: { id: string } }>('POST', '/dms', { userIds: [me.user.id] });

    const visitor = await product.newDevice(PHONE);
    const member = await product.newDevice(PHONE);
    const owner = await product.newDevice(PHONE);
    await signIn(member.page, product.baseUrl, 'learner@demo.edulure.test', 'learn-with-edulure');
    await signIn(owner.page, product.baseUrl, 'instructor@demo.edulure.test', 'teach-with-edulure');
    // A chapter for the chapter editor, from the ebook's table of contents.
    const { ebook: { toc } } = await instructor<{ ebook: { toc: { id: string }[] } }>('GET', `/ebooks/${ebookId}`);
    const chapterId = toc[0]!.id;

    const ids: Record<string, string> = {
      communityId: community.id,
      channelId: general.id,
      classroomId: classrooms[0]!.id,
      courseId: freeCourse.id,
      lessonId,
      ebookId,
      chapterId,
      orderId: order.id,
      productId: paidCourse.id,
      userId: me.user.id,
      postId: posts[0]?.id ?? MISSING,
      // Pages whose subject the demo does not have: they show their "not found" state, which must fit too.
      bundleId: MISSING,
      certificateId: MISSING,
      caseId: MISSING,
    };
    const concrete = (route: string): string => {
      let url = route.replace(/\[(\w+)\]/g, (_, name: string) => {
        if (!(name in ids)) throw new Error(`no id for [${name}] in ${route}: add one to this test`);
        return ids[name]!;
      });
      if (route === '/app/dm/[channelId]') url = url.replace(general.id, dm.id);
      if (route === '/app/checkout/[productId]') url = url.replace(freeCourse.id, paidCourse.id);
      return url;
    };
    const routes = pageRoutes();
    expect(routes).toContain('/app/c/[communityId]/[channelId]');

    const overflowing: string[] = [];
    for (const route of routes) {
      // Learners' own pages are seen by the learner; teaching and moderation by the community's owner.
      const page = !route.startsWith('/app')
        ? visitor.page
        : /^\/app\/(orders|checkout|courses|ebooks|bundles)/.test(route)
          ? member.page
          : owner.page;
      if (route === '/signout') continue; // signing out is a form post, not a page to look at
      const url = concrete(route);
      await page.goto(url);
      await page.waitForLoadState('networkidle').catch(() => {});
      const { scrollWidth, culprits } = await overflowOf(page);
      if (scrollWidth > 390) overflowing.push(`${url} (${route}): ${scrollWidth}px wide; ${culprits.join(', ')}`);
    }
    expect(overflowing, overflowing.join('\n')).toEqual([]);
  });
});
