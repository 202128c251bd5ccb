/* eslint-disable svelte/prefer-svelte-reactivity -- the completed set is replaced whole ($state.raw), never mutated. */
import type { ProgressDto, ProgressUpdatedEvent } from '$contracts/courses.ts';
import type { ChatSocket } from './ack.ts';
import { callApi } from './restClient.ts';

export interface CourseProgressOptions {
  courseId: string;
  /** The progress the page loaded with (null: not enrolled, nothing to follow). */
  initial: ProgressDto | null;
  /** Seam for tests: the latest progress after a reconnect. */
  fetchLatest?: (courseId: string) => Promise<ProgressDto | null>;
}

async function latestProgress(courseId: string): Promise<ProgressDto | null> {
  const result = await callApi<ProgressDto>('GET', `courses/${courseId}/progress`);
  return result.ok ? result.data : null;
}

/**
 * A learner's progress in one course, kept live across their devices: 'progress:updated' reaches every socket of the
 * learner (their own room) with the whole progress, so applying it is idempotent; after a reconnect the course is asked
 * again once, in case an update was missed while the socket was down. Pages also apply the answers of their own
 * actions (`apply`), so the ring moves at once in the tab that did it.
 */
export class CourseProgress {
  readonly courseId: string;
  percent = $state(0);
  completed = $state.raw<ReadonlySet<string>>(new Set());
  lastLessonId = $state<string | null>(null);
  /** The page has a learner's progress to show (enrolled). */
  tracking = $state(false);
  /** The socket is attached and connected: changes from other devices arrive by themselves. */
  live = $state(false);

  #socket: ChatSocket | null = null;
  #fetchLatest: NonNullable<CourseProgressOptions['fetchLatest']>;
  #onEvent = (event: ProgressUpdatedEvent) => {
    if (event.courseId === this.courseId) this.apply(event);
  };
  #onConnect = () => {
    this.live = true;
    void this.#catchUp();
  };
  #onDisconnect = () => {
    this.live = false;
  };

  constructor(options: CourseProgressOptions) {
    this.courseId = options.courseId;
    this.#fetchLatest = options.fetchLatest ?? latestProgress;
    if (options.initial) this.apply(options.initial);
  }

  apply(progress: ProgressDto): void {
    if (progress.courseId !== this.courseId) return;
    this.tracking = true;
    this.percent = progress.percent;
    this.completed = new Set(progress.completedLessonIds);
    this.lastLessonId = progress.lastLessonId;
  }

  isCompleted(lessonId: string): boolean {
    return this.completed.has(lessonId);
  }

  attach(socket: ChatSocket): void {
    if (this.#socket === socket) return;
    this.detach();
    this.#socket = socket;
    socket.on('progress:updated', this.#onEvent);
    socket.on('connect', this.#onConnect);
    socket.on('disconnect', this.#onDisconnect);
    this.live = socket.connected;
  }

  detach(): void {
    const socket = this.#socket;
    if (socket) {
      socket.off('progress:updated', this.#onEvent);
      socket.off('connect', this.#onConnect);
      socket.off('disconnect', this.#onDisconnect);
    }
    this.#socket = null;
    this.live = false;
  }

  async #catchUp(): Promise<void> {
    if (!this.tracking) return;
    const latest = await this.#fetchLatest(this.courseId);
    if (latest) this.apply(latest);
  }
}
