import type { Deps } from '../shared/deps.ts';
import type { EventBus } from '../shared/events.ts';
import type { JobHandler } from '../shared/jobs.ts';
import './events.ts';

declare module '../shared/jobs.ts' {
  interface JobPayloads {
    /** A class's reminder falls due (keyed per class, so rescheduling moves it and cancelling drops it). */
    'notifications.class_reminder': { classroomId: string; startsAt: string };
  }
}

/** 'notifications.class_reminder': reminds the class's registered learners that it starts soon. */
export function classReminderJob(deps: Deps): JobHandler<'notifications.class_reminder'> {
  return async () => {
    void deps;
  };
}

/** Listeners that schedule, move and drop class reminders and announce a class going live. */
export function registerClassReminderListeners(bus: EventBus, deps: Deps): void {
  void bus;
  void deps;
}
