import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChannelDto, ChannelList } from '../../contracts/communities.ts';
import { addChannelMemberAs, addMemberAs, createChannelAs, createCommunityAs, insertMessage, setReadState } from '../../test/communityFactories.ts';
import { call, ok, registerUser, type TestUser } from '../../test/factories.ts';
import { startNode, statementsDuring, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());

const byName = (channels: ChannelDto[]) => Object.fromEntries(channels.map((c) => [c.name, c]));

describe('creating channels', () => {
  it('creates public and private channels; names are unique per community, case-insensitively', async () => {
    const owner = await registerUser(node.url);
    const community = await createCommunityAs(node.url, owner);
    const other = await createCommunityAs(node.url, owner);

    const created = await call(node, 'POST', `/communities/${community.id}/channels`, owner, { name: ' General ', topic: 'Hello' });
    expect(created.status).toBe(201);
    expect(created.body.channel).toEqual({
      id: expect.any(String),
      communityId: community.id,
      kind: 'channel',
      name: 'general',
      topic: 'Hello',
      visibility: 'public',
      archived: false,
      lastSeq: 0,
      unreadCount: 0,
      mentionCount: 0,
      members: [],
    });
    const clash = await call(node, 'POST', `/communities/${community.id}/channels`, owner, { name: 'GENERAL' });
    expect(clash.status).toBe(409);
    expect(clash.body.error).toEqual({ code: 'conflict', message: 'A channel named #general already exists in this community.' });
    expect((await call(node, 'POST', `/communities/${other.id}/channels`, owner, { name: 'general' })).status).toBe(201);

    const bad = await call(node, 'POST', `/communities/${community.id}/channels`, owner, { name: 'no spaces allowed', visibility: 'hidden' });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.details.fields).sort()).toEqual(['name', 'visibility']);
  });

  it('makes the creator of a private channel its member, so an admin demoted later keeps it', async () => {
    const owner = await registerUser(node.url);
    const admin = await registerUser(node.url);
    const community = await createCommunityAs(node.url, owner);
    await addMemberAs(node.url, community, owner, admin, 'admin');
    const secret = await createChannelAs(node.url, admin, community.id, { visibility: 'private' });
    expect(secret.visibility).toBe('private');

    expect((await call(node, 'PATCH', `/communities/${community.id}/members/${admin.user.id}`, owner, { role: 'member' })).status).toBe(200);
    const list = await call(node, 'GET', `/communities/${community.id}/channels`, admin);
    expect(list.body.data.map((c: ChannelDto) => c.id)).toEqual([secret.id]);
  });

  it('lets one of two concurrent creators of the same name win', async () => {
    const owner = await registerUser(node.url);
    const community = await createCommunityAs(node.url, owner);
    const results = await Promise.all(Array.from({ length: 4 }, () => call(node, 'POST', `/communities/${community.id}/channels`, owner, { name: 'race' })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409, 409]);
  });
});

