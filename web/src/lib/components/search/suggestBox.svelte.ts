import type { AckResult } from '$contracts/errors.ts';
import type { SearchType, Suggestion } from '$contracts/search.ts';
import { appPath, groupByType, TYPE_LABELS } from '$lib/search.ts';
import { searchGet } from './searchClient.ts';

export interface BoxOption {
  /** Unique within the list (the DOM id is built from it). */
  key: string;
  kind: 'suggestion' | 'recent' | 'all';
  label: string;
  href: string;
  type?: SearchType;
}

export interface BoxGroup {
  label: string;
  options: BoxOption[];
}

type Fetch = <T>(route: 'suggest' | 'recent', query: URLSearchParams | null, signal?: AbortSignal) => Promise<AckResult<T> | null>;

export interface SuggestBoxOptions {
  /** How long typing must pause before asking (a request per keystroke is wasted on fast typists). */
  delayMs?: number;
  limit?: number;
  fetch?: Fetch;
}

/**
 * The shell's search box as a combobox: what is typed, the suggestions for it grouped by kind (asked for once typing
 * pauses, the previous request aborted), the recent searches when it is empty, and which option the arrow keys are on.
 * Rendering and focus are the component's; this holds the state so its rules can be read (and tested) in one place.
 */
export class SuggestBox {
  query = $state('');
  open = $state(false);
  /** Index into `options`, -1 when none is active (Enter then submits the form). */
  active = $state(-1);
  loading = $state(false);
  suggestions = $state.raw<Suggestion[]>([]);
  /** The words the suggestions shown answer (they stay on screen while the next ones load). */
  answered = $state('');
  recent = $state.raw<{ q: string }[]>([]);
  error = $state<string | null>(null);

  groups = $derived.by((): BoxGroup[] => {
    const q = this.query.trim();
    if (!q) {
      return this.recent.length
        ? [{ label: 'Recent searches', options: this.recent.slice(0, 6).map((r) => ({ key: `recent-${r.q}`, kind: 'recent', label: r.q, href: resultsHref(r.q) })) }]
        : [];
    }
    const groups: BoxGroup[] = groupByType(this.suggestions).map(({ type, items }) => ({
      label: TYPE_LABELS[type].many,
      options: items.map((s) => ({ key: `${s.type}-${s.id}`, kind: 'suggestion', label: s.title, href: appPath(s.url), type: s.type })),
    }));
    groups.push({ label: '', options: [{ key: 'all', kind: 'all', label: `See all results for “${q}”`, href: resultsHref(q) }] });
    return groups;
  });
  options = $derived(this.groups.flatMap((g) => g.options));
  activeOption = $derived(this.active >= 0 ? (this.options[this.active] ?? null) : null);

  #delayMs: number;
  #limit: number;
  #fetch: Fetch;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #controller: AbortController | null = null;

  constructor(options: SuggestBoxOptions = {}) {
    this.#delayMs = options.delayMs ?? 120;
    this.#limit = options.limit ?? 8;
    this.#fetch = options.fetch ?? searchGet;
  }

  /** The reader typed: the list follows once typing pauses. */
  input(value: string): void {
    this.query = value;
    this.active = -1;
    this.open = true;
    this.#cancel();
    const q = value.trim();
    if (!q) {
      this.suggestions = [];
      this.answered = '';
      this.loading = false;
      void this.loadRecent();
      return;
    }
    this.loading = true;
    this.#timer = setTimeout(() => void this.#ask(q), this.#delayMs);
  }

  /** Focus came in: open, with the recent searches when nothing is typed. */
  focus(): void {
    this.open = true;
    if (!this.query.trim()) void this.loadRecent();
  }

  close(): void {
    this.open = false;
    this.active = -1;
  }

  /** Arrow keys: moves through the options, wrapping round; opens the list when it was closed. */
  move(step: 1 | -1): void {
    if (!this.open) {
      this.open = true;
      return;
    }
    const count = this.options.length;
    if (count === 0) return;
    this.active = this.active < 0 ? (step === 1 ? 0 : count - 1) : (this.active + step + count) % count;
  }

  clear(): void {
    this.#cancel();
    this.query = '';
    this.suggestions = [];
    this.answered = '';
    this.loading = false;
    this.close();
  }

  async loadRecent(): Promise<void> {
    const result = await this.#fetch<{ data: { q: string }[] }>('recent', null);
    if (result?.ok) this.recent = result.data.data;
  }

  destroy(): void {
    this.#cancel();
  }

  async #ask(q: string): Promise<void> {
    this.#timer = null;
    const controller = new AbortController();
    this.#controller = controller;
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a one-off request query, not state
    const result = await this.#fetch<{ data: Suggestion[] }>('suggest', new URLSearchParams({ q: q.slice(0, 100), limit: String(this.#limit) }), controller.signal);
    // Aborted by a newer keystroke: that one answers.
    if (result === null || controller.signal.aborted) return;
    this.#controller = null;
    this.loading = false;
    if (!result.ok) {
      this.error = result.error.message;
      return;
    }
    this.error = null;
    this.suggestions = result.data.data;
    this.answered = q;
    this.active = -1;
  }

  #cancel(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#controller?.abort();
    this.#controller = null;
  }
}

function resultsHref(q: string): string {
  return `/app/search?${new URLSearchParams({ q })}`;
}
