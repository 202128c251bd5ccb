import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { db, uuids } from '../../orm/db.ts';
import type { Deps } from '../shared/deps.ts';
import type { EventBus } from '../shared/events.ts';
import { periodicSweep } from '../shared/jobs.ts';
import './events.ts';
import { notifyAboutMessages } from './messageNotifications.ts';

declare module '../shared/jobs.ts' {
  interface JobPayloads {
    /** The periodic sweep that makes the notifications a node that died left behind (one pending, re-queued by each run). */
    'notifications.message_notices': Record<string, never>;
  }
}

/*
 * Messages that may notify someone reach the notification module as notes in `message_notices`, written by the very
 * statement that stores the messages (domain/chat/batchWrites.ts), so a note exists exactly when its message does.
 *
 * Live: after the commit the send path emits `messages.noticed`; the sending node's worker (a queue in memory, worked
 * one batch at a time, off the send path) makes the notifications and removes the notes. Left behind: a node that dies,
 * or a notification that fails, leaves its note; a periodic sweep (one pending cluster-wide, every
 * MESSAGE_NOTICE_SWEEP_EVERY_MS) works through notes older than LEFT_BEHIND_MS, counting an attempt on each first, and
 * leaves one that failed GIVE_UP_AFTER times alone (logged, and kept for a person to look at).
 *
 * Exactly once: a notification is stored once per (recipient, kind, message) whoever makes it, and only a new one is
 * announced; working a note twice (the live worker and a sweep, a crash between the notification and the note's
 * removal) stores and tells nothing more.
 *
 * Why not a queued job per send batch, as durable domain events are: chat is the hottest path there is. A job costs
 * the send transaction another round trip (`add_job`), and every node's workers a wake-up, a fetch and a completion for
 * work the sending node can do itself a millisecond later; under load that was most of a mention's cost.
 */

export const MESSAGE_NOTICE_SWEEP_EVERY_MS = 10_000;
/** A note younger than this is the sending node's, which is still working on it. */
const LEFT_BEHIND_MS = 10_000;
const GIVE_UP_AFTER = 10;
const SWEEP_BATCH = 100;
/** Notes made into notifications together, at most. */
const LIVE_BATCH = 50;
/** How long notes gather before a batch is made of them: briefly while the node is idle, longer while it is busy. */
const COALESCE_MS = 25;
const BUSY_COALESCE_MS = 500;
/** Event-loop utilisation (since the last batch) above which the node counts as busy. */
const BUSY_ELU = 0.6;
/** Noted messages a node holds in memory at most; beyond that it leaves them to the sweep. */
const MAX_QUEUED = 10_000;
const TASK = 'notifications.message_notices' as const;
const KEY = 'message-notices';

/**
 * Makes the notifications of noted messages (in one batch: one notify() for all of them) and removes their notes.
 * When the batch fails, each message is tried on its own, so one that cannot be notified about holds back only itself.
 * Returns the ids that failed (their notes stay).
 */
export async function workThroughNotices(deps: Deps, messageIds: readonly string[]): Promise<string[]> {
  let done: string[] = [...messageIds];
  const failed: string[] = [];
  try {
    await notifyAboutMessages(deps, messageIds);
  } catch {
    done = [];
    for (const messageId of messageIds) {
      try {
        await notifyAboutMessages(deps, [messageId]);
        done.push(messageId);
      } catch (err) {
        failed.push(messageId);
        deps.logger.warn({ err: String(err), messageId }, 'could not notify about a message yet; the sweep tries again');
      }
    }
  }
  if (done.length) {
    await db(deps.orm.em.fork())
      .deleteFrom('message_notices')
      .where('message_id', '=', sql<string>`any(${uuids(done)})`)
      .execute();
  }
  return failed;
}

export interface MessageNoticeWorker {
  /** Takes noted messages to work through soon (returns at once). */
  add(messageIds: readonly string[]): void;
  /** Resolves when nothing is being worked on (before a node closes its database). */
  idle(): Promise<void>;
}

