/* eslint-disable svelte/prefer-svelte-reactivity -- the listener set is private bookkeeping; what the UI renders is
   published through $state fields. */
import type {
  ClassroomPatchDto,
  ClassroomServerEvents,
  ClassroomStateDto,
  ClassroomTokenEvent,
  CreatePollInput,
  JoinClassroomResult,
  ParticipantDto,
  PollDto,
  PollResultsDto,
} from '$contracts/classrooms.ts';
import type { UserRef } from '$contracts/communities.ts';
import type { AckResult, ErrorBody } from '$contracts/errors.ts';
import type { z } from 'zod';
import { ackOf, chatErrorMessage, DEFAULT_ACK_TIMEOUT_MS, NO_ANSWER, type ChatSocket } from './ack.ts';
import { handQueueOf, mergeLiveResults, resultsFor, RoomSync, type LiveResults } from './classroomSync.ts';
import { LiveStore, type Listen } from './liveStore.svelte.ts';

/** The tab's socket as the classroom uses it (the same typed socket the chat uses). */
export type RoomSocket = ChatSocket;

/**
 * joining: asking to come in; waiting: held in the waiting room; in: admitted and following the room;
 * denied / removed: the server took us out; error: the room refused us for another reason.
 */
export type RoomPhase = 'joining' | 'waiting' | 'in' | 'denied' | 'removed' | 'error';

export type RemovedReason = Parameters<ClassroomServerEvents['classroom:removed']>[0]['reason'];

export interface ClassroomRoomOptions {
  classroomId: string;
  me: UserRef;
  ackTimeoutMs?: number;
  gapGraceMs?: number;
  /** Delay before trying to join again after the server could not answer. */
  retryDelayMs?: (failures: number) => number;
}

type Done = { classroomId: string; version: number };

const REMOVED_TEXT: Record<RemovedReason, string> = {
  removed: 'You are no longer a member of this community, so you have left the class.',
  unregistered: 'Your registration was cancelled, so you have left the class.',
  denied: 'The host did not let you into this class.',
};

/**
 * One live classroom as this tab sees it: the versioned room state (kept in order by RoomSync), the caller's poll
 * answers, the host's live poll results, and every room action. A LiveStore: joins on attach and again on every
 * reconnect, since a socket that reconnects has left the room on the server and may have missed patches; `live` while
 * admitted and following the room.
 */
export class ClassroomRoom extends LiveStore {
  readonly classroomId: string;
  readonly me: UserRef;
  state = $state.raw<ClassroomStateDto | null>(null);
  phase = $state<RoomPhase>('joining');
  /** Why we are not in the room (phase denied, removed or error), or a join that keeps failing. */
  problem = $state<string | null>(null);
  /** The caller's answers by poll id. */
  myAnswers = $state.raw<Record<string, number[]>>({});
  /** Host and co-hosts: live aggregated answers by poll id. */
  liveResults = $state.raw<Record<string, LiveResults>>({});
  /** A "mute everyone" made while we were in the room (not by us): publishers obey it. */
  muteRequest = $state.raw<{ at: string; by: string } | null>(null);

  #opts: Required<ClassroomRoomOptions>;
  #sync: RoomSync;
  #tokenListeners = new Set<(event: ClassroomTokenEvent) => void>();
  #run = 0;
  #joining = false;
  #failures = 0;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** The mute-all already in force when we first came in (undefined until then): only later ones concern us. */
  #knownMuteAt: string | null | undefined = undefined;

