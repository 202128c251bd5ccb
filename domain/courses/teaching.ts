import { sql } from 'kysely';
import type { TeachingDto } from '../../contracts/teaching.ts';
import { db } from '../../orm/db.ts';
import { MANAGING_ROLES } from '../access/roles.ts';
import { presentEbook, ebookDtoQuery } from '../ebooks/presenters.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { loadCourseDtos } from './presenters.ts';

/** How many of each the teaching dashboard lists. */
const TEACHING_LIMIT = 200;

/**
 * The instructor's dashboard: courses they teach and ebooks they wrote, plus those of communities they own or
 * administer, drafts included. Narrower than `CoursePolicy.author` on purpose: a platform admin may author anything,
 * but "what I teach" lists only what is theirs.
 */
export async function listTeaching(deps: Deps, actor: Actor): Promise<TeachingDto> {
  const q = db(deps.orm.em.fork());
  const managedCommunities = q
    .selectFrom('community_members')
    .select('community_id')
    .where('user_id', '=', actor.userId)
    .where('role', 'in', MANAGING_ROLES);
  const courseRows = await q
    .selectFrom('courses as k')
    .select('k.id')
    .where((eb) =>
      eb.or([
        eb.exists(eb.selectFrom('course_instructors as ci').select(sql.lit(1).as('one')).whereRef('ci.course_id', '=', 'k.id').where('ci.user_id', '=', actor.userId)),
        eb('k.community_id', 'in', managedCommunities),
      ]),
    )
    .orderBy('k.updated_at', 'desc')
    .orderBy('k.id')
    .limit(TEACHING_LIMIT)
    .execute();
  const ebookRows = await ebookDtoQuery(q)
    .where((eb) => eb.or([eb('e.owner_id', '=', actor.userId), eb('e.community_id', 'in', managedCommunities)]))
    .orderBy('e.updated_at', 'desc')
    .orderBy('e.id')
    .limit(TEACHING_LIMIT)
    .execute();
  return {
    courses: await loadCourseDtos(deps, q, actor, courseRows.map((row) => row.id)),
    ebooks: ebookRows.map(presentEbook),
  };
}