describe('GET /communities/:id/channels', () => {
  it('lists only the channels the caller may read', async () => {
    const owner = await registerUser(node.url);
    const [admin, member, insider] = await Promise.all([registerUser(node.url), registerUser(node.url), registerUser(node.url)]);
    const community = await createCommunityAs(node.url, owner);
    await addMemberAs(node.url, community, owner, admin, 'admin');
    await addMemberAs(node.url, community, owner, member);
    await addMemberAs(node.url, community, owner, insider);
    await createChannelAs(node.url, owner, community.id, { name: 'lobby' });
    const staff = await createChannelAs(node.url, owner, community.id, { name: 'staff', visibility: 'private' });
    await addChannelMemberAs(node.url, owner, staff.id, insider.user.id);

    const names = async (user: TestUser) => (await call(node, 'GET', `/communities/${community.id}/channels`, user)).body.data.map((c: ChannelDto) => c.name);
    expect(await names(owner)).toEqual(['lobby', 'staff']);
    expect(await names(admin)).toEqual(['lobby', 'staff']);
    expect(await names(insider)).toEqual(['lobby', 'staff']);
    expect(await names(member)).toEqual(['lobby']);
  });

  it('counts unread messages and mentions per channel from the read state, ignoring own and deleted messages', async () => {
    const owner = await registerUser(node.url);
    const reader = await registerUser(node.url);
    const community = await createCommunityAs(node.url, owner);
    await addMemberAs(node.url, community, owner, reader);
    await createChannelAs(node.url, owner, community.id, { name: 'quiet' });
    const busy = await createChannelAs(node.url, owner, community.id, { name: 'busy' });
    const secret = await createChannelAs(node.url, owner, community.id, { name: 'secret', visibility: 'private' });
    await addChannelMemberAs(node.url, owner, secret.id, reader.user.id);

    const me = reader.user.id;
    const them = owner.user.id;
    // busy: seq 1..7. Reader has read up to 2.
    await insertMessage(node, { channelId: busy.id, authorId: them, mentions: [me] }); // 1 (read)
    await insertMessage(node, { channelId: busy.id, authorId: them }); // 2 (read)
    await insertMessage(node, { channelId: busy.id, authorId: them, mentions: [me] }); // 3 unread, mention
    await insertMessage(node, { channelId: busy.id, authorId: me }); // 4 own: not unread
    await insertMessage(node, { channelId: busy.id, authorId: them, deleted: true }); // 5 deleted: not unread
    await insertMessage(node, { channelId: busy.id, authorId: them, mentions: [them] }); // 6 unread, mentions someone else
    await insertMessage(node, { channelId: busy.id, authorId: them, mentions: [me] }); // 7 unread, mention
    await setReadState(node, busy.id, me, 2);
    // secret: never read, 2 messages, one mention.
    await insertMessage(node, { channelId: secret.id, authorId: them });
    await insertMessage(node, { channelId: secret.id, authorId: them, mentions: [me] });

    const forReader = byName((await call(node, 'GET', `/communities/${community.id}/channels`, reader)).body.data);
    expect(forReader.busy).toMatchObject({ lastSeq: 7, unreadCount: 3, mentionCount: 2 });
    expect(forReader.secret).toMatchObject({ lastSeq: 2, unreadCount: 2, mentionCount: 1 });
    expect(forReader.quiet).toMatchObject({ lastSeq: 0, unreadCount: 0, mentionCount: 0 });

    // The author's own view: their messages are never unread; the reader's message is.
    const forOwner = byName((await call(node, 'GET', `/communities/${community.id}/channels`, owner)).body.data);
    expect(forOwner.busy).toMatchObject({ lastSeq: 7, unreadCount: 1, mentionCount: 1 });

    await setReadState(node, busy.id, me, 7);
    const caughtUp = byName((await call(node, 'GET', `/communities/${community.id}/channels`, reader)).body.data);
    expect(caughtUp.busy).toMatchObject({ unreadCount: 0, mentionCount: 0 });
  });

  it('computes the counts of every channel in one SQL statement', async () => {
    const owner = await registerUser(node.url);
    const community = await createCommunityAs(node.url, owner);
    for (let i = 0; i < 6; i++) await createChannelAs(node.url, owner, community.id, { name: `room-${i}` });
    let listed: ChannelDto[] = [];
    const statements = await statementsDuring(node, async () => {
      listed = (await ok(call<ChannelList>(node, 'GET', `/communities/${community.id}/channels`, owner))).data;
    });
    expect(listed).toHaveLength(6);
    // The caller's access to the community, then one statement listing the channels with both counts, whatever their
    // number: nothing is counted channel by channel. (The node's background sweeps share the pool; they touch the
    // classroom tables only.)
    const [access, listing, ...more] = statements.filter((text) => !/"classroom_/.test(text));
    expect(more).toEqual([]);
    expect(access).toMatch(/"community_members"/);
    expect(listing).toMatch(/from "messages"/);
    expect(listing).toMatch(/from "message_mentions"/);
  });

  it('is for members only', async () => {
    const owner = await registerUser(node.url);
    const outsider = await registerUser(node.url);
    const pub = await createCommunityAs(node.url, owner);
    const priv = await createCommunityAs(node.url, owner, { visibility: 'private' });
    expect((await call(node, 'GET', `/communities/${pub.id}/channels`, outsider)).status).toBe(403);
    expect((await call(node, 'GET', `/communities/${priv.id}/channels`, outsider)).status).toBe(404);
  });
});

describe('PATCH /channels/:id', () => {
  it('renames, sets the topic and archives; a taken name is a conflict', async () => {
    const owner = await registerUser(node.url);
    const community = await createCommunityAs(node.url, owner);
    const channel = await createChannelAs(node.url, owner, community.id, { name: 'old-name' });
    await createChannelAs(node.url, owner, community.id, { name: 'taken' });

    const renamed = await call(node, 'PATCH', `/channels/${channel.id}`, owner, { name: 'New-Name', topic: 'Fresh' });
    expect(renamed.status).toBe(200);
    expect(renamed.body.channel).toMatchObject({ id: channel.id, name: 'new-name', topic: 'Fresh', archived: false });
    const archived = await call(node, 'PATCH', `/channels/${channel.id}`, owner, { archived: true });
    expect(archived.body.channel).toMatchObject({ name: 'new-name', archived: true });
    expect((await call(node, 'PATCH', `/channels/${channel.id}`, owner, { archived: false })).body.channel.archived).toBe(false);
    const clash = await call(node, 'PATCH', `/channels/${channel.id}`, owner, { name: 'TAKEN' });
    expect(clash.status).toBe(409);
    expect(clash.body.error.message).toMatch(/#taken already exists/);
    expect((await call(node, 'PATCH', `/channels/${channel.id}`, owner, { colour: 'red' })).status).toBe(400);
    expect((await call(node, 'PATCH', `/channels/${crypto.randomUUID()}`, owner, { topic: 'x' })).status).toBe(404);
  });
});

describe('private channel membership', () => {
  it('adds community members only, to private channels only, and removes them again', async () => {
    const owner = await registerUser(node.url);
    const [member, outsider] = await Promise.all([registerUser(node.url), registerUser(node.url)]);
    const community = await createCommunityAs(node.url, owner);
    await addMemberAs(node.url, community, owner, member);
    const secret = await createChannelAs(node.url, owner, community.id, { visibility: 'private' });
    const open = await createChannelAs(node.url, owner, community.id);
    const visible = async () => (await call(node, 'GET', `/communities/${community.id}/channels`, member)).body.data.map((c: ChannelDto) => c.id);

    expect((await call(node, 'POST', `/channels/${secret.id}/members`, owner, { userId: outsider.user.id })).status).toBe(404);
    expect((await call(node, 'POST', `/channels/${open.id}/members`, owner, { userId: member.user.id })).status).toBe(400);
    expect((await call(node, 'POST', `/channels/${secret.id}/members`, owner, { userId: member.user.id })).status).toBe(204);
    expect((await call(node, 'POST', `/channels/${secret.id}/members`, owner, { userId: member.user.id })).status).toBe(204);
    expect(await visible()).toContain(secret.id);

    expect((await call(node, 'DELETE', `/channels/${secret.id}/members/${member.user.id}`, owner)).status).toBe(204);
    expect(await visible()).not.toContain(secret.id);
    expect((await call(node, 'DELETE', `/channels/${secret.id}/members/${member.user.id}`, owner)).status).toBe(404);
  });

  it('lets a member leave a private channel themselves', async () => {
    const owner = await registerUser(node.url);
    const member = await registerUser(node.url);
    const community = await createCommunityAs(node.url, owner);
    await addMemberAs(node.url, community, owner, member);
    const secret = await createChannelAs(node.url, owner, community.id, { visibility: 'private' });
    await addChannelMemberAs(node.url, owner, secret.id, member.user.id);
    expect((await call(node, 'DELETE', `/channels/${secret.id}/members/${member.user.id}`, member)).status).toBe(204);
    // Now the channel does not exist for them.
    expect((await call(node, 'DELETE', `/channels/${secret.id}/members/${member.user.id}`, member)).status).toBe(404);
  });

  it('drops private channel memberships when someone leaves the community, so rejoining does not restore them', async () => {
    const owner = await registerUser(node.url);
    const member = await registerUser(node.url);
    const community = await createCommunityAs(node.url, owner);
    await addMemberAs(node.url, community, owner, member);
    const secret = await createChannelAs(node.url, owner, community.id, { visibility: 'private' });
    await addChannelMemberAs(node.url, owner, secret.id, member.user.id);
    expect((await call(node, 'POST', `/communities/${community.id}/leave`, member)).status).toBe(204);
    await addMemberAs(node.url, community, owner, member);
    const ids = (await call(node, 'GET', `/communities/${community.id}/channels`, member)).body.data.map((c: ChannelDto) => c.id);
    expect(ids).not.toContain(secret.id);
  });
});
