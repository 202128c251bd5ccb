import { AppError } from '../shared/errors.ts';
import type { Classroom } from '../access/classroom.ts';

/*
 * What a class's status allows. A class is scheduled, then live, then ended; or it is cancelled before it starts.
 */

/** Room actions need a live class. */
export function assertLive(classroom: Pick<Classroom, 'status'>): void {
  if (classroom.status === 'live') return;
  const why: Record<Classroom['status'], string> = {
    scheduled: 'This class has not started yet.',
    live: '',
    ended: 'This class has ended.',
    cancelled: 'This class was cancelled.',
  };
  throw new AppError('conflict', why[classroom.status]);
}

/** Edits, co-hosts and registrations stop once the class is over. */
export function assertNotOver(classroom: Pick<Classroom, 'status'>): void {
  if (classroom.status === 'ended') throw new AppError('conflict', 'This class has ended.');
  if (classroom.status === 'cancelled') throw new AppError('conflict', 'This class was cancelled.');
}
