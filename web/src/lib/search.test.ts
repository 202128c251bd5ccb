import { describe, expect, it, vi } from 'vitest';
import { SuggestBox } from './components/search/suggestBox.svelte.ts';
import { apiSearchQuery, appPath, filtersFromUrl, matchParts, priceCounts, searchHref } from './search.ts';

describe('the results page address', () => {
  it('reads what it knows and drops the rest', () => {
    const filters = filtersFromUrl(new URLSearchParams('q= paint &types=course,spaceship&level=expert&tag=Art&price=free&sort=popular&communityId=nope'));
    expect(filters).toEqual({ q: 'paint', types: ['course'], level: null, tag: 'art', price: 'free', sort: 'popular', communityId: null });
  });

  it('writes links with one thing changed, defaults left out', () => {
    const filters = filtersFromUrl(new URLSearchParams('q=paint&level=beginner'));
    expect(searchHref(filters, { types: ['course'] })).toBe('/app/search?q=paint&types=course&level=beginner');
    expect(searchHref(filters, { level: null })).toBe('/app/search?q=paint');
    expect(searchHref({ ...filters, q: '', level: null })).toBe('/app/search');
  });

  it("maps the price choices onto the API's free and priceMax, and counts them from its buckets", () => {
    const query = (price: string) => apiSearchQuery(filtersFromUrl(new URLSearchParams({ q: 'x', price })), { cursor: 'c1' }).toString();
    expect(query('free')).toBe('q=x&free=true&cursor=c1&limit=20');
    expect(query('paid')).toBe('q=x&free=false&cursor=c1&limit=20');
    expect(query('under-20')).toBe('q=x&priceMax=19.99&cursor=c1&limit=20');
    expect(query('up-to-50')).toBe('q=x&priceMax=50&cursor=c1&limit=20');
    expect(priceCounts({ free: 2, 'under-20': 1, '20-50': 3, '50-plus': 4 })).toEqual({ free: 2, paid: 8, 'under-20': 3, 'up-to-50': 6 });
  });

  it('keeps hit addresses inside the app', () => {
    expect(appPath('/app/courses/1f0e')).toBe('/app/courses/1f0e');
    expect(appPath('https://evil.example/app/')).toBe('/app/search');
    expect(appPath('//evil.example/app/x')).toBe('/app/search');
    expect(appPath('javascript:alert(1)')).toBe('/app/search');
  });

  it('cuts a message into matching and other parts', () => {
    expect(matchParts('New Brushes arrived', 'brushes -old "arrived"')).toEqual([
      { text: 'New ', match: false },
      { text: 'Brushes', match: true },
      { text: ' ', match: false },
      { text: 'arrived', match: true },
    ]);
    expect(matchParts('a (b) c', '(b)')).toEqual([
      { text: 'a ', match: false },
      { text: '(b)', match: true },
      { text: ' c', match: false },
    ]);
  });
});

describe('the shell search box', () => {
  const suggestions = [
    { type: 'post', id: 'p1', title: 'Paint night', url: '/app/c/c1/feed/p1' },
    { type: 'course', id: 'c1', title: 'Painting 101', url: '/app/courses/c1' },
  ];

  it('asks once typing pauses, aborting what a newer keystroke replaced, and groups by kind', async () => {
    vi.useFakeTimers();
    try {
      const signals: AbortSignal[] = [];
      const fetch = vi.fn(async (route: string, query: URLSearchParams | null, signal?: AbortSignal) => {
        if (signal) signals.push(signal);
        return route === 'recent' ? { ok: true as const, data: { data: [] } } : { ok: true as const, data: { data: suggestions.filter(() => query?.get('q') === 'pain') } };
      }) as never;
      const box = new SuggestBox({ fetch, delayMs: 120 });
      box.input('pa');
      await vi.advanceTimersByTimeAsync(50);
      box.input('pai');
      box.input('pain');
      await vi.advanceTimersByTimeAsync(120);
      expect((fetch as unknown as { mock: { calls: unknown[][] } }).mock.calls.filter(([route]) => route === 'suggest')).toHaveLength(1);
      expect(box.groups.map((g) => g.label)).toEqual(['Courses', 'Posts', '']);
      expect(box.options.map((o) => o.kind)).toEqual(['suggestion', 'suggestion', 'all']);
      expect(box.options.at(-1)!.href).toBe('/app/search?q=pain');

      box.move(1);
      expect(box.activeOption?.label).toBe('Painting 101');
      box.move(-1);
      box.move(-1);
      expect(box.activeOption?.kind).toBe('suggestion');
      expect(box.activeOption?.label).toBe('Paint night');
      expect(signals.every((s) => !s.aborted)).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('aborts a request still out when the words change, and shows only the newest answer', async () => {
    vi.useFakeTimers();
    try {
      const pending: { q: string; signal: AbortSignal; answer: () => void }[] = [];
      const fetch = ((_route: string, query: URLSearchParams, signal: AbortSignal) =>
        new Promise((resolve) => {
          const q = query.get('q')!;
          pending.push({ q, signal, answer: () => resolve(signal.aborted ? null : { ok: true, data: { data: suggestions.map((s) => ({ ...s, title: `${s.title} (${q})` })) } }) });
        })) as never;
      const box = new SuggestBox({ fetch, delayMs: 120 });
      box.input('pain');
      await vi.advanceTimersByTimeAsync(120);
      box.input('paint');
      expect(box.active).toBe(-1);
      expect(pending[0]!.signal.aborted).toBe(true);
      await vi.advanceTimersByTimeAsync(120);
      pending[1]!.answer();
      pending[0]!.answer();
      await vi.runAllTimersAsync();
      expect(box.answered).toBe('paint');
      expect(box.options[0]!.label).toBe('Painting 101 (paint)');
    } finally {
      vi.useRealTimers();
    }
  });

  it('shows the recent searches when empty', async () => {
    const fetch = vi.fn(async () => ({ ok: true as const, data: { data: [{ q: 'painting' }] } })) as never;
    const box = new SuggestBox({ fetch });
    box.focus();
    await vi.waitFor(() => expect(box.groups[0]?.label).toBe('Recent searches'));
    expect(box.options[0]).toMatchObject({ kind: 'recent', label: 'painting', href: '/app/search?q=painting' });
  });
});
