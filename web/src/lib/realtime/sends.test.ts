import { afterEach, describe, expect, it, vi } from 'vitest';
import type { UserRef } from '$contracts/communities.ts';
import { connectClient, FakeChatServer, settle, uuid } from './fakeChatServer.ts';
import { typingSentence } from './typing.svelte.ts';

const ada: UserRef = { id: uuid(), displayName: 'Ada' };
const grace: UserRef = { id: uuid(), displayName: 'Grace' };

afterEach(() => {
  vi.useRealTimers();
});

describe('ChannelState: optimistic sends', () => {
  it('shows a pending message at once and settles it exactly once, whether the ack or the event comes first', async () => {
    const server = new FakeChatServer();
    const { id } = server.createChannel();
    const client = connectClient(server, ada);
    const state = client.open(id);
    await settle();

    expect(state.send('  hello  ')).toBeNull();
    expect(state.sends.items).toMatchObject([{ body: 'hello', status: 'pending' }]);
    await settle();
    expect(state.sends.items).toEqual([]);
    expect(state.messages.map((m) => m.body)).toEqual(['hello']);

    // The event arrives after the ack: held back, then released.
    client.socket.held = [];
    state.send('second');
    await settle();
    expect(state.messages.map((m) => m.body)).toEqual(['hello', 'second']);
    client.socket.release();
    expect(state.messages.map((m) => m.body)).toEqual(['hello', 'second']);
    expect(state.sends.items).toEqual([]);

    const sendCalls = server.calls.filter((c) => c.event === 'message:send');
    const clientIds = new Set(sendCalls.map((c) => c.payload.clientId));
    expect(clientIds.size).toBe(2);
    expect(state.messages.map((m) => m.clientId)).toEqual([...clientIds]);
  });

  it('settles from the message:created event when it beats the ack', async () => {
    const server = new FakeChatServer();
    const { id } = server.createChannel();
    const client = connectClient(server, ada);
    const state = client.open(id);
    await settle();

    server.dropSendAcks = 1;
    state.send('event first');
    await settle();
    expect(state.sends.items).toEqual([]);
    expect(state.messages.map((m) => m.body)).toEqual(['event first']);
  });

  it('marks a refused send failed with the reason; retry resends it with the same clientId', async () => {
    const server = new FakeChatServer();
    const { id } = server.createChannel();
    const client = connectClient(server, ada);
    const state = client.open(id);
    await settle();

    server.refuseSends.push({ ok: false, error: { code: 'rate_limited', message: 'Slow down.', retryAfter: 3 } });
    state.send('too fast');
    await settle();
    const [failed] = state.sends.items;
    expect(failed).toMatchObject({ status: 'failed', error: 'You are sending too fast. Try again in 3 s.' });

    state.sends.retry(failed!.clientId);
    expect(state.sends.items[0]?.status).toBe('pending');
    await settle();
    const sends = server.calls.filter((c) => c.event === 'message:send');
    expect(sends.map((c) => c.payload.clientId)).toEqual([failed!.clientId, failed!.clientId]);
    expect(state.sends.items).toEqual([]);
    expect(server.messages(id).map((m) => m.clientId)).toEqual([failed!.clientId]);
  });

  it('fails a send whose ack never comes; the retry gets the original message back, never a duplicate', async () => {
    const server = new FakeChatServer();
    const { id } = server.createChannel();
    const client = connectClient(server, ada, { ackTimeoutMs: 30 });
    const state = client.open(id);
    await settle();

    // Stored, but both the ack and the broadcast are lost.
    server.dropSendAcks = 1;
    client.socket.held = [];
    state.send('lost ack');
    await new Promise((resolve) => setTimeout(resolve, 60));
    const [failed] = state.sends.items;
    expect(failed?.status).toBe('failed');
    expect(failed?.error).toMatch(/No answer/);

    state.sends.retry(failed!.clientId);
    await settle();
    expect(state.sends.items).toEqual([]);
    expect(server.messages(id)).toHaveLength(1);
    expect(state.messages.map((m) => m.body)).toEqual(['lost ack']);
    // The held broadcast of the original arriving late changes nothing.
    client.socket.release();
    expect(state.messages).toEqual(server.messages(id));
  });

  it('resends a send whose ack died with the connection, with the same clientId', async () => {
    const server = new FakeChatServer();
    const { id } = server.createChannel();
    const client = connectClient(server, ada);
    const state = client.open(id);
    await settle();

    state.send('on the wire');
    client.socket.drop();
    await settle();
    expect(state.sends.items[0]?.status).toBe('pending');

    client.socket.connect();
    await settle();
    const sends = server.calls.filter((c) => c.event === 'message:send');
    expect(sends).toHaveLength(2);
    expect(sends[0]!.payload.clientId).toBe(sends[1]!.payload.clientId);
    expect(state.sends.items).toEqual([]);
    expect(server.messages(id)).toHaveLength(1);
    expect(state.messages).toEqual(server.messages(id));
  });

  it('rejects empty and over-long messages before sending', async () => {
    const server = new FakeChatServer();
    const { id } = server.createChannel();
    const state = connectClient(server, ada).open(id);
    expect(state.send('   ')).toBe('Write something first.');
    expect(state.send('x'.repeat(4001))).toMatch(/at most 4000/);
    expect(state.sends.items).toEqual([]);
  });
});

