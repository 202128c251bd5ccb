import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeSocket } from './fakeSocket.ts';
import { InOrder, LiveStore, NewestByKey, type Listen, type LiveSocket } from './liveStore.svelte.ts';

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

type Item = { version: number; text: string };

/** The smallest live store: one room, events in version order, a catch-up that replays what it missed. */
class VersionedStore extends LiveStore {
  applied: string[] = [];
  subscribes: boolean[] = [];
  catchUps = 0;
  gapCatchUps = 0;
  unsubscribes = 0;
  disconnects = 0;
  /** What the server answers to `room:subscribe`. */
  accept = true;
  readonly order = new InOrder<Item>({
    start: 0,
    versionOf: (item) => item.version,
    apply: (item) => this.applied.push(item.text),
    catchUp: () => {
      this.gapCatchUps += 1;
    },
    gapGraceMs: 20,
  });

  protected listen(on: Listen): void {
    on('message:created' as never, ((item: Item) => this.order.receive(item)) as never);
  }

  protected subscribe(_socket: LiveSocket, reconnected: boolean): Promise<boolean> {
    this.subscribes.push(reconnected);
    return Promise.resolve(this.accept);
  }

  protected override catchUp(): void {
    this.catchUps += 1;
  }

  protected override unsubscribe(): void {
    this.unsubscribes += 1;
  }

  protected override disconnected(): void {
    this.disconnects += 1;
  }
}

const item = (version: number): Item => ({ version, text: `v${version}` });

afterEach(() => {
  vi.useRealTimers();
});

describe('LiveStore', () => {
  it('subscribes and catches up when attached to a connected socket, and is live once the server accepted', async () => {
    const fake = new FakeSocket();
    const store = new VersionedStore();
    expect(store.live).toBe(false);
    store.attach(fake.socket);
    store.attach(fake.socket);
    await settle();
    expect(store.subscribes).toEqual([false]);
    expect(store.catchUps).toBe(1);
    expect(store.live).toBe(true);
  });

  it('waits for the connect when attached before it, then subscribes after every reconnect', async () => {
    const fake = new FakeSocket();
    fake.connected = false;
    const store = new VersionedStore();
    store.attach(fake.socket);
    await settle();
    expect(store.subscribes).toEqual([]);

    fake.reconnect();
    await settle();
    expect(store.subscribes).toEqual([true]);
    expect(store.live).toBe(true);

    fake.drop();
    expect(store.live).toBe(false);
    expect(store.disconnects).toBe(1);
    fake.reconnect();
    await settle();
    expect(store.subscribes).toEqual([true, true]);
    expect(store.catchUps).toBe(2);
    expect(store.live).toBe(true);
  });

  it('is not live (and does not catch up) when the server refuses the subscription', async () => {
    const fake = new FakeSocket();
    const store = new VersionedStore();
    store.accept = false;
    store.attach(fake.socket);
    await settle();
    expect(store.live).toBe(false);
    expect(store.catchUps).toBe(0);
  });

  it('detaches: handlers removed, rooms left, not live, and a subscription answered late changes nothing', async () => {
    const fake = new FakeSocket();
    const store = new VersionedStore();
    store.attach(fake.socket);
    store.detach();
    await settle();
    expect(store.live).toBe(false);
    expect(store.catchUps).toBe(0);
    expect(store.unsubscribes).toBe(1);
    expect(fake.listeners()).toBe(0);
    fake.push('message:created', item(1));
    expect(store.applied).toEqual([]);
  });

  it('applies its events in version order, ignores stale ones and asks for its catch-up once when a gap persists', async () => {
    const fake = new FakeSocket();
    const store = new VersionedStore();
    store.attach(fake.socket);
    await settle();
    fake.push('message:created', item(1));
    fake.push('message:created', item(1));
    fake.push('message:created', item(3));
    fake.push('message:created', item(4));
    expect(store.applied).toEqual(['v1']);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(store.gapCatchUps).toBe(1);
    fake.push('message:created', item(2));
    expect(store.applied).toEqual(['v1', 'v2', 'v3', 'v4']);
  });

  it('moves to another socket and attaches no more once destroyed', async () => {
    const first = new FakeSocket();
    const second = new FakeSocket();
    const store = new VersionedStore();
    store.attach(first.socket);
    store.attach(second.socket);
    await settle();
    expect(first.listeners()).toBe(0);
    expect(second.listeners()).toBeGreaterThan(0);
    store.destroy();
    expect(second.listeners()).toBe(0);
    store.attach(first.socket);
    expect(first.listeners()).toBe(0);
    expect(store.live).toBe(false);
  });
});

