import { randomBytes } from 'node:crypto';
import type { ChannelEvent, MessageDto } from '../contracts/chat.ts';
import type { CommunityRole } from '../contracts/communities.ts';
import { sqlOf } from '../domain/shared/sql.ts';
import type { ClientSocket } from './factories.ts';
import type { RunningNode } from './nodes.ts';

export interface SeededCommunity {
  communityId: string;
  channels: Record<string, string>;
}

/**
 * Creates a community with members and channels straight in the database, for tests of features that only need
 * them to exist (the communities API has its own tests).
 */
export async function seedCommunity(
  node: RunningNode,
  spec: {
    members: { userId: string; role?: CommunityRole }[];
    channels: { name: string; visibility?: 'public' | 'private'; members?: string[]; archived?: boolean }[];
    visibility?: 'public' | 'private';
  },
): Promise<SeededCommunity> {
  const sql = sqlOf(node.node.orm.em.fork());
  const communityId = crypto.randomUUID();
  const slug = `c-${randomBytes(6).toString('hex')}`;
  await sql('insert into communities (id, slug, name, visibility) values (?, ?, ?, ?)', [communityId, slug, `Community ${slug}`, spec.visibility ?? 'public']);
  for (const m of spec.members) {
    await sql('insert into community_members (community_id, user_id, role) values (?, ?, ?)', [communityId, m.userId, m.role ?? 'member']);
  }
  const channels: Record<string, string> = {};
  for (const c of spec.channels) {
    const id = crypto.randomUUID();
    channels[c.name] = id;
    await sql('insert into channels (id, community_id, kind, name, visibility, archived_at) values (?, ?, ?, ?, ?, ?)', [
      id,
      communityId,
      'channel',
      c.name,
      c.visibility ?? 'public',
      c.archived ? new Date() : null,
    ]);
    for (const userId of c.members ?? []) await sql('insert into channel_members (channel_id, user_id) values (?, ?)', [id, userId]);
  }
  return { communityId, channels };
}

/** A 1:1 or group DM channel with the given members. */
export async function seedDm(node: RunningNode, userIds: string[]): Promise<string> {
  const sql = sqlOf(node.node.orm.em.fork());
  const id = crypto.randomUUID();
  await sql('insert into channels (id, kind, visibility) values (?, ?, ?)', [id, userIds.length === 2 ? 'dm' : 'group_dm', 'private']);
  for (const userId of userIds) await sql('insert into channel_members (channel_id, user_id) values (?, ?)', [id, userId]);
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
  for (const type of CHANNEL_EVENT_TYPES) (socket as any).on(type, (event: ChannelEvent) => replica.apply(event));
}