  constructor(options: ClassroomRoomOptions) {
    super();
    this.#opts = {
      ackTimeoutMs: DEFAULT_ACK_TIMEOUT_MS,
      gapGraceMs: 1_500,
      retryDelayMs: (failures) => Math.min(30_000, 1_000 * 2 ** (failures - 1)),
      ...options,
    };
    this.classroomId = options.classroomId;
    this.me = options.me;
    this.#sync = new RoomSync({
      classroomId: options.classroomId,
      gapGraceMs: this.#opts.gapGraceMs,
      onChange: (state) => {
        this.#noteMuteAll(state);
        this.state = state;
      },
      requestSnapshot: () => void this.join(true),
    });
  }

  // ---- what the page reads -------------------------------------------------------------------------------------

  get version(): number {
    return this.#sync.version;
  }

  get participants(): ParticipantDto[] {
    return this.state?.participants ?? [];
  }

  get myself(): ParticipantDto | undefined {
    return this.participants.find((p) => p.user.id === this.me.id);
  }

  /** Host and co-hosts run the room. */
  get isStaff(): boolean {
    const role = this.myself?.role;
    return role === 'host' || role === 'cohost';
  }

  get handQueue(): ParticipantDto[] {
    return this.state ? handQueueOf(this.state) : [];
  }

  get handRaised(): boolean {
    return this.state?.handQueue.includes(this.me.id) ?? false;
  }

  get ended(): boolean {
    return this.state?.status === 'ended' || this.state?.status === 'cancelled';
  }

  results(poll: PollDto): PollResultsDto | null {
    return resultsFor(poll, this.liveResults);
  }

  // ---- wiring --------------------------------------------------------------------------------------------------

  protected listen(on: Listen): void {
    on('classroom:state', (patch: ClassroomPatchDto) => this.#sync.receive(patch));
    on('poll:results', (event) => {
      if (event.classroomId === this.classroomId) this.liveResults = mergeLiveResults(this.liveResults, event);
    });
    on('classroom:token', (event) => {
      if (event.classroomId !== this.classroomId) return;
      for (const listener of this.#tokenListeners) listener(event);
    });
    on('classroom:admission', (event) => {
      if (event.classroomId !== this.classroomId) return;
      if (event.admitted) void this.join(true);
      else this.#leaveFor('denied', REMOVED_TEXT.denied);
    });
    on('classroom:started', (event) => {
      // Refused earlier because the class had not started: it has now.
      if (event.classroomId === this.classroomId && this.phase === 'error') void this.join(true);
    });
    on('classroom:removed', (event) => {
      if (event.classroomId !== this.classroomId) return;
      this.#leaveFor(event.reason === 'denied' ? 'denied' : 'removed', REMOVED_TEXT[event.reason] ?? REMOVED_TEXT.removed);
    });
  }

  /** A fresh connection abandons a join whose answer died with the old one. */
  protected async subscribe(_socket: RoomSocket, reconnected: boolean): Promise<boolean> {
    await this.join(reconnected);
    return this.phase === 'in';
  }

  /** Video follows stage changes through the fresh tokens the server pushes. */
  onToken(listener: (event: ClassroomTokenEvent) => void): () => void {
    this.#tokenListeners.add(listener);
    return () => this.#tokenListeners.delete(listener);
  }

  /**
   * Asks for a snapshot. Concurrent calls share one request unless `restart` (a reconnect or a gap) abandons one
   * whose answer may never come.
   */
  async join(restart = false): Promise<void> {
    if (this.destroyed || this.phase === 'denied' || this.phase === 'removed') return;
    if (this.#joining && !restart) return;
    const socket = this.socket;
    if (!socket?.connected) return;
    const run = ++this.#run;
    this.#joining = true;
    this.#clearRetry();
    const result = await ackOf<JoinClassroomResult>(
      (ack) => socket.emit('classroom:join', { classroomId: this.classroomId }, ack),
      this.#opts.ackTimeoutMs,
    );
    if (run !== this.#run || this.destroyed) return;
    this.#joining = false;
    if (!result.ok) {
      this.#joinFailed(result.error);
      return;
    }
    this.#failures = 0;
    this.problem = null;
    if (!result.data.admitted) {
      this.phase = 'waiting';
      return;
    }
    this.myAnswers = { ...this.myAnswers, ...result.data.myAnswers };
    this.#sync.reset(result.data.state);
    this.phase = 'in';
    this.live = true;
  }

  /** Leaves the room on the server too (the page is closing). */
  leave(): void {
    const socket = this.socket;
    if (socket?.connected && this.phase === 'in') socket.emit('classroom:leave', { classroomId: this.classroomId }, () => {});
    this.dispose();
  }

  override destroy(): void {
    super.destroy();
    this.#run += 1;
    this.#clearRetry();
    this.#sync.dispose();
    this.#tokenListeners.clear();
  }

  /** The same as `destroy`. */
  dispose(): void {
    this.destroy();
  }

  // ---- actions: each answers an error sentence, or null when the server accepted -------------------------------

  raiseHand = () => this.#act<Done>((s, ack) => s.emit('hand:raise', { classroomId: this.classroomId }, ack));
  lowerHand = () => this.#act<Done>((s, ack) => s.emit('hand:lower', { classroomId: this.classroomId }, ack));
  dismissHand = (userId: string) => this.#act<Done>((s, ack) => s.emit('hand:dismiss', { classroomId: this.classroomId, userId }, ack));
  inviteToStage = (userId: string) => this.#act<Done>((s, ack) => s.emit('stage:invite', { classroomId: this.classroomId, userId }, ack));
  acceptStage = () => this.#act<Done>((s, ack) => s.emit('stage:accept', { classroomId: this.classroomId }, ack));
  declineStage = () => this.#act<Done>((s, ack) => s.emit('stage:decline', { classroomId: this.classroomId }, ack));
  removeFromStage = (userId: string) =>
    this.#act<Done>((s, ack) => s.emit('stage:remove', { classroomId: this.classroomId, userId }, ack));
  muteAll = () => this.#act<Done>((s, ack) => s.emit('room:mute_all', { classroomId: this.classroomId }, ack));
  admit = (userId: string) => this.#act<Done>((s, ack) => s.emit('waiting:admit', { classroomId: this.classroomId, userId }, ack));
  deny = (userId: string) => this.#act<Done>((s, ack) => s.emit('waiting:deny', { classroomId: this.classroomId, userId }, ack));
  closePoll = (pollId: string) => this.#act<Done>((s, ack) => s.emit('poll:close', { classroomId: this.classroomId, pollId }, ack));
  revealPoll = (pollId: string) => this.#act<Done>((s, ack) => s.emit('poll:reveal', { classroomId: this.classroomId, pollId }, ack));

  createPoll(input: Omit<z.input<typeof CreatePollInput>, 'classroomId'>): Promise<string | null> {
    return this.#act<Done & { poll: PollDto }>((s, ack) => s.emit('poll:create', { ...input, classroomId: this.classroomId }, ack));
  }

  /** First answer, or a change of it while the poll is open (the server allows one answer per learner). */
  async answerPoll(pollId: string, options: number[]): Promise<string | null> {
    if (options.length === 0) return 'Choose an option.';
    const socket = this.socket;
    if (!socket?.connected) return chatErrorMessage(NO_ANSWER);
    const input = { classroomId: this.classroomId, pollId, options };
    const send = (event: 'poll:answer' | 'poll:change') =>
      ackOf<{ pollId: string; options: number[] }>((ack) => socket.emit(event, input, ack), this.#opts.ackTimeoutMs);
    const first = !(pollId in this.myAnswers);
    let result = await send(first ? 'poll:answer' : 'poll:change');
    // Answered already from another tab or device: the same choice becomes a change.
    if (first && !result.ok && result.error.code === 'conflict') result = await send('poll:change');
    if (!result.ok) return chatErrorMessage(result.error);
    this.#recordAnswer(result.data);
    return null;
  }

  #recordAnswer(answer: { pollId: string; options: number[] }): void {
    this.myAnswers = { ...this.myAnswers, [answer.pollId]: answer.options };
  }

  async #act<T>(emit: (socket: RoomSocket, ack: (result: AckResult<T>) => void) => void): Promise<string | null> {
    const socket = this.socket;
    if (!socket?.connected) return chatErrorMessage(NO_ANSWER);
    const result = await ackOf<T>((ack) => emit(socket, ack), this.#opts.ackTimeoutMs);
    return result.ok ? null : chatErrorMessage(result.error);
  }

  #noteMuteAll(state: ClassroomStateDto): void {
    const at = state.muteAll?.at ?? null;
    if (this.#knownMuteAt === undefined) {
      this.#knownMuteAt = at;
      return;
    }
    if (!at || at === this.#knownMuteAt) return;
    this.#knownMuteAt = at;
    if (state.muteAll && state.muteAll.by !== this.me.id) this.muteRequest = state.muteAll;
  }

  #joinFailed(error: ErrorBody): void {
    this.#sync.snapshotFailed();
    if (error.code === 'forbidden' || error.code === 'not_found' || error.code === 'conflict') {
      this.phase = this.state ? this.phase : 'error';
      this.problem = error.message || 'You cannot join this class.';
      return;
    }
    this.#failures += 1;
    this.problem = `Could not join the class: ${chatErrorMessage(error)}`;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      void this.join();
    }, this.#opts.retryDelayMs(this.#failures));
  }

  #leaveFor(phase: 'denied' | 'removed', message: string): void {
    this.phase = phase;
    this.live = false;
    this.problem = message;
    this.#run += 1;
    this.#joining = false;
    this.#clearRetry();
  }

  #clearRetry(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }
}
