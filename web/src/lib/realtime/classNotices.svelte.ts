import type { ClassroomServerEvents } from '$contracts/classrooms.ts';
import type { ChatSocket } from './ack.ts';

export type ClassNotice =
  | { kind: 'started'; key: string; classroomId: string; communityId: string; title: string }
  | { kind: 'promoted'; key: string; classroomId: string; title: string };

type Started = Parameters<ClassroomServerEvents['classroom:started']>[0];
type Promoted = Parameters<ClassroomServerEvents['classroom:registration_promoted']>[0];

export interface ClassNoticesOptions {
  /** Pages that list classes reload, so statuses and seats are current. */
  onClassChanged?: () => void;
  /** A class whose live room the person is looking at already (no need to invite them in). */
  isWatching?: (classroomId: string) => boolean;
}

const MAX_NOTICES = 3;

/** Notices about the classes someone registered for: one went live, or a seat opened for them. */
export class ClassNotices {
  notices = $state.raw<ClassNotice[]>([]);

  #opts: ClassNoticesOptions;
  #socket: ChatSocket | null = null;

  constructor(options: ClassNoticesOptions = {}) {
    this.#opts = options;
  }

  attach(socket: ChatSocket): void {
    this.detach();
    this.#socket = socket;
    socket.on('classroom:started', this.#onStarted);
    socket.on('classroom:registration_promoted', this.#onPromoted);
  }

  detach(): void {
    this.#socket?.off('classroom:started', this.#onStarted);
    this.#socket?.off('classroom:registration_promoted', this.#onPromoted);
    this.#socket = null;
  }

  dismiss(key: string): void {
    this.notices = this.notices.filter((n) => n.key !== key);
  }

  /** The person went to the class a notice points at (a notice that raced the host's own start, say): it is done. */
  visiting(pathname: string): void {
    const done = (n: ClassNotice) => pathname.includes(`/classes/${n.classroomId}`);
    if (this.notices.some(done)) this.notices = this.notices.filter((n) => !done(n));
  }

  #onStarted = (event: Started): void => {
    this.#opts.onClassChanged?.();
    if (this.#opts.isWatching?.(event.classroomId)) return;
    this.#push({ kind: 'started', key: `started:${event.classroomId}`, ...event });
  };

  #onPromoted = (event: Promoted): void => {
    this.#opts.onClassChanged?.();
    this.#push({ kind: 'promoted', key: `promoted:${event.classroomId}`, ...event });
  };

  #push(notice: ClassNotice): void {
    this.notices = [...this.notices.filter((n) => n.key !== notice.key), notice].slice(-MAX_NOTICES);
  }
}
