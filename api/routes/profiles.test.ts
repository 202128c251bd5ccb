import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MyProfileEnvelope, PublicProfileEnvelope } from '../../contracts/profiles.ts';
import { samplePdf, samplePng, uploadAsset } from '../../test/assetFactories.ts';
import { seedCommunity } from '../../test/communities.ts';
import { call, ok, registerUsers } from '../../test/factories.ts';
import { startNode, type RunningNode } from '../../test/nodes.ts';
import { createSendBatcher } from '../../domain/chat/sendBatcher.ts';
import type { MessageDto } from '../../contracts/chat.ts';

let node: RunningNode;

beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => {
  await node?.close();
});

const profile = { displayName: 'Ada Lovelace', headline: 'Mathematician', bio: 'Writes notes on the Analytical Engine.' };

describe('my profile', () => {
  it('is saved whole and read back; the display name follows everywhere /me is read', async () => {
    const [ada] = await registerUsers(node.url, 1);
    const before = await ok(call<MyProfileEnvelope>(node, 'GET', '/me/profile', ada));
    expect(before.profile).toEqual({ id: ada.user.id, displayName: ada.user.displayName, headline: '', bio: '', avatarUrl: null });
    const saved = await ok(call<MyProfileEnvelope>(node, 'PUT', '/me/profile', ada, { ...profile, headline: '  Mathematician  ' }));
    expect(saved.profile).toEqual({ id: ada.user.id, ...profile, avatarUrl: null });
    expect((await ok(call(node, 'GET', '/me', ada))).user.displayName).toBe('Ada Lovelace');
  });

  it('refuses bad input field by field, with messages a form can show', async () => {
    const [ada] = await registerUsers(node.url, 1);
    const res = await call(node, 'PUT', '/me/profile', ada, { displayName: 'A', headline: 'x'.repeat(121), bio: 'y'.repeat(2001) });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({
      code: 'invalid_input',
      details: {
        fields: {
          displayName: 'Display name needs at least 2 characters.',
          headline: 'Headline can be at most 120 characters.',
          bio: 'Bio can be at most 2,000 characters.',
        },
      },
    });
    const twoLines = await call(node, 'PUT', '/me/profile', ada, { ...profile, headline: 'one\ntwo' });
    expect(twoLines.body.error.details.fields.headline).toMatch(/one line/);
    const extra = await call(node, 'PUT', '/me/profile', ada, { ...profile, role: 'admin' });
    expect(extra.status).toBe(400);
    expect((await ok(call<MyProfileEnvelope>(node, 'GET', '/me/profile', ada))).profile.headline).toBe('');
    expect((await call(node, 'PUT', '/me/profile', null, profile)).status).toBe(401);
  });
});

