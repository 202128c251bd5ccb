import { randomBytes } from 'node:crypto';
import type { ChannelEvent, MessageDto } from '../contracts/chat.ts';
import type { CommunityRole } from '../contracts/communities.ts';
import { registerUser, type ClientSocket, type TestUser } from './factories.ts';
import { dbOf, type RunningNode } from './nodes.ts';

export interface SeededCommunity<C extends string = string> {
  communityId: string;
  /** Channel ids by name. */
  channels: Record<C, string>;
}

export interface ChannelSpec<C extends string = string> {
  name: C;
  visibility?: 'public' | 'private';
  /** Members of a private channel, by user id. */
  members?: string[];
  archived?: boolean;
}

/**
 * Creates a community with members and channels straight in the database, for tests of features that only need
 * them to exist (the communities API has its own tests).
 */
export async function seedCommunity<const C extends string = never>(
  node: RunningNode,
  spec: {
    members: { userId: string; role?: CommunityRole }[];
    channels: ChannelSpec<C>[];
    visibility?: 'public' | 'private';
  },
): Promise<SeededCommunity<C>> {
  const q = dbOf(node);
  const communityId = crypto.randomUUID();
  const slug = `c-${randomBytes(6).toString('hex')}`;
  await q.insertInto('communities').values({ id: communityId, slug, name: `Community ${slug}`, visibility: spec.visibility ?? 'public' }).execute();
  if (spec.members.length) {
    await q
      .insertInto('community_members')
      .values(spec.members.map((m) => ({ community_id: communityId, user_id: m.userId, role: m.role ?? 'member' })))
      .execute();
  }
  const channels = {} as Record<C, string>;
  for (const c of spec.channels) {
    const id = crypto.randomUUID();
    channels[c.name] = id;
    await q
      .insertInto('channels')
      .values({ id, community_id: communityId, kind: 'channel', name: c.name, visibility: c.visibility ?? 'public', archived_at: c.archived ? new Date() : null })
      .execute();
    if (c.members?.length) await q.insertInto('channel_members').values(c.members.map((userId) => ({ channel_id: id, user_id: userId }))).execute();
  }
  return { communityId, channels };
}

/** Who a world holds: each name is a fresh account with a community role, or `null` for someone outside it. */
type PeopleSpec = Record<string, CommunityRole | null> & { communityId?: never; channels?: never };

export type SeededWorld<P extends PeopleSpec, C extends string = never> = SeededCommunity<C> & { [K in keyof P]: TestUser };

/**
 * A community and the people a test talks about, in one call: every name in `people` becomes a registered account,
 * a member with that role (or left outside with `null`); channels as seedCommunity takes them, their `members` named
 * by the same names. Straight in the database, like seedCommunity.
 *
 *   const { owner, member, outsider, communityId, channels } = await seedWorld(node, {
 *     people: { owner: 'owner', member: 'member', outsider: null },
 *     channels: [{ name: 'general' }, { name: 'staff', visibility: 'private', members: ['owner'] }],
 *   });
 */
export async function seedWorld<const P extends PeopleSpec, const C extends string = never>(
  node: RunningNode,
  spec: {
    people: P;
    channels?: (Omit<ChannelSpec<C>, 'members'> & { members?: (keyof P & string)[] })[];
    visibility?: 'public' | 'private';
  },
): Promise<SeededWorld<P, C>> {
  const names = Object.keys(spec.people) as (keyof P & string)[];
  const users = await Promise.all(names.map(() => registerUser(node.url)));
  const people = Object.fromEntries(names.map((name, i) => [name, users[i]!])) as { [K in keyof P]: TestUser };
  const community = await seedCommunity(node, {
    members: names.flatMap((name) => {
      const role = spec.people[name];
      return role ? [{ userId: people[name].user.id, role }] : [];
    }),
    channels: (spec.channels ?? []).map((c) => ({ ...c, members: c.members?.map((name) => people[name].user.id) })),
    visibility: spec.visibility,
  });
  return { ...people, ...community };
}

/** Makes `user` a member of the community with `role` (or changes the role of one already in). */
export async function addToCommunity(node: RunningNode, communityId: string, user: TestUser, role: CommunityRole = 'member') {
  await dbOf(node)
    .insertInto('community_members')
    .values({ community_id: communityId, user_id: user.user.id, role })
    .onConflict((oc) => oc.columns(['community_id', 'user_id']).doUpdateSet({ role }))
    .execute();
}

/** The ids of a channel's explicit members (private channels, DMs, a class's chat), as stored. */
export async function channelMemberIds(node: RunningNode, channelId: string): Promise<string[]> {
  const rows = await dbOf(node).selectFrom('channel_members').select('user_id').where('channel_id', '=', channelId).orderBy('added_at').execute();
  return rows.map((r) => r.user_id);
}

/** A 1:1 or group DM channel with the given members. */
export async function seedDm(node: RunningNode, userIds: string[]): Promise<string> {
  const q = dbOf(node);
  const id = crypto.randomUUID();
  await q.insertInto('channels').values({ id, kind: userIds.length === 2 ? 'dm' : 'group_dm', visibility: 'private' }).execute();
  await q.insertInto('channel_members').values(userIds.map((userId) => ({ channel_id: id, user_id: userId }))).execute();
  return id;
}

/**
 * What a client holds for one channel, built only from channel events applied strictly in seq order, as the web
 * client does: an event at or below the last applied seq is a duplicate and ignored; one that arrives early (its
 * predecessor was published a moment later by another transaction or node) waits in `pending` until the gap fills.
 */
export class ChannelReplica {
  lastSeq = 0;
  readonly messages = new Map<string, MessageDto>();
  readonly applied: number[] = [];
  readonly pending = new Map<number, ChannelEvent>();
  duplicates = 0;

  constructor(startSeq = 0) {
    this.lastSeq = startSeq;
  }

  apply(event: ChannelEvent): void {
    if (event.seq <= this.lastSeq || this.pending.has(event.seq)) {
      this.duplicates++;
      return;
    }
    this.pending.set(event.seq, event);
    for (let next = this.pending.get(this.lastSeq + 1); next; next = this.pending.get(this.lastSeq + 1)) {
      this.pending.delete(next.seq);
      this.lastSeq = next.seq;
      this.applied.push(next.seq);
      this.applyInOrder(next);
    }
  }

  private applyInOrder(event: ChannelEvent): void {
    switch (event.type) {
      case 'message:created':
        this.messages.set(event.message.id, event.message);
        if (event.thread) {
          const parent = this.messages.get(event.thread.parentId);
          if (parent) this.messages.set(parent.id, { ...parent, threadCount: event.thread.threadCount });
        }
        break;
      case 'message:updated':
      case 'message:deleted':
        this.messages.set(event.message.id, event.message);
        break;
      case 'reaction:updated': {
        const message = this.messages.get(event.messageId);
        if (message) this.messages.set(message.id, { ...message, reactions: event.reactions });
        break;
      }
    }
  }

  /** Comparable state: messages by seq. */
  snapshot() {
    return [...this.messages.values()].sort((a, b) => a.seq - b.seq);
  }
}

const CHANNEL_EVENT_TYPES = ['message:created', 'message:updated', 'message:deleted', 'reaction:updated'] as const;

/** Feeds every live channel event that reaches `socket` into `replica`. */
export function follow(socket: ClientSocket, replica: ChannelReplica): void {
  for (const type of CHANNEL_EVENT_TYPES) socket.on(type, (event: ChannelEvent) => replica.apply(event));
}