describe('InOrder', () => {
  function setup(start: number | null = 0) {
    const applied: number[] = [];
    const catchUp = vi.fn();
    const order = new InOrder<Item>({ start, versionOf: (i) => i.version, apply: (i) => applied.push(i.version), catchUp, gapGraceMs: 100 });
    return { order, applied, catchUp };
  }

  it('applies the next version at once and ignores events at or below the last applied one', () => {
    const { order, applied } = setup(2);
    expect(order.receive(item(3))).toBe('applied');
    expect(order.receive(item(3))).toBe('stale');
    expect(order.receive(item(1))).toBe('stale');
    expect(order.receive(item(4))).toBe('applied');
    expect(applied).toEqual([3, 4]);
    expect(order.version).toBe(4);
  });

  it('holds an early event until the missing ones arrive, without a catch-up when they come within the grace', () => {
    vi.useFakeTimers();
    const { order, applied, catchUp } = setup();
    expect(order.receive(item(3))).toBe('held');
    expect(order.receive(item(2))).toBe('held');
    expect(order.held).toEqual([2, 3]);
    vi.advanceTimersByTime(50);
    expect(order.receive(item(1))).toBe('applied');
    expect(applied).toEqual([1, 2, 3]);
    expect(order.held).toEqual([]);
    vi.advanceTimersByTime(1_000);
    expect(catchUp).not.toHaveBeenCalled();
  });

  it('asks for a catch-up once per gap that outlives the grace, and again only after it settled', () => {
    vi.useFakeTimers();
    const { order, applied, catchUp } = setup();
    order.receive(item(3));
    vi.advanceTimersByTime(99);
    expect(catchUp).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(catchUp).toHaveBeenCalledTimes(1);
    // More early events while the catch-up is on its way do not ask again.
    order.receive(item(5));
    vi.advanceTimersByTime(1_000);
    expect(catchUp).toHaveBeenCalledTimes(1);

    // The catch-up brought the state to 3: 4 is still missing, so the gap is timed again.
    order.advanceTo(3);
    order.settled();
    expect(order.version).toBe(3);
    expect(order.held).toEqual([5]);
    vi.advanceTimersByTime(100);
    expect(catchUp).toHaveBeenCalledTimes(2);
    order.advanceTo(4);
    order.settled();
    expect(order.version).toBe(5);
    expect(applied).toEqual([5]);
  });

  it('does not time gaps while a catch-up runs for another reason (a reconnect)', () => {
    vi.useFakeTimers();
    const { order, catchUp } = setup();
    order.catchingUp();
    order.receive(item(4));
    vi.advanceTimersByTime(1_000);
    expect(catchUp).not.toHaveBeenCalled();
    order.settled();
    vi.advanceTimersByTime(100);
    expect(catchUp).toHaveBeenCalledTimes(1);
  });

  it('without a start, holds everything until the first snapshot and keeps only what is newer than it', () => {
    vi.useFakeTimers();
    const { order, applied, catchUp } = setup(null);
    expect(order.version).toBe(-1);
    expect(order.receive(item(4))).toBe('held');
    expect(order.receive(item(6))).toBe('held');
    vi.advanceTimersByTime(1_000);
    expect(catchUp).not.toHaveBeenCalled();
    order.advanceTo(5);
    expect(applied).toEqual([6]);
    expect(order.version).toBe(6);
    // An older snapshot arriving late changes nothing.
    order.advanceTo(2);
    expect(order.version).toBe(6);
  });

  it('ignores everything once stopped', () => {
    vi.useFakeTimers();
    const { order, applied, catchUp } = setup();
    order.receive(item(3));
    order.stop();
    expect(order.receive(item(1))).toBe('stale');
    vi.advanceTimersByTime(1_000);
    expect(applied).toEqual([]);
    expect(catchUp).not.toHaveBeenCalled();
  });
});

describe('NewestByKey', () => {
  it('takes an event per key only when newer than what that key holds; keys do not wait for each other', () => {
    const versions = new NewestByKey<string>();
    expect(versions.event('a', 5)).toBe(true);
    // Another item's version has nothing to do with this one's, and a gap is normal.
    expect(versions.event('b', 1)).toBe(true);
    expect(versions.event('a', 5)).toBe(false);
    expect(versions.event('a', 4)).toBe(false);
    expect(versions.event('a', 9)).toBe(true);
    expect(versions.version('a')).toBe(9);
    expect(versions.version('c')).toBeUndefined();
  });

  it('takes a snapshot at the version held (it may carry more than a broadcast) but not an older one', () => {
    const versions = new NewestByKey<string>();
    expect(versions.snapshot('a', 3)).toBe(true);
    expect(versions.snapshot('a', 3)).toBe(true);
    expect(versions.snapshot('a', 2)).toBe(false);
    expect(versions.event('a', 3)).toBe(false);
  });

  it('remembers a removal: older changes arriving late and copies at its version stay out, a newer version restores', () => {
    const versions = new NewestByKey<string>();
    versions.snapshot('a', 1);
    expect(versions.remove('a', 3)).toBe(true);
    expect(versions.removed('a')).toBe(true);
    expect(versions.event('a', 2)).toBe(false);
    expect(versions.snapshot('a', 3)).toBe(false);
    // The same removal again (a repeat) is no news.
    expect(versions.remove('a', 3)).toBe(false);
    expect(versions.event('a', 4)).toBe(true);
    expect(versions.removed('a')).toBe(false);
    // A removal older than the restore is ignored.
    expect(versions.remove('a', 3)).toBe(false);
    expect(versions.removed('a')).toBe(false);
  });

  it('removes at the version held when the removal was inferred, and for good at Infinity', () => {
    const versions = new NewestByKey<string>();
    versions.snapshot('a', 2);
    expect(versions.remove('a', 2)).toBe(true);
    expect(versions.event('a', 3)).toBe(true);
    expect(versions.remove('a', Infinity)).toBe(true);
    expect(versions.event('a', 1_000)).toBe(false);
    expect(versions.snapshot('a', 1_000)).toBe(false);
  });
});
