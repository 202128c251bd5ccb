import { createContext } from 'svelte';
import type { ModerationServerEvents, RestrictionDto, RestrictionList } from '$contracts/moderation.ts';
import type { ChatSocket } from './ack.ts';

type Removed = Parameters<ModerationServerEvents['community:removed']>[0];
type Warned = Parameters<ModerationServerEvents['moderation:warned']>[0];
type TimedOut = Parameters<ModerationServerEvents['moderation:timed_out']>[0];

export type ModerationNotice =
  | { kind: 'warned'; key: string; communityId: string; reason: string }
  | { kind: 'timed_out'; key: string; communityId: string; reason: string; until: string };

export interface Removal {
  reason: string;
  ban: boolean;
  rejoinAfter: string | null;
}

export interface ModerationNoticesOptions {
  /** Called when the person is removed from a community (their open chat there closes at once). */
  onRemoved?: (communityId: string) => void;
  now?: () => number;
  /** The person's running timeouts and bans (GET /me/restrictions); null when they could not be read. */
  loadRestrictions?: () => Promise<RestrictionDto[] | null>;
}

const MAX_NOTICES = 3;
/** The longest delay setTimeout keeps (about 24.8 days); a later end is checked again then. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Through the page's own narrow route (app/api/restrictions), which adds the session's token. */
async function fetchRestrictions(): Promise<RestrictionDto[] | null> {
  try {
    const response = await fetch('/app/api/restrictions', { headers: { accept: 'application/json' }, cache: 'no-store' });
    if (!response.ok) return null;
    return ((await response.json()) as RestrictionList).data;
  } catch {
    return null;
  }
}

/**
 * What moderators did to the signed-in person, as it happens: warnings and timeouts become notices at the top of every
 * page, and a kick or ban takes the community's pages away at once (the server has already taken the sockets out of
 * its rooms; this makes the page say so instead of going quiet).
 */
export class ModerationNotices {
  notices = $state.raw<ModerationNotice[]>([]);
  /** Communities the person was removed from while this tab was open. */
  removed = $state.raw<Record<string, Removal>>({});
  /** Timeouts in force, by community: until when. */
  timeouts = $state.raw<Record<string, string>>({});
  /** Community names the pages have told us, for readable notices. */
  names = $state.raw<Record<string, string>>({});

