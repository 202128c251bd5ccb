import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PushSubscriptionDto, VapidKeyDto } from '../../contracts/notifications.ts';
import { call, connectSocket, emitOk, ok, registerUser, type ClientSocket, type TestUser } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import { startFakePushService, type FakePushDevice, type FakePushService } from '../../test/pushEndpoint.ts';
import { notify } from './notify.ts';
import { pushNotification } from './push.ts';
import { loadOrCreateDevVapidKeys } from './vapid.ts';

/*
 * Web push against a loopback push service: each new notification reaches every subscribed device once, encrypted
 * (aes128gcm) and signed with this node's VAPID key; a gone endpoint (410) loses its subscription; do-not-disturb and
 * push switched off for the kind send nothing.
 */
describe('web push', () => {
  let node: RunningNode;
  let service: FakePushService;
  const sockets: ClientSocket[] = [];

  beforeAll(async () => {
    [node, service] = await Promise.all([startNode(), startFakePushService()]);
    // The node trusts the loopback service's certificate the way it would a private CA's.
    node.node.deps.push!.agent = service.agent;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await node?.close();
    await service?.close();
  });

  async function subscribedUser(devices = 2): Promise<{ user: TestUser; devices: FakePushDevice[] }> {
    const user = await registerUser(node.url);
    const made = Array.from({ length: devices }, () => service.device());
    for (const device of made) {
      const dto = await ok(call<PushSubscriptionDto>(node, 'POST', '/me/push-subscriptions', user, device.subscription), 201);
      expect(dto.endpoint).toBe(device.subscription.endpoint);
    }
    return { user, devices: made };
  }
  const mention = (user: TestUser, title = 'Ada mentioned you in #general') =>
    notify(node.node.deps, [
      { userId: user.user.id, kind: 'mention', sourceKey: randomUUID(), subjectType: 'user', title, body: 'ready?', url: '/app/somewhere' },
    ]);
  const pushesTo = (devices: FakePushDevice[]) => service.received.filter((r) => devices.some((d) => d.id === r.deviceId));
  const subscriptionsOf = (user: TestUser) =>
    dbOf(node).selectFrom('push_subscriptions').select('endpoint').where('user_id', '=', user.user.id).execute();

  it('pushes a new notification to both devices once, encrypted and signed with the VAPID key', async () => {
    const { publicKey } = await ok(call<VapidKeyDto>(node, 'GET', '/push/vapid-public-key', (await subscribedUser(0)).user));
    expect(Buffer.from(publicKey, 'base64url')).toHaveLength(65);
    const { user, devices } = await subscribedUser(2);

    expect(await mention(user)).toBe(1);
    const pushes = pushesTo(devices);
    expect(pushes.map((p) => p.deviceId).sort()).toEqual(devices.map((d) => d.id).sort());
    const [stored] = await dbOf(node).selectFrom('notifications').select(['id', 'pushed_at']).where('user_id', '=', user.user.id).execute();
    for (const push of pushes) {
      expect(push.headers['content-encoding']).toBe('aes128gcm');
      expect(Number(push.headers.ttl)).toBeGreaterThan(0);
      const authorization = String(push.headers.authorization);
      expect(authorization).toMatch(/^vapid t=[\w-]+\.[\w-]+\.[\w-]+, k=[\w-]+$/);
      expect(authorization.split('k=')[1]).toBe(publicKey);
      const device = devices.find((d) => d.id === push.deviceId)!;
      expect(push.body.includes(Buffer.from('mentioned'))).toBe(false);
      expect(JSON.parse(device.decrypt(push.body))).toEqual({ id: stored!.id, title: 'Ada mentioned you in #general', body: 'ready?', url: '/app/somewhere' });
    }
    expect(stored!.pushed_at).toBeInstanceOf(Date);

    // The same notification.created again (a repeated event, another node): nothing more is sent.
    const [dto] = (await ok(call(node, 'GET', '/notifications', user))).data;
    await node.node.deps.events.emit('notification.created', { userId: user.user.id, notification: dto, unreadCount: 1, pushDevices: true });
    expect(await Promise.all([pushNotification(node.node.deps, user.user.id, dto), pushNotification(node.node.deps, user.user.id, dto)])).toEqual([0, 0]);
    expect(pushesTo(devices)).toHaveLength(2);
  });

  it('drops a subscription whose push service answers 410 Gone (or 404), and keeps the others', async () => {
    const { user, devices } = await subscribedUser(2);
    const [gone, kept] = devices as [FakePushDevice, FakePushDevice];
    gone.answer(410);
    await mention(user);
    expect(pushesTo(devices)).toHaveLength(2);
    expect((await subscriptionsOf(user)).map((s) => s.endpoint)).toEqual([kept.subscription.endpoint]);

    kept.answer(404);
    await mention(user, 'again');
    expect(await subscriptionsOf(user)).toEqual([]);
  });

  it('sends nothing while the user is on do-not-disturb', async () => {
    const { user, devices } = await subscribedUser(2);
    const socket = await connectSocket(node.url, user.accessToken);
    sockets.push(socket);
    await emitOk(socket, 'presence:set', { status: 'dnd' });
    expect(await mention(user)).toBe(1);
    expect(pushesTo(devices)).toEqual([]);

    await emitOk(socket, 'presence:set', { status: 'online' });
    await mention(user, 'back');
    expect(pushesTo(devices)).toHaveLength(2);
  });

  it('sends nothing for a kind switched off for push (the in-app notification remains)', async () => {
    const { user, devices } = await subscribedUser(1);
    await dbOf(node)
      .insertInto('notification_preferences')
      .values({ user_id: user.user.id, kinds: { mention: { push: false } }, updated_at: new Date() })
      .execute();
    expect(await mention(user)).toBe(1);
    expect(pushesTo(devices)).toEqual([]);
    expect((await ok(call(node, 'GET', '/notifications', user))).data).toHaveLength(1);
  });

  it('subscriptions belong to their caller: re-subscribing moves an endpoint, and only its owner removes it', async () => {
    const { user: first, devices } = await subscribedUser(1);
    const device = devices[0]!;
    const second = await registerUser(node.url);
    await ok(call(node, 'POST', '/me/push-subscriptions', second, device.subscription), 201);
    expect(await subscriptionsOf(first)).toEqual([]);
    await ok(call(node, 'DELETE', '/me/push-subscriptions', first, { endpoint: device.subscription.endpoint }), 204);
    expect(await subscriptionsOf(second)).toHaveLength(1);
    await ok(call(node, 'DELETE', '/me/push-subscriptions', second, { endpoint: device.subscription.endpoint }), 204);
    expect(await subscriptionsOf(second)).toEqual([]);

    const insecure = { ...device.subscription, endpoint: device.subscription.endpoint.replace('https:', 'http:') };
    expect((await call(node, 'POST', '/me/push-subscriptions', second, insecure)).status).toBe(400);
  });

  it('in production a push endpoint on a private or loopback host is refused, and nothing is sent to one stored earlier', async () => {
    const { user, devices } = await subscribedUser(1);
    const settings = node.node.deps.push!;
    settings.allowPrivateEndpoints = false;
    try {
      const another = service.device();
      expect(await call(node, 'POST', '/me/push-subscriptions', user, another.subscription)).toMatchObject({
        status: 400,
        body: { error: { code: 'invalid_input', message: "The push endpoint must be a push service's public address." } },
      });
      expect(await mention(user)).toBe(1);
      expect(pushesTo([...devices, another])).toEqual([]);
    } finally {
      settings.allowPrivateEndpoints = true;
    }
  });

  it('without VAPID keys (production) push is off: the key and subscribing answer unavailable', async () => {
    const { user, devices } = await subscribedUser(0).then(async (s) => ({ ...s, devices: [service.device()] }));
    const settings = node.node.deps.push;
    node.node.deps.push = null;
    try {
      expect((await call(node, 'GET', '/push/vapid-public-key', user))).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
      expect((await call(node, 'POST', '/me/push-subscriptions', user, devices[0]!.subscription))).toMatchObject({ status: 503, body: { error: { code: 'unavailable' } } });
    } finally {
      node.node.deps.push = settings;
    }
  });
});

describe('development VAPID keys in DATA_DIR', () => {
  it('are generated once: nodes starting together on one DATA_DIR share the pair, and a restart keeps it', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'edulure-vapid-'));
    try {
      const pairs = await Promise.all(Array.from({ length: 10 }, () => loadOrCreateDevVapidKeys(dataDir)));
      expect(pairs.filter((p) => p.created)).toHaveLength(1);
      expect(new Set(pairs.map((p) => p.keys.publicKey)).size).toBe(1);
      expect((await loadOrCreateDevVapidKeys(dataDir)).keys).toEqual(pairs[0]!.keys);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
