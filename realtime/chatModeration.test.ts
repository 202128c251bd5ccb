import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { MessageDto } from '../contracts/chat.ts';
import type { ModerationSettingsInput } from '../contracts/moderation.ts';
import { sqlOf } from '../domain/shared/sql.ts';
import { manualClock } from '../domain/shared/time.ts';
import { seedCommunity } from '../test/communities.ts';
import { registerUsers, type TestUser } from '../test/communityFactories.ts';
import { api, connectSocket, emitAck, emitOk, type ClientSocket } from '../test/factories.ts';
import { startCluster, type RunningNode } from '../test/nodes.ts';

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
  const sql = () => sqlOf(nodes[0].node.orm.em.fork());

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
    const [admin, moderator, member, other, third] = await registerUsers(nodes[0].url, 5);
    const { communityId, channels } = await seedCommunity(nodes[0], {
      members: [
        { userId: admin.user.id, role: 'admin' },
        { userId: moderator.user.id, role: 'moderator' },
        { userId: member.user.id },
        { userId: other.user.id },
        { userId: third.user.id },
      ],
      channels: [{ name: 'general' }, { name: 'random' }],
    });
    return { communityId, general: channels.general!, random: channels.random!, admin, moderator, member, other, third };
  }

  async function configure(communityId: string, admin: TestUser, settings: ModerationSettingsInput) {
    const res = await api(nodes[0].url, 'PATCH', `/api/v1/communities/${communityId}/moderation/settings`, { token: admin.accessToken, body: settings });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
  }

  let sent = 0;
  const send = (socket: ClientSocket, channelId: string, body: string) =>
    emitAck<MessageDto>(socket, 'message:send', { channelId, clientId: `mod-test-${++sent}-${Date.now()}`, body });

  it('a timed-out member cannot send, react or edit on the other node until the timeout ends', async () => {
    const w = await world();
    const onB = await open(nodes[1], w.member);
    const before = await emitOk<MessageDto>(onB, 'message:send', { channelId: w.general, clientId: `before-${w.member.user.id}`, body: 'said before' });
    const until = new Date(clock.now().getTime() + 10 * 60_000);
    await sql()('insert into community_timeouts (community_id, user_id, until, reason, created_by_id) values (?, ?, ?, ?, ?)', [
      w.communityId,
      w.member.user.id,
      until,
      'cool down',
      w.moderator.user.id,
    ]);

    const refusedSend = await send(onB, w.general, 'let me talk');
    expect(refusedSend).toMatchObject({ ok: false, error: { code: 'forbidden', retryAfter: 600 } });
    const refusedReaction = await emitAck(onB, 'reaction:toggle', { messageId: before.id, emoji: '👍' });
    expect(refusedReaction).toMatchObject({ ok: false, error: { code: 'forbidden', retryAfter: 600 } });
    const refusedEdit = await emitAck(onB, 'message:edit', { messageId: before.id, body: 'said before, edited' });
    expect(refusedEdit).toMatchObject({ ok: false, error: { code: 'forbidden' } });
    // Another community's rules are its own, and other members of this one are unaffected.
    expect((await send(await open(nodes[1], w.other), w.general, 'still talking')).ok).toBe(true);
    const [mine] = await sql()<{ n: number }>('select count(*)::int as n from messages where author_id = ?', [w.member.user.id]);
    expect(mine!.n).toBe(1);

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
    const clean = await emitOk<MessageDto>(onB, 'message:send', { channelId: w.general, clientId: `clean-${w.member.user.id}`, body: 'clean' });
    expect(await emitAck(onB, 'message:edit', { messageId: clean.id, body: 'now with spam' })).toMatchObject({ ok: false, error: { code: 'forbidden' } });

    await configure(w.communityId, w.admin, { wordFilter: { words: ['Crème brûlée', 'spam'], mode: 'flag' } });
    const flagged = await send(onB, w.general, 'Crème brûlée for everyone');
    expect(flagged.ok).toBe(true);
    const message = flagged.ok ? flagged.data : undefined;
    const cases = await sql()<{ target_user_id: string; automod: boolean; automod_words: string[]; status: string }>(
      `select target_user_id, automod, automod_words, status from moderation_cases where community_id = ? and target_type = 'message' and target_id = ?`,
      [w.communityId, message!.id],
    );
    expect(cases).toEqual([{ target_user_id: w.member.user.id, automod: true, automod_words: ['crème brûlée'], status: 'open' }]);
    const [stored] = await sql()<{ body: string }>('select body from messages where id = ?', [message!.id]);
    expect(stored!.body).toBe('Crème brûlée for everyone');
  });

  it('holds new members to the link limit, and only them', async () => {
    const w = await world();
    await configure(w.communityId, w.admin, { newMemberLinkLimit: 1 });
    await sql()(`update community_members set joined_at = now() - interval '4 days' where community_id = ? and user_id = ?`, [
      w.communityId,
      w.other.user.id,
    ]);
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
    await sql()('insert into community_timeouts (community_id, user_id, until, reason) values (?, ?, ?, ?)', [
      w.communityId,
      w.third.user.id,
      new Date(clock.now().getTime() + 60_000),
      'cool down',
    ]);
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
    const stored = await sql()<{ id: string; body: string }>('select id, body from messages where id = any(?::uuid[])', [acked.map((m) => m.id)]);
    expect(stored.map((m) => m.body).sort()).toEqual(['hello one', 'hello three', 'hello two']);
    const [refused] = await sql()<{ n: number }>(
      `select count(*)::int as n from messages where channel_id = any(?::uuid[]) and body in ('a forbidden word', 'timed out', 'forbidden again')`,
      [[w.general, w.random]],
    );
    expect(refused!.n).toBe(0);
  });
});
