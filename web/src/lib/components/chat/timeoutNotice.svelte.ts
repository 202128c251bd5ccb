import { getModerationNotices } from '$lib/realtime/moderationNotices.svelte.ts';
import { fullTime } from './time.ts';

/** "4:05" or "1:02:03": what is left of a timeout. */
export function countdown(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}`;
}

/**
 * Whether the signed-in person is timed out in a community, ticking each second while they are: `text` says until when
 * and how long is left, and turns null the moment the timeout ends.
 */
export class TimeoutNotice {
  now = $state(Date.now());
  #communityId: () => string | null;
  #notices = getModerationNotices();

  constructor(communityId: () => string | null) {
    this.#communityId = communityId;
    $effect(() => {
      if (!this.#until) return;
      const timer = setInterval(() => (this.now = Date.now()), 1000);
      return () => clearInterval(timer);
    });
  }

  get #until(): string | null {
    const communityId = this.#communityId();
    return communityId ? this.#notices.timedOutUntil(communityId) : null;
  }

  get text(): string | null {
    const until = this.#until;
    const left = until ? Date.parse(until) - this.now : 0;
    if (!until || left <= 0) return null;
    return `You are timed out until ${fullTime(until)} (${countdown(left)} left): you can read, but not post.`;
  }
}