describe('typing', () => {
  it('announces at most once per 2 s and shows others until they send or 5 s pass', async () => {
    vi.useFakeTimers();
    const server = new FakeChatServer();
    const { id } = server.createChannel();
    const adaClient = connectClient(server, ada);
    const graceClient = connectClient(server, grace);
    const adaState = adaClient.open(id);
    const graceState = graceClient.open(id);
    await vi.runAllTimersAsync();

    adaState.notifyTyping();
    adaState.notifyTyping();
    await vi.advanceTimersByTimeAsync(0);
    expect(server.calls.filter((c) => c.event === 'typing:start')).toHaveLength(1);
    expect(graceState.typing.typists).toEqual([{ userId: ada.id, displayName: 'Ada' }]);
    expect(typingSentence(graceState.typing.typists)).toBe('Ada is typing…');

    await vi.advanceTimersByTimeAsync(2_100);
    adaState.notifyTyping();
    await vi.advanceTimersByTimeAsync(0);
    expect(server.calls.filter((c) => c.event === 'typing:start')).toHaveLength(2);

    await vi.advanceTimersByTimeAsync(5_100);
    expect(graceState.typing.typists).toEqual([]);

    adaState.notifyTyping();
    await vi.advanceTimersByTimeAsync(0);
    expect(graceState.typing.typists).toHaveLength(1);
    adaState.send('done typing');
    await vi.runAllTimersAsync();
    expect(graceState.typing.typists).toEqual([]);
    expect(typingSentence([{ userId: '1', displayName: 'A' }, { userId: '2', displayName: 'B' }])).toBe('A and B are typing…');
  });
});

describe('presence', () => {
  it('sets our status, shows it as ours, and repeats it after a reconnect', async () => {
    const server = new FakeChatServer();
    const { socket, chat } = connectClient(server, ada);
    expect(chat.presence.status(ada.id)).toBe('online');

    expect(await chat.setPresence('dnd')).toBeNull();
    expect(chat.presence.status(ada.id)).toBe('dnd');

    socket.drop();
    expect(chat.presence.status(ada.id)).toBe('offline');
    expect(await chat.setPresence('away')).toBe('Not connected right now.');
    socket.connect();
    await settle();
    expect(chat.presence.status(ada.id)).toBe('dnd');
    expect(server.calls.filter((c) => c.event === 'presence:set').map((c) => c.payload)).toEqual([{ status: 'dnd' }, { status: 'dnd' }]);

    // Live updates about others.
    socket.deliver('presence:updated', { userId: grace.id, status: 'away' });
    expect(chat.presence.status(grace.id)).toBe('away');
  });
});
