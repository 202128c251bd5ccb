import { sql } from 'kysely';
import type { NotificationKind } from '../../contracts/notifications.ts';
import { db, uuids, type Db } from '../../orm/db.ts';
import { accessKey, readableChannelPairs } from '../access/channel.ts';
import type { Deps } from '../shared/deps.ts';
import './events.ts';
import { notify, type NewNotification } from './notify.ts';

/*
 * Who a new message notifies: the people it mentions, the others in its thread (a reply), and the other members of a
 * direct message. One notification per recipient and message (a mention outranks a reply, a reply a DM), only for
 * recipients who can read the message now — a message hidden or deleted before the job ran, a recipient removed
 * from the channel or blocking the author, gets nothing. A direct message notifies only while none of the
 * recipient's tabs is focused (`presence:focus`): someone looking at the app sees it arrive in Messages already.
 */

const PRIORITY: Record<'mention' | 'reply' | 'dm', number> = { mention: 0, reply: 1, dm: 2 };

async function loadMessages(q: Db, messageIds: readonly string[]) {
  return q
    .selectFrom('messages as m')
    .innerJoin('channels as c', 'c.id', 'm.channel_id')
    .innerJoin('users as a', 'a.id', 'm.author_id')
    .select(['m.id', 'm.channel_id', 'm.author_id', 'm.body', 'm.reply_to_id', 'm.hidden_at', 'm.deleted_at', 'c.kind', 'c.community_id', 'c.name', 'a.display_name'])
    .select(sql<string[]>`array(select mm.user_id from message_mentions as mm where mm.message_id = m.id)`.as('mentioned'))
    .where('m.id', '=', sql<string>`any(${uuids(messageIds)})`)
    .execute();
}
type Message = Awaited<ReturnType<typeof loadMessages>>[number];

/** The in-app address of a message: its channel (or DM, course discussion, class) with the message to scroll to. */
export async function messageUrl(q: Db, message: Pick<Message, 'id' | 'channel_id' | 'kind' | 'community_id'>): Promise<string> {
  const at = `?message=${message.id}`;
  if (message.kind === 'dm' || message.kind === 'group_dm') return `/app/dm/${message.channel_id}${at}`;
  if (message.kind === 'course') {
    const course = await q.selectFrom('courses').select('id').where('channel_id', '=', message.channel_id).executeTakeFirst();
    if (course) return `/app/courses/${course.id}/discussion${at}`;
  }
  if (message.kind === 'classroom') {
    const classroom = await q.selectFrom('classrooms').select(['id', 'community_id']).where('channel_id', '=', message.channel_id).executeTakeFirst();
    if (classroom) return `/app/c/${classroom.community_id}/classes/${classroom.id}`;
  }
  return `/app/c/${message.community_id}/${message.channel_id}${at}`;
}

async function recipients(q: Db, message: Message): Promise<Map<string, 'mention' | 'reply' | 'dm'>> {
  const found = new Map<string, 'mention' | 'reply' | 'dm'>();
  const offer = (userId: string, kind: 'mention' | 'reply' | 'dm') => {
    if (userId === message.author_id) return;
    const held = found.get(userId);
    if (!held || PRIORITY[kind] < PRIORITY[held]) found.set(userId, kind);
  };
  for (const userId of message.mentioned) offer(userId, 'mention');
  if (message.reply_to_id) {
    const thread = await q
      .selectFrom('messages')
      .select('author_id')
      .distinct()
      .where((eb) => eb.or([eb('id', '=', message.reply_to_id!), eb('reply_to_id', '=', message.reply_to_id!)]))
      .where('deleted_at', 'is', null)
      .execute();
    for (const row of thread) offer(row.author_id, 'reply');
  }
  if (message.kind === 'dm' || message.kind === 'group_dm') {
    const members = await q.selectFrom('channel_members').select('user_id').where('channel_id', '=', message.channel_id).execute();
    for (const row of members) offer(row.user_id, 'dm');
  }
  return found;
}

/**
 * Which of `userIds` may read the channel now (ChannelPolicy.read over the access the send path loads, for all of them
 * in one statement).
 */
export async function channelReaders(q: Db, channelId: string, userIds: readonly string[]): Promise<Set<string>> {
  const readable = await readableChannelPairs(q, userIds.map((userId) => ({ userId, channelId })));
  return new Set(userIds.filter((userId) => readable.has(accessKey(userId, channelId))));
}

