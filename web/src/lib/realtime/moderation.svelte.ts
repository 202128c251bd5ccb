/* eslint-disable svelte/prefer-svelte-reactivity -- the map and set are private bookkeeping; what the UI renders is
   published through $state fields. */
import { createContext } from 'svelte';
import type { CaseDto, ModerationServerEvents } from '$contracts/moderation.ts';
import { ackOf, chatErrorMessage, DEFAULT_ACK_TIMEOUT_MS, type ChatSocket } from './ack.ts';
import { mergeCases, statusesFor, visibleCases, type CaseFilter } from './caseQueue.ts';
import { moderationApi, type ModerationApi } from './moderationApi.ts';

export interface ModerationQueueOptions {
  communityId: string;
  /** The cases loaded with the page, for `filter`. */
  initial: CaseDto[];
  filter?: CaseFilter;
  api?: ModerationApi;
  ackTimeoutMs?: number;
}

type Listener = [keyof ModerationServerEvents | 'connect', (...args: never[]) => void];

const TARGET_NAMES = { message: 'message', post: 'post', comment: 'comment', user: 'person' } as const;

/** A sentence for screen readers about a case that just came in. */
export function announceCase(kase: CaseDto): string {
  const who = kase.target.author ? ` by ${kase.target.author.displayName}` : '';
  const what = kase.target.type === 'user' ? `${kase.target.author?.displayName ?? 'A person'} reported` : `A ${TARGET_NAMES[kase.target.type]}${who} reported`;
  return `New case: ${what}.`;
}

/**
 * A community's moderation queue, live: subscribes to the community's moderation room (again after every reconnect,
 * reloading the list so nothing that happened meanwhile is missed) and merges created and updated cases by id, the
 * newest `updatedAt` winning, so a list read a moment before an event never undoes it.
 */
export class ModerationQueue {
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
  live = $state(false);
  liveProblem = $state<string | null>(null);

  #api: ModerationApi;
  #ackTimeoutMs: number;
  #all = new Map<string, CaseDto>();
  #socket: ChatSocket | null = null;
  #listeners: Listener[] = [];
  #disposed = false;
  #loadRun = 0;

  constructor(options: ModerationQueueOptions) {
    this.communityId = options.communityId;
    this.filter = options.filter ?? 'active';
    this.#api = options.api ?? moderationApi;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    mergeCases(this.#all, options.initial);
    this.#publish();
  }

  attach(socket: ChatSocket): void {
    if (this.#socket === socket || this.#disposed) return;
    this.detach();
    this.#socket = socket;
    this.#listen('connect', () => void this.#subscribe());
    this.#listen('moderation:case_created', (kase) => this.#onCase(kase, true));
    this.#listen('moderation:case_updated', (kase) => this.#onCase(kase, false));
    if (socket.connected) void this.#subscribe();
  }

  detach(): void {
    const socket = this.#socket;
    if (socket) {
      for (const [event, listener] of this.#listeners) socket.off(event as never, listener as never);
      if (socket.connected) socket.emit('moderation:unsubscribe', { communityId: this.communityId }, () => {});
    }
    this.#listeners = [];
    this.#socket = null;
    this.live = false;
  }

  destroy(): void {
    this.detach();
    this.#disposed = true;
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
    if (run !== this.#loadRun || this.#disposed) return;
    this.loading = false;
    const failed = results.find((r) => !r.ok);
    this.error = failed && !failed.ok ? chatErrorMessage(failed.error) : null;
    for (const result of results) if (result.ok) mergeCases(this.#all, result.data);
    this.#publish();
  }

  /** A case as an action or the detail page returned it. */
  apply(kase: CaseDto): void {
    if (mergeCases(this.#all, [kase])) this.#publish();
  }

  /** The moderator opened the case: it is no longer new. */
  seen(caseId: string): void {
    if (!this.fresh.has(caseId)) return;
    const next = new Set(this.fresh);
    next.delete(caseId);
    this.fresh = next;
  }

  #onCase(kase: CaseDto, created: boolean): void {
    if (this.#disposed || kase.communityId !== this.communityId) return;
    const known = this.#all.has(kase.id);
    if (!mergeCases(this.#all, [kase])) return;
    if (created && !known) {
      this.fresh = new Set([...this.fresh, kase.id]);
      this.announcement = announceCase(kase);
    }
    this.#publish();
  }

  async #subscribe(): Promise<void> {
    const socket = this.#socket;
    if (!socket || this.#disposed) return;
    const result = await ackOf<{ communityId: string }>(
      (ack) => socket.emit('moderation:subscribe', { communityId: this.communityId }, ack),
      this.#ackTimeoutMs,
    );
    if (this.#socket !== socket) return;
    this.live = result.ok;
    this.liveProblem = result.ok ? null : chatErrorMessage(result.error);
    // Cases reported before the subscription took hold (since the page loaded, or while the connection was down).
    if (result.ok) await this.reload();
  }

  #listen<E extends Listener[0]>(event: E, listener: E extends keyof ModerationServerEvents ? ModerationServerEvents[E] : () => void) {
    this.#socket?.on(event as never, listener as never);
    this.#listeners.push([event, listener as never]);
  }

  #publish(): void {
    this.cases = visibleCases(this.#all.values(), this.filter);
    this.byId = Object.fromEntries(this.#all);
  }
}

/** The console's queue for the pages inside it (a getter: the queue is re-created when the community changes). */
export const [getModerationQueue, setModerationQueue] = createContext<() => ModerationQueue>();
