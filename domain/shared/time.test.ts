import { describe, expect, it } from 'vitest';
import { manualClock, withTimeout } from './time.ts';

describe('withTimeout', () => {
  it('passes on the answer or the failure of a promise that settles in time', async () => {
    await expect(withTimeout(Promise.resolve('pong'), 100)).resolves.toBe('pong');
    await expect(withTimeout(Promise.reject(new Error('refused')), 100)).rejects.toThrow('refused');
  });

  it('gives up after the budget, naming what it waited for', async () => {
    const never = new Promise<never>(() => {});
    await expect(withTimeout(never, 20, 'presence shutdown')).rejects.toThrow('no presence shutdown within 20 ms');
  });
});

describe('manualClock', () => {
  it('stands still until set or advanced, and hands out copies', () => {
    const clock = manualClock('2026-11-25T09:00:00.000Z');
    const first = clock.now();
    first.setFullYear(2000);
    expect(clock.now().toISOString()).toBe('2026-11-25T09:00:00.000Z');
    clock.advance(15 * 60_000);
    expect(clock.now().toISOString()).toBe('2026-11-25T09:15:00.000Z');
    clock.set(new Date('2026-12-01T00:00:00.000Z'));
    expect(clock.now().toISOString()).toBe('2026-12-01T00:00:00.000Z');
  });
});
