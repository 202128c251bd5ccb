import type { ClassroomPatchDto, ClassroomStateDto, PollDto, PollResultsDto } from '$contracts/classrooms.ts';
import { InOrder, type Outcome } from './liveStore.svelte.ts';

/**
 * Applies one patch to a room snapshot without touching the original. Present fields replace what we hold:
 * `participants` and `polls` are upserts by id (new ones go to the end, keeping join and creation order), `removed`
 * drops participants, `handQueue` and `waiting` are whole lists.
 */
export function applyPatch(state: ClassroomStateDto, patch: ClassroomPatchDto): ClassroomStateDto {
  const next: ClassroomStateDto = { ...state, version: patch.version };
  if (patch.status !== undefined) next.status = patch.status;
  if (patch.startedAt !== undefined) next.startedAt = patch.startedAt;
  if (patch.endedAt !== undefined) next.endedAt = patch.endedAt;
  if (patch.participants || patch.removed) {
    const gone = new Set(patch.removed ?? []);
    let participants = state.participants.filter((p) => !gone.has(p.user.id));
    for (const incoming of patch.participants ?? []) {
      const at = participants.findIndex((p) => p.user.id === incoming.user.id);
      participants = at === -1 ? [...participants, incoming] : participants.with(at, incoming);
    }
    next.participants = participants;
  }
  if (patch.handQueue !== undefined) next.handQueue = patch.handQueue;
  if (patch.waiting !== undefined) next.waiting = patch.waiting;
  if (patch.muteAll !== undefined) next.muteAll = patch.muteAll;
  if (patch.polls) {
    let polls = state.polls;
    for (const incoming of patch.polls) {
      const at = polls.findIndex((p) => p.id === incoming.id);
      polls = at === -1 ? [...polls, incoming] : polls.with(at, incoming);
    }
    next.polls = polls;
  }
  return next;
}

export type ReceiveOutcome = Outcome | 'ignored';

export interface RoomSyncOptions {
  classroomId: string;
  /** Publishes the state after it changed (once per batch of patches). */
  onChange: (state: ClassroomStateDto) => void;
  /** A gap outlived the grace period: fetch a fresh snapshot (re-join). */
  requestSnapshot: () => void;
  /** How long an early patch may wait for the ones before it; patches from different nodes can overtake each other. */
  gapGraceMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export const DEFAULT_GAP_GRACE_MS = 1_500;

/**
 * Keeps one room's state in version order (InOrder): a patch for the next version is applied at once; an early one
 * waits until the versions before it arrive, and if they have not after the grace period a fresh snapshot is
 * requested. Versions at or below the current one were already applied and are ignored, so duplicates and replays are
 * harmless. Before the first snapshot every patch waits.
 */
export class RoomSync {
  #opts: RoomSyncOptions;
  #state: ClassroomStateDto | null = null;
  #order: InOrder<ClassroomPatchDto>;
  #changed = false;

  constructor(options: RoomSyncOptions) {
    this.#opts = options;
    this.#order = new InOrder<ClassroomPatchDto>({
      start: null,
      versionOf: (patch) => patch.version,
      apply: (patch) => {
        if (!this.#state) return;
        this.#state = applyPatch(this.#state, patch);
        this.#changed = true;
      },
      catchUp: () => options.requestSnapshot(),
      gapGraceMs: options.gapGraceMs ?? DEFAULT_GAP_GRACE_MS,
      ...(options.setTimer && { setTimer: options.setTimer }),
      ...(options.clearTimer && { clearTimer: options.clearTimer }),
    });
  }

  get state(): ClassroomStateDto | null {
    return this.#state;
  }

  get version(): number {
    return this.#state?.version ?? -1;
  }

  /** Versions that arrived early and wait for the ones before them. */
  get heldVersions(): number[] {
    return this.#order.held;
  }

  /**
   * A full snapshot (from `classroom:join`). Patches that arrived while it was on its way and are newer than it are
   * applied on top; a snapshot older than what we already hold is ignored.
   */
  reset(snapshot: ClassroomStateDto): void {
    if (!this.#state || snapshot.version >= this.#state.version) {
      this.#state = snapshot;
      this.#changed = true;
      this.#order.advanceTo(snapshot.version);
    }
    this.#order.settled();
    this.#publish();
  }

  receive(patch: ClassroomPatchDto): ReceiveOutcome {
    if (patch.classroomId !== this.#opts.classroomId) return 'ignored';
    const outcome = this.#order.receive(patch);
    this.#publish();
    return outcome;
  }

  /** Stops the gap timer (the page is going away). */
  dispose(): void {
    this.#order.stop();
  }

  /** The snapshot request failed or was abandoned: allow another one when the gap persists. */
  snapshotFailed(): void {
    this.#order.settled();
  }

  #publish(): void {
    if (!this.#changed || !this.#state) return;
    this.#changed = false;
    this.#opts.onChange(this.#state);
  }
}

export interface LiveResults extends PollResultsDto {
  resultsVersion: number;
}

/** Live poll results for the host: keep the newest per poll, whatever order the pushes arrive in. */
export function mergeLiveResults(
  current: Record<string, LiveResults>,
  event: { pollId: string; resultsVersion: number } & PollResultsDto,
): Record<string, LiveResults> {
  const held = current[event.pollId];
  if (held && held.resultsVersion >= event.resultsVersion) return current;
  return {
    ...current,
    [event.pollId]: { counts: event.counts, answered: event.answered, resultsVersion: event.resultsVersion },
  };
}

/** The results to show for a poll: the revealed ones for everybody, else the host's live ones. */
export function resultsFor(poll: PollDto, live: Record<string, LiveResults>): PollResultsDto | null {
  const pushed = live[poll.id];
  if (poll.results && (!pushed || poll.results.answered >= pushed.answered)) return poll.results;
  return pushed ?? poll.results;
}

/** The people with a raised hand, in queue order (ids the roster no longer knows are skipped). */
export function handQueueOf(state: ClassroomStateDto): ClassroomStateDto['participants'] {
  const byId = new Map(state.participants.map((p) => [p.user.id, p]));
  return state.handQueue.flatMap((id) => {
    const participant = byId.get(id);
    return participant ? [participant] : [];
  });
}