/**
 * The sending node's worker for its own notes (see above). It works in the background, one batch at a time: notes
 * gather for COALESCE_MS after the first one arrives (BUSY_COALESCE_MS while the node's event loop is busy), then up
 * to LIVE_BATCH of them are made into notifications together. Under load that turns many mentions into few
 * statements (one count and one access query for all recipients, one insert for all notifications), and chat keeps
 * the rest of the node; a notification then arrives up to half a second after its message.
 */
export function messageNoticeWorker(deps: Deps): MessageNoticeWorker {
  const queue: string[] = [];
  let running: Promise<void> | null = null;
  let full = false;
  const start = () => {
    running = loop()
      .catch((err: unknown) => deps.logger.warn({ err: String(err) }, 'message notices left to the sweep'))
      .finally(() => {
        running = null;
        if (queue.length) start();
      });
  };
  let since = performance.eventLoopUtilization();
  const loop = async () => {
    while (queue.length) {
      const now = performance.eventLoopUtilization();
      const busy = performance.eventLoopUtilization(now, since).utilization > BUSY_ELU;
      since = now;
      await new Promise((resolve) => setTimeout(resolve, busy ? BUSY_COALESCE_MS : COALESCE_MS));
      await workThroughNotices(deps, queue.splice(0, LIVE_BATCH));
    }
  };
  return {
    add(messageIds) {
      if (queue.length + messageIds.length > MAX_QUEUED) {
        if (!full) deps.logger.warn({ queued: queue.length }, 'message notices are queued faster than they are worked through; the sweep takes the rest');
        full = true;
        return;
      }
      full = false;
      queue.push(...messageIds);
      if (!running) start();
    },
    async idle() {
      while (running) await running;
    },
  };
}

/** Hands the messages noted by the send path to this node's worker; returned so the node can wait for it on close. */
export function registerMessageNotices(bus: EventBus, deps: Deps): MessageNoticeWorker {
  const worker = messageNoticeWorker(deps);
  bus.on('messages.noticed', ({ messageIds }) => worker.add(messageIds));
  return worker;
}

/** Works through the notes left behind (older than `leftBehindMs`); returns how many were done. */
export async function sweepMessageNotices(deps: Deps, leftBehindMs = LEFT_BEHIND_MS): Promise<number> {
  const q = db(deps.orm.em.fork());
  let done = 0;
  for (;;) {
    // An attempt is counted before the work, so a note whose work crashes its node every time is still given up on.
    const claimed = await q
      .updateTable('message_notices')
      .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
      .where('message_id', 'in', (eb) =>
        eb
          .selectFrom('message_notices')
          .select('message_id')
          .where('created_at', '<', sql<Date>`now() - ${leftBehindMs} * interval '1 millisecond'`)
          .where('attempts', '<', GIVE_UP_AFTER)
          .orderBy('created_at')
          .limit(SWEEP_BATCH)
          .forUpdate()
          .skipLocked(),
      )
      .returning(['message_id', 'attempts'])
      .execute();
    if (claimed.length === 0) return done;
    const failed = new Set<string>();
    for (let i = 0; i < claimed.length; i += LIVE_BATCH) {
      for (const id of await workThroughNotices(deps, claimed.slice(i, i + LIVE_BATCH).map((c) => c.message_id))) failed.add(id);
    }
    for (const note of claimed) {
      if (failed.has(note.message_id) && note.attempts >= GIVE_UP_AFTER) {
        deps.logger.error({ messageId: note.message_id, attempts: note.attempts }, 'gave up notifying about a message; its note stays in message_notices');
      }
    }
    done += claimed.length - failed.size;
    // A failure waits for the next sweep rather than being retried at once.
    if (failed.size || claimed.length < SWEEP_BATCH) return done;
  }
}

const sweep = periodicSweep(TASK, KEY, MESSAGE_NOTICE_SWEEP_EVERY_MS, (deps: Deps) => sweepMessageNotices(deps));

/** Queues the periodic sweep (a restart neither adds nor delays one). */
export const scheduleMessageNoticeSweep = sweep.schedule;

/** 'notifications.message_notices': queues the next sweep, then works through the notes left behind. */
export const messageNoticeSweepJob = sweep.job;
