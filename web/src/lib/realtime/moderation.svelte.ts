/* eslint-disable svelte/prefer-svelte-reactivity -- the map and set are private bookkeeping; what the UI renders is
   published through $state fields. */
import { createContext } from 'svelte';
import type { CaseDto } from '$contracts/moderation.ts';
import { ackOf, chatErrorMessage, DEFAULT_ACK_TIMEOUT_MS, type ChatSocket } from './ack.ts';
import { mergeCases, statusesFor, visibleCases, type CaseFilter } from './caseQueue.ts';
import { LiveStore, type Listen } from './liveStore.svelte.ts';
import { moderationApi, type ModerationApi } from './moderationApi.ts';

export interface ModerationQueueOptions {
  communityId: string;
  /** The cases loaded with the page, for `filter`. */
  initial: CaseDto[];
  filter?: CaseFilter;
  api?: ModerationApi;
  ackTimeoutMs?: number;
}

const TARGET_NAMES = { message: 'message', post: 'post', comment: 'comment', user: 'person' } as const;

/** A sentence for screen readers about a case that just came in. */
export function announceCase(kase: CaseDto): string {
  const who = kase.target.author ? ` by ${kase.target.author.displayName}` : '';
  const what = kase.target.type === 'user' ? `${kase.target.author?.displayName ?? 'A person'} reported` : `A ${TARGET_NAMES[kase.target.type]}${who} reported`;
  return `New case: ${what}.`;
}

/**
 * A community's moderation queue, live (a LiveStore): subscribes to the community's moderation room (again after every reconnect,
 * reloading the list so nothing that happened meanwhile is missed) and merges created and updated cases by id, the
 * newest `updatedAt` winning, so a list read a moment before an event never undoes it.
 */
export class ModerationQueue extends LiveStore {
  readonly communityId: string;
  filter = $state<CaseFilter>('active');
  /** The cases the filter shows, newest first. */
  cases = $state.raw<CaseDto[]>([]);
  /** Every case we know, by id (the detail view follows its case from here). */
  byId = $state.raw<Record<string, CaseDto>>({});
  /** Cases that arrived live since the console opened (marked as new until opened). */
  fresh = $state.raw<ReadonlySet<string>>(new Set());
  /** For the queue's live region. */
  announcement = $state('');
  loading = $state(false);
  error = $state<string | null>(null);
  liveProblem = $state<string | null>(null);

  #api: ModerationApi;
  #ackTimeoutMs: number;
  #all = new Map<string, CaseDto>();
  #loadRun = 0;

  constructor(options: ModerationQueueOptions) {
    super();
    this.communityId = options.communityId;
    this.filter = options.filter ?? 'active';
    this.#api = options.api ?? moderationApi;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    mergeCases(this.#all, options.initial);
    this.#publish();
  }

  protected listen(on: Listen): void {
    on('moderation:case_created', (kase) => this.#onCase(kase, true));
    on('moderation:case_updated', (kase) => this.#onCase(kase, false));
  }

  protected async subscribe(socket: ChatSocket): Promise<boolean> {
    const result = await ackOf<{ communityId: string }>(
      (ack) => socket.emit('moderation:subscribe', { communityId: this.communityId }, ack),
      this.#ackTimeoutMs,
    );
    if (this.following(socket)) this.liveProblem = result.ok ? null : chatErrorMessage(result.error);
    return result.ok;
  }

  /** Cases reported before the subscription took hold (since the page loaded, or while the connection was down). */
  protected override catchUp(): Promise<void> {
    return this.reload();
  }

  protected override unsubscribe(socket: ChatSocket): void {
    socket.emit('moderation:unsubscribe', { communityId: this.communityId }, () => {});
  }

  /** Shows another filter, loading its cases (the ones already known show at once). */
  async setFilter(filter: CaseFilter): Promise<void> {
    this.filter = filter;
    this.#publish();
    await this.reload();
  }

  async reload(): Promise<void> {
    const run = ++this.#loadRun;
    this.loading = true;
    const results = await Promise.all(statusesFor(this.filter).map((status) => this.#api.cases(this.communityId, status)));
    if (run !== this.#loadRun || this.destroyed) return;
    this.loading = false;
    const failed = results.find((r) => !r.ok);
    this.error = failed && !failed.ok ? chatErrorMessage(failed.error) : null;
    for (const result of results) if (result.ok) mergeCases(this.#all, result.data);
    this.#publish();
  }

  /** A case as an action or the detail page returned it. */
  apply(kase: CaseDto): void {
    this.merge([kase]);
  }

  /** Cases read elsewhere (the page's data read again); the newest copy of each wins. */
  merge(cases: readonly CaseDto[]): void {
    if (mergeCases(this.#all, cases)) this.#publish();
  }

  /** The moderator opened the case: it is no longer new. */
  seen(caseId: string): void {
    if (!this.fresh.has(caseId)) return;
    const next = new Set(this.fresh);
    next.delete(caseId);
    this.fresh = next;
  }

  #onCase(kase: CaseDto, created: boolean): void {
    if (this.destroyed || kase.communityId !== this.communityId) return;
    const known = this.#all.has(kase.id);
    if (!mergeCases(this.#all, [kase])) return;
    if (created && !known) {
      this.fresh = new Set([...this.fresh, kase.id]);
      this.announcement = announceCase(kase);
    }
    this.#publish();
  }

  #publish(): void {
    this.cases = visibleCases(this.#all.values(), this.filter);
    this.byId = Object.fromEntries(this.#all);
  }
}

/** The console's queue for the pages inside it (a getter: the queue is re-created when the community changes). */
export const [getModerationQueue, setModerationQueue] = createContext<() => ModerationQueue>();
