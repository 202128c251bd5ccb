import { describe, expect, it } from 'vitest';
import { createBatchedLookup, createGroup } from './groupCommit.ts';

/** A group whose batches are recorded and finish only when the test says so. */
function recordingGroup(options: Parameters<typeof createGroup>[1] = {}) {
  const batches: number[][] = [];
  const finishers: (() => void)[] = [];
  const group = createGroup<number>((batch) => {
    batches.push(batch);
    return new Promise<void>((resolve) => finishers.push(resolve));
  }, options);
  return { group, batches, finishNext: () => finishers.shift()?.() };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('group commit', () => {
  it('serves what one turn brought at once, and gathers what arrives meanwhile into the next batch', async () => {
    const { group, batches, finishNext } = recordingGroup();
    group.add(1);
    group.add(2);
    await turn();
    expect(batches).toEqual([[1, 2]]);
    group.add(3);
    group.add(4);
    await turn();
    // One batch at a time: 3 and 4 wait for the first to finish, then go together.
    expect(batches).toEqual([[1, 2]]);
    finishNext();
    await turn();
    expect(batches).toEqual([[1, 2], [3, 4]]);
    finishNext();
  });

  it('splits at maxBatch and drains everything queued', async () => {
    const { group, batches, finishNext } = recordingGroup({ maxBatch: 2 });
    for (const n of [1, 2, 3, 4, 5]) group.add(n);
    const drained = group.drain();
    let done = false;
    void drained.then(() => (done = true));
    for (let i = 0; i < 3; i++) {
      await turn();
      finishNext();
    }
    await drained;
    expect(done).toBe(true);
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('waits maxDelayMs for company when asked to', async () => {
    const { group, batches, finishNext } = recordingGroup({ maxDelayMs: 30 });
    group.add(1);
    await turn();
    expect(batches).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(batches).toEqual([[1]]);
    finishNext();
  });
});

describe('batched lookup', () => {
  it('reads the keys of one turn together, each once, and answers every caller with its own value', async () => {
    const reads: string[][] = [];
    const lookup = createBatchedLookup(async (keys: string[]) => {
      reads.push(keys);
      return new Map(keys.filter((k) => k !== 'absent').map((k) => [k, k.toUpperCase()]));
    });
    expect(await Promise.all(['a', 'b', 'a', 'absent'].map(lookup))).toEqual(['A', 'B', 'A', undefined]);
    expect(reads).toEqual([['a', 'b', 'absent']]);
  });

  it('rejects every caller of a batch whose read failed, and reads again for the next', async () => {
    let fail = true;
    const lookup = createBatchedLookup(async (keys: string[]) => {
      if (fail) throw new Error('database away');
      return new Map(keys.map((k) => [k, k]));
    });
    const first = await Promise.allSettled(['a', 'b'].map(lookup));
    expect(first.map((r) => (r.status === 'rejected' ? (r.reason as Error).message : 'ok'))).toEqual(['database away', 'database away']);
    fail = false;
    expect(await lookup('c')).toBe('c');
  });
});
