import { describe, expect, it } from 'vitest';
import { createCoalescer } from './coalescer.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('createCoalescer', () => {
  it('flushes everything marked within one window as one batch, each user once', async () => {
    const batches: string[][] = [];
    const coalescer = createCoalescer({ windowMs: 40, flush: async (ids) => void batches.push(ids), onError: () => {} });
    coalescer.mark(['a', 'b']);
    coalescer.mark(['a']);
    await sleep(10);
    coalescer.mark(['c', 'b']);
    expect(batches).toEqual([]);
    await sleep(60);
    expect(batches).toEqual([['a', 'b', 'c']]);
    coalescer.mark(['a']);
    await sleep(60);
    expect(batches).toEqual([['a', 'b', 'c'], ['a']]);
    await coalescer.close();
  });

  it('never runs two flushes at once; marks made during a flush go into the next batch', async () => {
    const batches: string[][] = [];
    let running = 0;
    let overlapped = false;
    const coalescer = createCoalescer({
      windowMs: 10,
      flush: async (ids) => {
        overlapped ||= running > 0;
        running++;
        batches.push(ids);
        await sleep(50);
        running--;
      },
      onError: () => {},
    });
    coalescer.mark(['a']);
    await sleep(20); // flushing a
    coalescer.mark(['b']);
    await sleep(20);
    coalescer.mark(['c']);
    await sleep(120);
    expect(overlapped).toBe(false);
    expect(batches).toEqual([['a'], ['b', 'c']]);
    await coalescer.close();
  });

  it('keeps the users of a failed flush for the next window', async () => {
    const attempts: string[][] = [];
    const errors: unknown[] = [];
    const coalescer = createCoalescer({
      windowMs: 10,
      retryMs: 40,
      flush: async (ids) => {
        attempts.push(ids);
        if (attempts.length === 1) throw new Error('database away');
      },
      onError: (err) => errors.push(err),
    });
    coalescer.mark(['a']);
    await sleep(25);
    coalescer.mark(['b']);
    expect(attempts).toEqual([['a']]);
    await sleep(50);
    expect(errors).toHaveLength(1);
    expect(attempts).toEqual([['a'], ['a', 'b']]);
    await coalescer.close();
  });

  it('close flushes what is pending at once and ignores later marks', async () => {
    const batches: string[][] = [];
    const coalescer = createCoalescer({ windowMs: 10_000, flush: async (ids) => void batches.push(ids), onError: () => {} });
    coalescer.mark(['a']);
    await coalescer.close();
    expect(batches).toEqual([['a']]);
    coalescer.mark(['b']);
    await sleep(20);
    expect(batches).toEqual([['a']]);
  });
});
