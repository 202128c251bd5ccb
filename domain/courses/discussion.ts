import type { ChannelDto } from '../../contracts/communities.ts';
import { db } from '../../orm/db.ts';
import { authorizeCourse } from '../access/course.ts';
import { readableChannelSummaries } from '../communities/channelQueries.ts';
import { presentChannel } from '../communities/presenters.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';

/**
 * The course's discussion channel as the caller sees it (unread and mention counts included), for the chat view. Who
 * reads it is ChannelPolicy's rule (its members: the instructors and the enrolled learners), asked through the same
 * predicate as every channel list.
 */
export async function courseDiscussion(deps: Deps, actor: Actor, courseId: string): Promise<ChannelDto> {
  const q = db(deps.orm.em.fork());
  const access = await authorizeCourse(q, actor, courseId, 'view');
  const row = await readableChannelSummaries(q, actor).where('c.id', '=', access.course.channel_id).executeTakeFirst();
  if (!row) throw new AppError('forbidden', 'The course discussion is for its instructors and enrolled learners: enrol to join it.');
  return presentChannel(row);
}
