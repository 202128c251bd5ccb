import { describe, expect, it } from 'vitest';
import type { Logger } from '../../orm/database.ts';
import { createEventBus } from './events.ts';

function recordingLogger() {
  const errors: { obj: unknown; msg?: string }[] = [];
  const logger: Logger = {
    info() {},
    warn() {},
    error: (obj, msg) => errors.push({ obj, msg }),
  };
  return { logger, errors };
}

const deleted = (postId: string) => ({ communityId: 'c1', postId, version: 2 });

describe('event bus', () => {
  it('runs listeners in registration order, specific and catch-all alike, synchronously within emit', async () => {
    const bus = createEventBus(recordingLogger().logger);
    const seen: string[] = [];
    bus.on('post.deleted', ({ postId }) => void seen.push(`first ${postId}`));
    bus.onAny((name) => void seen.push(`any ${name}`));
    bus.on('post.deleted', ({ postId }) => void seen.push(`second ${postId}`));
    bus.on('post.hidden', () => void seen.push('never: another event'));

    const done = bus.emit('post.deleted', deleted('p1'));
    // Synchronous listeners have all run before emit returns, so per-room order is the order of emits.
    expect(seen).toEqual(['first p1', 'any post.deleted', 'second p1']);
    void bus.emit('post.deleted', deleted('p2'));
    expect(seen.slice(3)).toEqual(['first p2', 'any post.deleted', 'second p2']);
    await done;
  });

  it('isolates a listener that throws or rejects: logged with the event name, the others still run, emit resolves', async () => {
    const { logger, errors } = recordingLogger();
    const bus = createEventBus(logger);
    const seen: string[] = [];
    bus.on('post.deleted', () => {
      throw new Error('listener broke');
    });
    bus.on('post.deleted', async () => {
      await Promise.resolve();
      throw new Error('async listener broke');
    });
    bus.on('post.deleted', () => void seen.push('after'));

    await expect(bus.emit('post.deleted', deleted('p1'))).resolves.toBeUndefined();
    expect(seen).toEqual(['after']);
    expect(errors).toHaveLength(2);
    for (const { obj, msg } of errors) {
      expect(obj).toMatchObject({ event: 'post.deleted' });
      expect(msg).toBe('domain event listener failed');
    }
    expect(errors.map((e) => (e.obj as { err: string }).err)).toEqual(['Error: listener broke', 'Error: async listener broke']);
  });

  it('waits for async listeners before resolving', async () => {
    const bus = createEventBus(recordingLogger().logger);
    let finished = false;
    bus.on('post.deleted', async () => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      finished = true;
    });
    await bus.emit('post.deleted', deleted('p1'));
    expect(finished).toBe(true);
  });

  it('unsubscribes, also during an emit (which still reaches every listener it started with)', async () => {
    const bus = createEventBus(recordingLogger().logger);
    const seen: string[] = [];
    const offAny = bus.onAny(() => void seen.push('any'));
    let offSecond = () => {};
    const offFirst = bus.on('post.deleted', () => {
      seen.push('first');
      offSecond();
    });
    offSecond = bus.on('post.deleted', () => void seen.push('second'));

    await bus.emit('post.deleted', deleted('p1'));
    expect(seen).toEqual(['any', 'first', 'second']);

    seen.length = 0;
    await bus.emit('post.deleted', deleted('p2'));
    expect(seen).toEqual(['any', 'first']);

    offAny();
    offFirst();
    offFirst(); // harmless twice
    seen.length = 0;
    await bus.emit('post.deleted', deleted('p3'));
    expect(seen).toEqual([]);
  });

  it('refuses the same durable listener twice and fails a delivery to a listener it does not know', async () => {
    const bus = createEventBus(recordingLogger().logger);
    bus.onDurable('post.deleted', 'forgetPost', async () => {});
    expect(() => bus.onDurable('post.deleted', 'forgetPost', async () => {})).toThrow(/registered twice/);
    await expect(
      bus.deliverDurable({ event: 'post.deleted', listener: 'renamedAway', payload: deleted('p1') }, { id: '1', attempts: 1, maxAttempts: 3 }),
    ).rejects.toThrow(/no durable listener renamedAway of post.deleted/);
  });
});