describe('avatar', () => {
  it('an uploaded image becomes the avatar, served at a stable URL; replacing or removing it stops the old one', async () => {
    const [ada, bob] = await registerUsers(node.url, 2);
    const image = await uploadAsset(node, ada, { name: 'me.png', bytes: await samplePng(640, 480) });
    const set = await ok(call<MyProfileEnvelope>(node, 'PUT', '/me/profile/avatar', ada, { assetId: image.id }));
    const url = set.profile.avatarUrl!;
    expect(url).toBe(`/api/v1/users/${ada.user.id}/avatar?v=${image.id}`);
    const served = await fetch(node.url + url);
    expect(served.status).toBe(200);
    expect(served.headers.get('content-type')).toBe('image/webp');
    expect(served.headers.get('x-content-type-options')).toBe('nosniff');
    expect(Buffer.from(await served.arrayBuffer()).subarray(8, 12).toString()).toBe('WEBP');
    // Others see the same URL on the card.
    expect((await ok(call<PublicProfileEnvelope>(node, 'GET', `/users/${ada.user.id}/profile`, bob))).profile.avatarUrl).toBe(url);

    const next = await uploadAsset(node, ada, { name: 'me2.png', bytes: await samplePng(100, 100) });
    const replaced = await ok(call<MyProfileEnvelope>(node, 'PUT', '/me/profile/avatar', ada, { assetId: next.id }));
    expect(replaced.profile.avatarUrl).not.toBe(url);
    expect((await fetch(node.url + url)).status).toBe(404);
    expect((await fetch(node.url + replaced.profile.avatarUrl!)).status).toBe(200);

    const removed = await ok(call<MyProfileEnvelope>(node, 'DELETE', '/me/profile/avatar', ada));
    expect(removed.profile.avatarUrl).toBeNull();
    expect((await fetch(node.url + replaced.profile.avatarUrl!)).status).toBe(404);
  });

  it('chat shows the avatar beside the author: in the send answer and in history, and not once it is removed', async () => {
    const [ada, bob] = await registerUsers(node.url, 2);
    const { channels } = await seedCommunity(node, { members: [{ userId: ada.user.id }, { userId: bob.user.id }], channels: [{ name: 'general' }] });
    const image = await uploadAsset(node, ada, { name: 'me.png', bytes: await samplePng(200, 200) });
    const url = (await ok(call<MyProfileEnvelope>(node, 'PUT', '/me/profile/avatar', ada, { assetId: image.id }))).profile.avatarUrl!;
    const batcher = createSendBatcher(node.node.deps, { maxDelayMs: 5 });
    try {
      const actor = (u: typeof ada) => ({ userId: u.user.id, sessionId: u.sessionId, role: 'user' as const });
      const sent = await batcher.send(actor(ada), { channelId: channels.general!, clientId: `a-${ada.user.id}`, body: 'hello' });
      expect(sent.author).toEqual({ id: ada.user.id, displayName: ada.user.displayName, avatarUrl: url });
      const fromBob = await batcher.send(actor(bob), { channelId: channels.general!, clientId: `b-${bob.user.id}`, body: 'hi' });
      expect(fromBob.author).toEqual({ id: bob.user.id, displayName: bob.user.displayName });
      const history = async () => (await ok(call<{ data: MessageDto[] }>(node, 'GET', `/channels/${channels.general}/messages`, bob))).data;
      expect((await history()).find((m) => m.id === sent.id)!.author.avatarUrl).toBe(url);
      await ok(call(node, 'DELETE', '/me/profile/avatar', ada));
      expect((await history()).find((m) => m.id === sent.id)!.author.avatarUrl).toBeUndefined();
    } finally {
      await batcher.close();
    }
  });

  it('refuses what is not an image, someone else’s upload, and a made-up id', async () => {
    const [ada, bob] = await registerUsers(node.url, 2);
    const pdf = await uploadAsset(node, ada, { name: 'me.png', bytes: samplePdf(), type: 'image/png' });
    const notImage = await call(node, 'PUT', '/me/profile/avatar', ada, { assetId: pdf.id });
    expect(notImage.status).toBe(400);
    expect(notImage.body.error).toMatchObject({ code: 'invalid_input', message: expect.stringContaining('an image is needed') });
    const bobsImage = await uploadAsset(node, bob, { name: 'bob.png', bytes: await samplePng() });
    expect((await call(node, 'PUT', '/me/profile/avatar', ada, { assetId: bobsImage.id })).body.error.code).toBe('invalid_input');
    expect((await call(node, 'PUT', '/me/profile/avatar', ada, { assetId: 'nope' })).body.error).toMatchObject({
      code: 'invalid_input',
      details: { fields: { assetId: expect.any(String) } },
    });
    expect((await ok(call<MyProfileEnvelope>(node, 'GET', '/me/profile', ada))).profile.avatarUrl).toBeNull();
    // Not someone's avatar: nothing is served for it.
    expect((await fetch(`${node.url}/api/v1/users/${bob.user.id}/avatar?v=${bobsImage.id}`)).status).toBe(404);
  });
});

describe('public profile', () => {
  it('shows the card with the communities we share, and nothing across a block (either way)', async () => {
    const [ada, bob, carol] = await registerUsers(node.url, 3);
    await ok(call(node, 'PUT', '/me/profile', ada, profile));
    const shared = await seedCommunity(node, { members: [{ userId: ada.user.id }, { userId: bob.user.id }], channels: [] });
    await seedCommunity(node, { members: [{ userId: ada.user.id }, { userId: carol.user.id }], channels: [] });
    const card = await ok(call<PublicProfileEnvelope>(node, 'GET', `/users/${ada.user.id}/profile`, bob));
    expect(card.profile).toMatchObject({ id: ada.user.id, ...profile, avatarUrl: null, communitiesInCommon: [{ id: shared.communityId }] });
    expect(card.profile).not.toHaveProperty('email');

    expect((await call(node, 'POST', `/users/${bob.user.id}/block`, ada)).status).toBe(204);
    const blocked = await call(node, 'GET', `/users/${ada.user.id}/profile`, bob);
    expect(blocked.status).toBe(404);
    expect(blocked.body.error.code).toBe('not_found');
    expect((await call(node, 'GET', `/users/${bob.user.id}/profile`, ada)).status).toBe(404);
    expect((await call(node, 'GET', `/users/${ada.user.id}/profile`, carol)).status).toBe(200);
    expect((await call(node, 'GET', `/users/${crypto.randomUUID()}/profile`, carol)).status).toBe(404);
    expect((await call(node, 'GET', '/users/not-a-uuid/profile', carol)).status).toBe(400);
  });
});