  #opts: ModerationNoticesOptions;
  #socket: ChatSocket | null = null;
  /** Timeouts heard live while a load was under way: newer than what the load read. */
  #heardDuringLoad: Record<string, string> | null = null;
  // Private bookkeeping, never rendered: plain collections.
  /** Timeout notices the person dismissed (by community and end), so a reload does not bring them back. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #dismissed = new Set<string>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  #expiryTimers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(options: ModerationNoticesOptions = {}) {
    this.#opts = options;
  }

  attach(socket: ChatSocket): void {
    this.detach();
    this.#socket = socket;
    socket.on('community:removed', this.#onRemoved);
    socket.on('moderation:warned', this.#onWarned);
    socket.on('moderation:timed_out', this.#onTimedOut);
    // Timeouts that began before this page loaded, or while the connection was down, are only known to the server.
    socket.on('connect', this.#reload);
    void this.#reload();
  }

  detach(): void {
    this.#socket?.off('community:removed', this.#onRemoved);
    this.#socket?.off('moderation:warned', this.#onWarned);
    this.#socket?.off('moderation:timed_out', this.#onTimedOut);
    this.#socket?.off('connect', this.#reload);
    this.#socket = null;
    for (const timer of this.#expiryTimers.values()) clearTimeout(timer);
    this.#expiryTimers.clear();
  }

  /**
   * Reads the person's restrictions and puts every running timeout back: `timedOutUntil` answers for it and its notice
   * shows (unless dismissed). What the server no longer lists has ended or was lifted, and drops.
   */
  #reload = async (): Promise<void> => {
    const heard: Record<string, string> = {};
    this.#heardDuringLoad = heard;
    const restrictions = await (this.#opts.loadRestrictions ?? fetchRestrictions)();
    if (this.#heardDuringLoad === heard) this.#heardDuringLoad = null;
    if (!restrictions || !this.#socket) return;
    const timeouts: Record<string, string> = {};
    for (const r of restrictions) {
      this.rememberCommunity(r.communityId, r.communityName);
      if (r.kind === 'timeout' && r.until) timeouts[r.communityId] = r.until;
    }
    Object.assign(timeouts, heard);
    this.timeouts = timeouts;
    this.notices = this.notices.filter((n) => n.kind !== 'timed_out' || n.communityId in timeouts);
    for (const r of restrictions) {
      if (r.kind !== 'timeout' || !r.until || heard[r.communityId]) continue;
      const notice: ModerationNotice = { kind: 'timed_out', key: `timed_out:${r.communityId}`, communityId: r.communityId, reason: r.reason, until: r.until };
      if (!this.#dismissed.has(`${notice.key}@${notice.until}`)) this.#push(notice);
      else this.#expireAt(notice);
    }
  };

  rememberCommunity(communityId: string, name: string): void {
    if (this.names[communityId] !== name) this.names = { ...this.names, [communityId]: name };
  }

  nameOf(communityId: string): string {
    return this.names[communityId] ?? 'a community';
  }

  removalFrom(communityId: string): Removal | null {
    return this.removed[communityId] ?? null;
  }

  /** The person is a member again (a fresh page load says so): the community's pages come back. */
  readmitted(communityId: string): void {
    if (!(communityId in this.removed)) return;
    const { [communityId]: _gone, ...rest } = this.removed;
    this.removed = rest;
  }

  /** The end of a timeout in force in the community, or null. */
  timedOutUntil(communityId: string): string | null {
    const until = this.timeouts[communityId];
    const now = this.#opts.now?.() ?? Date.now();
    return until && Date.parse(until) > now ? until : null;
  }

  dismiss(key: string): void {
    const notice = this.notices.find((n) => n.key === key);
    if (notice?.kind === 'timed_out') this.#dismissed.add(`${key}@${notice.until}`);
    this.notices = this.notices.filter((n) => n.key !== key);
  }

  #onRemoved = (event: Removed): void => {
    this.removed = { ...this.removed, [event.communityId]: { reason: event.reason, ban: event.ban, rejoinAfter: event.rejoinAfter } };
    // Notices about a community the person is no longer in say nothing useful any more.
    this.notices = this.notices.filter((n) => n.communityId !== event.communityId);
    this.#opts.onRemoved?.(event.communityId);
  };

  #onWarned = (event: Warned): void => {
    this.#push({ kind: 'warned', key: `warned:${event.communityId}:${event.reason}`, ...event });
  };

  #onTimedOut = (event: TimedOut): void => {
    if (this.#heardDuringLoad) this.#heardDuringLoad[event.communityId] = event.until;
    this.timeouts = { ...this.timeouts, [event.communityId]: event.until };
    this.#push({ kind: 'timed_out', key: `timed_out:${event.communityId}`, ...event });
  };

  #push(notice: ModerationNotice): void {
    this.notices = [...this.notices.filter((n) => n.key !== notice.key), notice].slice(-MAX_NOTICES);
    if (notice.kind === 'timed_out') this.#expireAt(notice);
  }

  /** When a timeout ends, its notice and its entry go (a later timeout in the same community replaces the timer). */
  #expireAt(notice: Extract<ModerationNotice, { kind: 'timed_out' }>): void {
    clearTimeout(this.#expiryTimers.get(notice.communityId));
    const left = Date.parse(notice.until) - (this.#opts.now?.() ?? Date.now());
    const timer = setTimeout(
      () => {
        this.#expiryTimers.delete(notice.communityId);
        if (this.timeouts[notice.communityId] !== notice.until) return;
        if (left > MAX_TIMER_MS) return this.#expireAt(notice);
        const { [notice.communityId]: _ended, ...rest } = this.timeouts;
        this.timeouts = rest;
        this.notices = this.notices.filter((n) => n.key !== notice.key);
      },
      Math.min(Math.max(0, left), MAX_TIMER_MS),
    );
    this.#expiryTimers.set(notice.communityId, timer);
  }
}

/** Lets community pages reach the tab's moderation notices without prop drilling. */
export const [getModerationNotices, setModerationNotices] = createContext<ModerationNotices>();
