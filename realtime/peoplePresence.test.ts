import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PresenceList } from '../contracts/chat.ts';
import type { ErrorResponse } from '../contracts/errors.ts';
import { seedWorld } from '../test/communities.ts';
import { call, connectSocket, emitOk, registerUser, type ClientSocket, type EventPayload, type TestUser } from '../test/factories.ts';
import { startNode, type RunningNode } from '../test/nodes.ts';

type Update = EventPayload<'presence:updated'>;

describe('presence of the people a page shows, and a device learning its own status', () => {
  let node: RunningNode;
  const opened: ClientSocket[] = [];

  beforeAll(async () => {
    node = await startNode({ env: { PRESENCE_COALESCE_MS: '300' } });
  });
  afterAll(async () => {
    for (const socket of opened) socket.close();
    await node?.close();
  });

  /** Opens a socket, listening from before it connects (the server may speak at once), for news about `userId`. */
  function openHearing(token: string, userId: string): Promise<{ socket: ClientSocket; first: Promise<Update> }> {
    const socket: ClientSocket = io(node.url, {
      path: '/socket.io',
      transports: ['websocket'],
      auth: { token },
      reconnection: false,
      forceNew: true,
      autoConnect: false,
    });
    opened.push(socket);
    const first = new Promise<Update>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no presence:updated about ${userId}`)), 5_000);
      socket.on('presence:updated', (update) => {
        if (update.userId !== userId) return;
        clearTimeout(timer);
        resolve(update);
      });
    });
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve({ socket, first }));
      socket.once('connect_error', reject);
      socket.connect();
    });
  }

  const presenceOf = (user: TestUser | null, query: string) => call<PresenceList>(node, 'GET', `/presence?${query}`, user);

  it('lists the asked-for people who share a community with the caller and are not offline; others are left out', async () => {
    const { alice, bob, carol } = await seedWorld(node, { people: { alice: 'member', bob: 'member', carol: 'member' } });
    const outsider = await registerUser(node.url);
    for (const user of [bob, outsider]) opened.push(await connectSocket(node.url, user.accessToken));
    const bobSocket = opened.at(-2)!;
    await emitOk(bobSocket, 'presence:set', { status: 'dnd' });

    const res = await presenceOf(alice, `userIds=${[bob.user.id, carol.user.id, outsider.user.id].join(',')}`);
    expect(res.status).toBe(200);
    // Bob is there (do not disturb); Carol is offline; the connected outsider shares no community with Alice.
    expect(res.body.data).toEqual([{ userId: bob.user.id, status: 'dnd' }]);
  });

  it('refuses malformed lists with invalid_input and strangers with 401', async () => {
    const { alice } = await seedWorld(node, { people: { alice: 'member' } });
    const tooMany = Array.from({ length: 101 }, () => crypto.randomUUID()).join(',');
    for (const query of ['userIds=not-a-uuid', `userIds=${tooMany}`, 'userIds=', '']) {
      const res = await call<ErrorResponse>(node, 'GET', `/presence?${query}`, alice);
      expect(res.status, query.slice(0, 40)).toBe(400);
      expect(res.body.error.code).toBe('invalid_input');
    }
    expect((await presenceOf(null, `userIds=${alice.user.id}`)).status).toBe(401);
  });

  it('a device that connects hears the status its person chose, kept across sign-ins and while another device is on', async () => {
    const { dana } = await seedWorld(node, { people: { dana: 'member' } });
    const first = await openHearing(dana.accessToken, dana.user.id);
    expect(await first.first).toEqual({ userId: dana.user.id, status: 'online' });
    const announced = new Promise<void>((resolve) =>
      first.socket.on('presence:updated', (u) => u.userId === dana.user.id && u.status === 'dnd' && resolve()),
    );
    await emitOk(first.socket, 'presence:set', { status: 'dnd' });
    // The change has been announced: from now on nothing about Dana changes, so nothing more is announced.
    await announced;

    // Another device while the first is connected: no change to announce, yet it is told.
    const second = await openHearing(dana.accessToken, dana.user.id);
    expect(await second.first).toEqual({ userId: dana.user.id, status: 'dnd' });

    // Every device gone, then back: the chosen status is still hers.
    first.socket.close();
    second.socket.close();
    await new Promise((r) => setTimeout(r, 800));
    const again = await openHearing(dana.accessToken, dana.user.id);
    expect(await again.first).toEqual({ userId: dana.user.id, status: 'dnd' });
  });
});