/** Whether `userId` may read the channel now. */
export async function readsChannel(q: Db, channelId: string, userId: string): Promise<boolean> {
  return (await channelReaders(q, channelId, [userId])).has(userId);
}

/**
 * Of each message's would-be recipients, those who may read its channel now and have not blocked its author: one
 * block query and one access query for all the messages.
 */
async function hearers(q: Db, wanted: readonly { message: Message; userIds: readonly string[] }[]): Promise<Set<string>> {
  const heard = new Set<string>();
  const userIds = [...new Set(wanted.flatMap((w) => w.userIds))];
  if (userIds.length === 0) return heard;
  const blocking = await q
    .selectFrom('user_blocks')
    .select(['blocker_id', 'blocked_id'])
    .where('blocker_id', '=', sql<string>`any(${uuids(userIds)})`)
    .where('blocked_id', '=', sql<string>`any(${uuids([...new Set(wanted.map((w) => w.message.author_id))])})`)
    .execute();
  const blocked = new Set(blocking.map((b) => blockKey(b.blocker_id, b.blocked_id)));
  const unblocked = wanted.flatMap(({ message, userIds: theirs }) =>
    theirs.filter((userId) => !blocked.has(blockKey(userId, message.author_id))).map((userId) => ({ userId, message })),
  );
  const readable = await readableChannelPairs(q, unblocked.map(({ userId, message }) => ({ userId, channelId: message.channel_id })));
  for (const { userId, message } of unblocked) if (readable.has(accessKey(userId, message.channel_id))) heard.add(hearerKey(userId, message.id));
  return heard;
}
/** A block of `blocked` by `blocker`. */
const blockKey = (blocker: string, blocked: string) => `${blocker}:${blocked}`;
/** A recipient who may hear of a message. */
const hearerKey = (userId: string, messageId: string) => `${userId}:${messageId}`;

function titleOf(kind: NotificationKind, message: Message): string {
  const where = message.kind === 'channel' && message.name ? ` in #${message.name}` : '';
  if (kind === 'mention') return `${message.display_name} mentioned you${where}`;
  if (kind === 'reply') return `${message.display_name} replied in a thread${where}`;
  return `${message.display_name} sent you a message`;
}

/**
 * Notifies everyone the stored messages concern, in as few statements as the batch allows (one notify() for all);
 * safe to run again (each notification is stored once). Returns how many notifications were new.
 */
export async function notifyAboutMessages(deps: Deps, messageIds: readonly string[]): Promise<number> {
  if (messageIds.length === 0) return 0;
  const q = db(deps.orm.em.fork());
  const messages = (await loadMessages(q, messageIds)).filter((m) => !m.deleted_at && !m.hidden_at);
  const wanted: { message: Message; url: string; told: [string, 'mention' | 'reply' | 'dm'][] }[] = [];
  for (const message of messages) {
    const found = await recipients(q, message);
    const dmTo = [...found].filter(([, kind]) => kind === 'dm').map(([userId]) => userId);
    const looking = dmTo.length ? await deps.presence.focusedUsers(dmTo) : new Set<string>();
    const told = [...found].filter(([userId, kind]) => !(kind === 'dm' && looking.has(userId)));
    if (told.length) wanted.push({ message, url: await messageUrl(q, message), told });
  }
  const hear = await hearers(
    q,
    wanted.map(({ message, told }) => ({ message, userIds: told.map(([userId]) => userId) })),
  );
  const items: NewNotification[] = [];
  for (const { message, url, told } of wanted) {
    for (const [userId, kind] of told) {
      if (!hear.has(hearerKey(userId, message.id))) continue;
      items.push({
        userId,
        kind,
        sourceKey: `message:${message.id}`,
        actorId: message.author_id,
        communityId: message.community_id,
        subjectType: 'message',
        subjectId: message.id,
        title: titleOf(kind, message),
        body: message.body,
        url,
      });
    }
  }
  return notify(deps, items);
}

/** notifyAboutMessages for one message. */
export function notifyAboutMessage(deps: Deps, messageId: string): Promise<number> {
  return notifyAboutMessages(deps, [messageId]);
}
