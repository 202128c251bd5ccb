/**
 * Collects users whose presence may have changed and hands them over in one batch per window. The first mark opens
 * a window; everything marked until it closes is flushed together, each user once. Flushes never overlap: marks made
 * during a flush wait for the next window. A failed flush keeps its users and is retried after `retryMs`.
 */
export interface Coalescer {
  mark(userIds: Iterable<string>): void;
  /** Flushes what is pending and stops; later marks are ignored. */
  close(): Promise<void>;
}

export function createCoalescer(options: {
  windowMs: number;
  /** Delay before retrying a failed flush; default max(windowMs, 1 s), so an outage is not hammered. */
  retryMs?: number;
  flush: (userIds: string[]) => Promise<void>;
  onError: (err: unknown, userIds: string[]) => void;
}): Coalescer {
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let closed = false;
  let failed = false;
  const retryMs = options.retryMs ?? Math.max(options.windowMs, 1000);

  function schedule() {
    if (timer || running || pending.size === 0 || closed) return;
    timer = setTimeout(
      () => {
        timer = undefined;
        void run();
      },
      failed ? retryMs : options.windowMs,
    );
  }

  async function run(): Promise<void> {
    if (running) return running;
    if (pending.size === 0) return;
    const batch = [...pending];
    pending = new Set();
    running = options.flush(batch).then(
      () => {
        failed = false;
      },
      (err: unknown) => {
        failed = true;
        for (const id of batch) pending.add(id);
        options.onError(err, batch);
      },
    );
    try {
      await running;
    } finally {
      running = undefined;
      schedule();
    }
  }

  return {
    mark(userIds) {
      if (closed) return;
      for (const id of userIds) pending.add(id);
      schedule();
    },
    async close() {
      // From here on nothing is scheduled: only the flush below and the one in progress run.
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      await running;
      await run();
    },
  };
}
