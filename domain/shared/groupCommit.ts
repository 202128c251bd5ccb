/** Options of a group: how long an idle group waits for company, how big a batch gets, how many run at once. */
export interface GroupOptions {
  /** 0 (the default): an idle group serves what one turn of the event loop brought, without waiting. */
  maxDelayMs?: number;
  maxBatch?: number;
  maxInFlight?: number;
}

export interface Group<T> {
  /** Queues `item` for the next batch. */
  add(item: T): void;
  /** Serves what is queued and resolves once every batch has finished. */
  drain(): Promise<void>;
}

/**
 * Work served in batches, like a group commit: what is added while the group is idle goes out within `maxDelayMs`
 * (by default on the next turn of the event loop), and what is added while a batch is being served gathers into the
 * next one, so batches grow with load and the rate of batches stays bounded. `serve` settles its items itself and
 * must not reject (a rejection is the caller's bug; it is not retried).
 */
export function createGroup<T>(serve: (batch: T[]) => Promise<void>, options: GroupOptions = {}): Group<T> {
  const maxDelayMs = options.maxDelayMs ?? 0;
  const maxBatch = options.maxBatch ?? 200;
  const maxInFlight = options.maxInFlight ?? 1;
  const queue: T[] = [];
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  const inFlight = new Set<Promise<void>>();

  const flushNow = () => {
    clearTimeout(timer);
    clearImmediate(immediate);
    timer = immediate = undefined;
    if (!queue.length || inFlight.size >= maxInFlight) return;
    const run = serve(queue.splice(0, maxBatch)).finally(() => {
      inFlight.delete(run);
      // What arrived meanwhile goes out now, as one batch.
      if (queue.length) flushNow();
    });
    inFlight.add(run);
  };

  return {
    add(item) {
      queue.push(item);
      if (queue.length >= maxBatch) flushNow();
      else if (!timer && !immediate) {
        if (maxDelayMs > 0) timer = setTimeout(flushNow, maxDelayMs);
        else immediate = setImmediate(flushNow);
      }
    },
    async drain() {
      flushNow();
      while (inFlight.size || queue.length) {
        await Promise.all(inFlight);
        flushNow();
      }
    },
  };
}

/**
 * Reads by key in batches (a group, as above): the keys asked for in one turn of the event loop, and while a batch is
 * being read, go to `readMany` together, each once. Every caller gets its key's value (undefined when `readMany`
 * found none); when the read fails, every caller of that batch gets its error.
 */
export function createBatchedLookup<K, V>(readMany: (keys: K[]) => Promise<Map<K, V>>, options: GroupOptions = {}): (key: K) => Promise<V | undefined> {
  type Pending = { key: K; resolve(value: V | undefined): void; reject(err: unknown): void };
  const group = createGroup<Pending>(async (batch) => {
    let found: Map<K, V>;
    try {
      found = await readMany([...new Set(batch.map((p) => p.key))]);
    } catch (err) {
      for (const p of batch) p.reject(err);
      return;
    }
    for (const p of batch) p.resolve(found.get(p.key));
  }, options);
  return (key) => new Promise((resolve, reject) => group.add({ key, resolve, reject }));
}
