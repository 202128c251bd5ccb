import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ModerationSettingsInput } from '../contracts/moderation.ts';
import { manualClock } from '../domain/shared/time.ts';
import { seedWorld } from '../test/communities.ts';
import { call, connectSocket, emitAck, emitOk, ok, type ClientSocket, type TestUser } from '../test/factories.ts';
import { dbOf, startCluster, type RunningNode } from '../test/nodes.ts';

/*
 * The community's rules in chat, enforced by whichever node a message arrives on: timeouts, slow mode, the word
 * filter and the new-member link limit. Settings change on node A; the refusals come from node B.
 */
describe.skipIf(!inject('redisUrl'))('moderation rules in chat across two nodes (needs Redis)', () => {
  const clock = manualClock();
  let nodes: [RunningNode, RunningNode];
  let close: () => Promise<void>;
  const sockets: ClientSocket[] = [];
  const open = async (node: RunningNode, user: TestUser) => {
    const socket = await connectSocket(node.url, user.accessToken);
    sockets.push(socket);
    return socket;
  };
  const q = () => dbOf(nodes[0]);

  beforeAll(async () => {
    const cluster = await startCluster(2, { clock, env: { RATE_LIMIT_MESSAGES_PER_10S: '1000', RATE_LIMIT_EVENTS_PER_10S: '10000' } });
    nodes = cluster.nodes as [RunningNode, RunningNode];
    close = cluster.close;
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await close?.();
  });

  /** An admin, a moderator and three members in one community with two channels. */
  async function world() {
    const w = await seedWorld(nodes[0], {
      people: { admin: 'admin', moderator: 'moderator', member: 'member', other: 'member', third: 'member' },
      channels: [{ name: 'general' }, { name: 'random' }],
    });
    return { ...w, general: w.channels.general, random: w.channels.random };
  }

  async function configure(communityId: string, admin: TestUser, settings: ModerationSettingsInput) {
    await ok(call(nodes[0], 'PATCH', `/communities/${communityId}/moderation/settings`, admin, settings));
  }

  let sent = 0;
  const send = (socket: ClientSocket, channelId: string, body: string) =>
    emitAck(socket, 'message:send', { channelId, clientId: `mod-test-${++sent}-${Date.now()}`, body });

  it('a timed-out member cannot send, react or edit on the other node until the timeout ends', async () => {
    const w = await world();
    const onB = await open(nodes[1], w.member);
    const before = await emitOk(onB, 'message:send', { channelId: w.general, clientId: `before-${w.member.user.id}`, body: 'said before' });
    const until = new Date(clock.now().getTime() + 10 * 60_000);
    await q()
      .insertInto('community_timeouts')
      .values({ community_id: w.communityId, user_id: w.member.user.id, until, reason: 'cool down', created_by_id: w.moderator.user.id })
      .execute();

    const refusedSend = await send(onB, w.general, 'let me talk');
    expect(refusedSend).toMatchObject({ ok: false, error: { code: 'forbidden', retryAfter: 600 } });
    const refusedReaction = await emitAck(onB, 'reaction:toggle', { messageId: before.id, emoji: '👍' });
    expect(refusedReaction).toMatchObject({ ok: false, error: { code: 'forbidden', retryAfter: 600 } });
    const refusedEdit = await emitAck(onB, 'message:edit', { messageId: before.id, body: 'said before, edited' });
    expect(refusedEdit).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // Another community's rules are its own, and other members of this one are unaffected.
    expect((await send(await open(nodes[1], w.other), w.general, 'still talking')).ok).toBe(true);
    const mine = await q().selectFrom('messages').select('id').where('author_id', '=', w.member.user.id).execute();
    expect(mine).toHaveLength(1);

    clock.advance(10 * 60_000 + 1000);
    expect((await send(onB, w.general, 'back again')).ok).toBe(true);
    expect((await emitAck(onB, 'reaction:toggle', { messageId: before.id, emoji: '👍' })).ok).toBe(true);
    expect((await emitAck(onB, 'message:edit', { messageId: before.id, body: 'said before, edited' })).ok).toBe(true);
  });

  it('slow mode refuses the second message within the interval on the other node; moderators are exempt', async () => {
    const w = await world();
    await configure(w.communityId, w.admin, { slowMode: { [w.general]: 60 } });
    const onA = await open(nodes[0], w.member);
    const onB = await open(nodes[1], w.member);
    expect((await send(onA, w.general, 'first')).ok).toBe(true);
    const second = await send(onB, w.general, 'second');
    expect(second).toMatchObject({ ok: false, error: { code: 'rate_limited' } });
    const retryAfter = !second.ok ? second.error.retryAfter! : 0;
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    // Per channel: the other channel has no slow mode.
    expect((await send(onB, w.random, 'elsewhere')).ok).toBe(true);
    // Two at once from someone else: one goes through, the other waits its turn.
    const otherOnB = await open(nodes[1], w.other);
    const pair = await Promise.all([send(otherOnB, w.general, 'one'), send(otherOnB, w.general, 'two')]);
    expect(pair.map((r) => (r.ok ? 'ok' : r.error.code)).sort()).toEqual(['ok', 'rate_limited']);

    const mod = await open(nodes[1], w.moderator);
    for (const body of ['mod one', 'mod two', 'mod three']) expect((await send(mod, w.general, body)).ok).toBe(true);
  });

  it('the word filter refuses in block mode and, in flag mode, stores the message and opens a case', async () => {
    const w = await world();
    await configure(w.communityId, w.admin, { wordFilter: { words: ['Crème brûlée', 'spam'], mode: 'block' } });
    const onB = await open(nodes[1], w.member);
    const blocked = await send(onB, w.general, 'I love CREME   brulee');
    expect(blocked).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // Whole words only: "spam!" is the word, "spammers" is not.
    expect((await send(onB, w.general, 'this is spam!')).ok).toBe(false);
    expect((await send(onB, w.general, 'spammers and spamming are fine')).ok).toBe(true);
    expect((await send(await open(nodes[1], w.moderator), w.general, 'no spam please')).ok).toBe(true);
    // Editing a message into a blocked word is refused too.
    const clean = await emitOk(onB, 'message:send', { channelId: w.general, clientId: `clean-${w.member.user.id}`, body: 'clean' });
    expect(await emitAck(onB, 'message:edit', { messageId: clean.id, body: 'now with spam' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    await configure(w.communityId, w.admin, { wordFilter: { words: ['Crème brûlée', 'spam'], mode: 'flag' } });
    const flagged = await send(onB, w.general, 'Crème brûlée for everyone');
    expect(flagged.ok).toBe(true);
    const message = flagged.ok ? flagged.data : undefined;
    const cases = await q()
      .selectFrom('moderation_cases')
      .select(['target_user_id', 'automod', 'automod_words', 'status'])
      .where('community_id', '=', w.communityId)
      .where('target_type', '=', 'message')
      .where('target_id', '=', message!.id)
      .execute();
    expect(cases).toEqual([{ target_user_id: w.member.user.id, automod: true, automod_words: ['crème brûlée'], status: 'open' }]);
    const stored = await q().selectFrom('messages').select('body').where('id', '=', message!.id).executeTakeFirstOrThrow();
    expect(stored.body).toBe('Crème brûlée for everyone');
  });

  it('holds new members to the link limit, and only them', async () => {
    const w = await world();
    await configure(w.communityId, w.admin, { newMemberLinkLimit: 1 });
    await q()
      .updateTable('community_members')
      .set({ joined_at: sql<Date>`now() - interval '4 days'` })
      .where('community_id', '=', w.communityId)
      .where('user_id', '=', w.other.user.id)
      .execute();
    const newcomer = await open(nodes[1], w.member);
    const veteran = await open(nodes[1], w.other);
    const twoLinks = 'see https://example.com and www.example.org';
    expect(await send(newcomer, w.general, twoLinks)).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    expect((await send(newcomer, w.general, 'just https://example.com')).ok).toBe(true);
    expect((await send(veteran, w.general, twoLinks)).ok).toBe(true);
  });

  it('one refused message in a batch does not fail the others, and every acked message is stored', async () => {
    const w = await world();
    await configure(w.communityId, w.admin, { wordFilter: { words: ['forbidden'], mode: 'block' } });
    await q()
      .insertInto('community_timeouts')
      .values({ community_id: w.communityId, user_id: w.third.user.id, until: new Date(clock.now().getTime() + 60_000), reason: 'cool down' })
      .execute();
    const member = await open(nodes[1], w.member);
    const other = await open(nodes[1], w.other);
    const third = await open(nodes[1], w.third);
    const results = await Promise.all([
      send(member, w.general, 'hello one'),
      send(other, w.general, 'a forbidden word'),
      send(third, w.general, 'timed out'),
      send(member, w.general, 'hello two'),
      send(other, w.random, 'hello three'),
      send(member, w.random, 'forbidden again'),
    ]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['ok', 'forbidden', 'forbidden', 'ok', 'ok', 'forbidden']);
    const acked = results.flatMap((r) => (r.ok ? [r.data] : []));
    const stored = await q()
      .selectFrom('messages')
      .select('body')
      .where('id', 'in', acked.map((m) => m.id))
      .execute();
    expect(stored.map((m) => m.body).sort()).toEqual(['hello one', 'hello three', 'hello two']);
    const refused = await q()
      .selectFrom('messages')
      .select('id')
      .where('channel_id', 'in', [w.general, w.random])
      .where('body', 'in', ['a forbidden word', 'timed out', 'forbidden again'])
      .execute();
    expect(refused).toEqual([]);
  });
});
