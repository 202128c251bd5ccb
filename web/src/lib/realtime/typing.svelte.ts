/* eslint-disable svelte/prefer-svelte-reactivity -- the maps, sets and dates here are private bookkeeping (timers,
   buffers, ids); what the UI renders is published through $state fields. */
import type { UserRef } from '$contracts/communities.ts';

/** At most one `typing:start` per this long (the server drops more frequent ones anyway). */
export const TYPING_THROTTLE_MS = 2_000;
/** A typing notice lapses after this long without another one. */
export const TYPING_TTL_MS = 5_000;

export interface Typist {
  userId: string;
  displayName: string;
}

/** Who else is typing in one channel, and when we last told the others that we are. */
export class TypingState {
  typists = $state.raw<Typist[]>([]);

  #me: UserRef;
  #now: () => number;
  #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #lastAnnounced = Number.NEGATIVE_INFINITY;

  constructor(options: { me: UserRef; now: () => number }) {
    this.#me = options.me;
    this.#now = options.now;
  }

  heard({ userId, displayName }: Typist): void {
    if (userId === this.#me.id) return;
    const timer = this.#timers.get(userId);
    if (timer) clearTimeout(timer);
    this.#timers.set(
      userId,
      setTimeout(() => this.stopped(userId), TYPING_TTL_MS),
    );
    if (!this.typists.some((t) => t.userId === userId)) this.typists = [...this.typists, { userId, displayName }];
  }

  /** They sent their message or the notice lapsed. */
  stopped(userId: string): void {
    const timer = this.#timers.get(userId);
    if (timer) clearTimeout(timer);
    this.#timers.delete(userId);
    if (this.typists.some((t) => t.userId === userId)) this.typists = this.typists.filter((t) => t.userId !== userId);
  }

  /** True when it is time to announce our typing again (and records that we do). */
  shouldAnnounce(): boolean {
    const now = this.#now();
    if (now - this.#lastAnnounced < TYPING_THROTTLE_MS) return false;
    this.#lastAnnounced = now;
    return true;
  }

  /** After sending, the next keystroke starts a new typing notice straight away. */
  sent(): void {
    this.#lastAnnounced = Number.NEGATIVE_INFINITY;
  }

  dispose(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }
}

/** "Ada is typing…", "Ada and Grace are typing…", "Several people are typing…". */
export function typingSentence(typists: readonly Typist[]): string {
  const [first, second] = typists;
  if (!first) return '';
  if (!second) return `${first.displayName} is typing…`;
  if (typists.length === 2) return `${first.displayName} and ${second.displayName} are typing…`;
  return 'Several people are typing…';
}
