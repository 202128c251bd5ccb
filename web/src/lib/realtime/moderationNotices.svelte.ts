import { createContext } from 'svelte';
import type { ModerationServerEvents } from '$contracts/moderation.ts';
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
}

const MAX_NOTICES = 3;

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

  constructor(options: ModerationNoticesOptions = {}) {
    this.#opts = options;
  }

  attach(socket: ChatSocket): void {
    this.detach();
    this.#socket = socket;
    socket.on('community:removed', this.#onRemoved);
    socket.on('moderation:warned', this.#onWarned);
    socket.on('moderation:timed_out', this.#onTimedOut);
  }

  detach(): void {
    this.#socket?.off('community:removed', this.#onRemoved);
    this.#socket?.off('moderation:warned', this.#onWarned);
    this.#socket?.off('moderation:timed_out', this.#onTimedOut);
    this.#socket = null;
  }

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
    this.timeouts = { ...this.timeouts, [event.communityId]: event.until };
    this.#push({ kind: 'timed_out', key: `timed_out:${event.communityId}`, ...event });
  };

  #push(notice: ModerationNotice): void {
    this.notices = [...this.notices.filter((n) => n.key !== notice.key), notice].slice(-MAX_NOTICES);
  }
}

/** Lets community pages reach the tab's moderation notices without prop drilling. */
export const [getModerationNotices, setModerationNotices] = createContext<ModerationNotices>();
