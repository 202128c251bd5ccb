import { sql } from 'kysely';
import type { CourseDto, CreateCourseInput, UpdateCourseInput } from '../../contracts/courses.ts';
import { db } from '../../orm/db.ts';
import { authorizeCourse, CoursePolicy } from '../access/course.ts';
import { CommunityPolicy } from '../access/community.ts';
import { loadStanding } from '../access/membership.ts';
import { isPlatformAdmin } from '../access/roles.ts';
import { attachAssets } from '../media/assets.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError } from '../shared/errors.ts';
import './events.ts';
import { loadCourseDto } from './presenters.ts';

/*
 * Writing a course: its details, its status, its instructors. The course's discussion channel (kind `course`) is
 * created with it; its members are the instructors and the enrolled learners, kept in step here and in enrolment.ts.
 */

const invalid = (field: string, message: string) => new AppError('invalid_input', message, { details: { fields: { [field]: message } } });

/**
 * Creates a draft course: the creator is its owner-instructor and the first member of its discussion channel. Courses
 * of a community are written by its owners and admins (and by platform instructors who moderate it); courses of no
 * community by platform instructors and admins.
 */
export async function createCourse(deps: Deps, actor: Actor, input: CreateCourseInput): Promise<CourseDto> {
  const now = deps.clock.now();
  const { dto, channelId } = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    let communityRole: CreateCourseRole = undefined;
    if (input.communityId !== undefined) {
      const standing = await loadStanding(q, actor.userId, input.communityId);
      const seen = standing && !standing.archived && (CommunityPolicy.view({ communityId: input.communityId, visibility: standing.visibility, role: standing.role }) || isPlatformAdmin(actor));
      if (!seen) throw new AppError('not_found', 'No such community.');
      communityRole = standing.role;
    }
    if (!CoursePolicy.create(actor, communityRole)) {
      throw new AppError(
        'forbidden',
        input.communityId === undefined
          ? 'Only platform instructors and admins can create a course outside a community.'
          : 'Only community owners and admins, and instructors who moderate the community, can create its courses.',
      );
    }
    if (input.coverAssetId) await attachAssets(deps, q, { ownerId: actor.userId, assetIds: [input.coverAssetId], kinds: ['image'], at: now });
    const id = crypto.randomUUID();
    const channelId = crypto.randomUUID();
    await q
      .insertInto('channels')
      .values({ id: channelId, community_id: input.communityId ?? null, kind: 'course', name: null, visibility: 'private', created_by_id: actor.userId })
      .execute();
    await q
      .insertInto('courses')
      .values({
        id,
        community_id: input.communityId ?? null,
        owner_id: actor.userId,
        channel_id: channelId,
        title: input.title,
        summary: input.summary,
        description: input.description,
        level: input.level,
        tags: input.tags,
        language: input.language,
        price_minor: input.priceMinor,
        currency: input.currency ?? null,
        cover_asset_id: input.coverAssetId ?? null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    await q.insertInto('course_instructors').values({ course_id: id, user_id: actor.userId, role: 'owner', added_at: now }).execute();
    await q.insertInto('channel_members').values({ channel_id: channelId, user_id: actor.userId }).execute();
    return { dto: await loadCourseDto(deps, q, actor, id), channelId };
  });
  await deps.events.emit('channel.added', { channelId, communityId: dto.communityId, openTo: 'users', userIds: [actor.userId] });
  return dto;
}
type CreateCourseRole = Parameters<typeof CoursePolicy.create>[1];

/** Edits the details (authors). A priced course needs a currency. */
export async function updateCourse(deps: Deps, actor: Actor, courseId: string, input: UpdateCourseInput): Promise<CourseDto> {
  const now = deps.clock.now();
  const dto = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { course } = await authorizeCourse(q, actor, courseId, 'author', { lock: true });
    const priceMinor = input.priceMinor ?? course.price_minor;
    const currency = input.currency === undefined ? course.currency : input.currency;
    if (priceMinor > 0 && currency === null) throw invalid('currency', 'A priced course needs a currency.');
    // A new cover must be the editor's own upload; the one already on the course stays whoever edits.
    if (input.coverAssetId && input.coverAssetId !== course.cover_asset_id) {
      await attachAssets(deps, q, { ownerId: actor.userId, assetIds: [input.coverAssetId], kinds: ['image'], at: now });
    }
    await q
      .updateTable('courses')
      .set({
        title: input.title,
        summary: input.summary,
        description: input.description,
        level: input.level,
        tags: input.tags,
        language: input.language,
        price_minor: input.priceMinor,
        currency: input.currency,
        cover_asset_id: input.coverAssetId,
        updated_at: now,
      })
      .where('id', '=', courseId)
      .execute();
    await deps.events.record(tx, 'course.updated', { courseId });
    return loadCourseDto(deps, q, actor, courseId);
  });
  await deps.events.emit('course.updated', { courseId });
  return dto;
}

/** Opens the course to learners; it needs at least one lesson. Publishing a published course changes nothing. */
export async function publishCourse(deps: Deps, actor: Actor, courseId: string): Promise<CourseDto> {
  const now = deps.clock.now();
  const { dto, changed } = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { course } = await authorizeCourse(q, actor, courseId, 'author', { lock: true });
    const changed = course.status !== 'published';
    if (changed) {
      const lessons = await q.selectFrom('course_lessons').select(sql<number>`count(*)::int`.as('n')).where('course_id', '=', courseId).executeTakeFirstOrThrow();
      if (lessons.n === 0) throw new AppError('conflict', 'Add at least one lesson before publishing the course.');
      // The first publication dates the course in the catalogue; publishing it again later keeps that date.
      await q
        .updateTable('courses')
        .set((eb) => ({ status: 'published', published_at: eb.fn.coalesce('published_at', eb.val(now)), updated_at: now }))
        .where('id', '=', courseId)
        .execute();
      await deps.events.record(tx, 'course.published', { courseId, communityId: course.community_id, title: course.title });
    }
    return { dto: await loadCourseDto(deps, q, actor, courseId), changed };
  });
  if (changed) await deps.events.emit('course.published', { courseId, communityId: dto.communityId, title: dto.title });
  return dto;
}

/** Takes the course away from the catalogue and its learners (their enrolments and progress stay); authors keep it. */
export async function unpublishCourse(deps: Deps, actor: Actor, courseId: string): Promise<CourseDto> {
  const now = deps.clock.now();
  const { dto, changed } = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { course } = await authorizeCourse(q, actor, courseId, 'author', { lock: true });
    const changed = course.status === 'published';
    if (course.status === 'draft') throw new AppError('conflict', 'The course is a draft: it was never published.');
    if (changed) {
      await q.updateTable('courses').set({ status: 'unpublished', updated_at: now }).where('id', '=', courseId).execute();
      await deps.events.record(tx, 'course.unpublished', { courseId, communityId: course.community_id });
    }
    return { dto: await loadCourseDto(deps, q, actor, courseId), changed };
  });
  if (changed) await deps.events.emit('course.unpublished', { courseId, communityId: dto.communityId });
  return dto;
}

/**
 * Makes someone a co-instructor (authors). A course of a community takes its instructors from its members. They join
 * the course discussion. Adding twice changes nothing.
 */
export async function addInstructor(deps: Deps, actor: Actor, courseId: string, userId: string): Promise<CourseDto> {
  const now = deps.clock.now();
  const { dto, added, course } = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { course } = await authorizeCourse(q, actor, courseId, 'author', { lock: true });
    const user = await q.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
    if (!user) throw new AppError('not_found', 'No such user.');
    if (course.community_id) {
      const member = await q
        .selectFrom('community_members')
        .select('user_id')
        .where('community_id', '=', course.community_id)
        .where('user_id', '=', userId)
        .executeTakeFirst();
      if (!member) throw new AppError('not_found', 'That user is not a member of this community.');
    }
    const inserted = await q
      .insertInto('course_instructors')
      .values({ course_id: courseId, user_id: userId, role: 'instructor', added_at: now })
      .onConflict((oc) => oc.columns(['course_id', 'user_id']).doNothing())
      .returning('user_id')
      .executeTakeFirst();
    const joined = await q
      .insertInto('channel_members')
      .values({ channel_id: course.channel_id, user_id: userId })
      .onConflict((oc) => oc.doNothing())
      .returning('user_id')
      .executeTakeFirst();
    return { dto: await loadCourseDto(deps, q, actor, courseId), added: inserted !== undefined || joined !== undefined, course };
  });
  if (added) await deps.events.emit('channel.added', { channelId: course.channel_id, communityId: course.community_id, openTo: 'users', userIds: [userId] });
  return dto;
}

/**
 * Takes a co-instructor off the course (the owner stays). They leave the discussion unless they are also enrolled
 * in the course as a learner.
 */
export async function removeInstructor(deps: Deps, actor: Actor, courseId: string, userId: string): Promise<CourseDto> {
  const { dto, left, course } = await deps.orm.em.fork().transactional(async (tx) => {
    const q = db(tx);
    const { course } = await authorizeCourse(q, actor, courseId, 'author', { lock: true });
    const seat = await q.selectFrom('course_instructors').select('role').where('course_id', '=', courseId).where('user_id', '=', userId).executeTakeFirst();
    if (!seat) throw new AppError('not_found', 'That user is not an instructor of this course.');
    if (seat.role === 'owner') throw new AppError('conflict', 'The course owner cannot be removed.');
    await q.deleteFrom('course_instructors').where('course_id', '=', courseId).where('user_id', '=', userId).execute();
    const enrolled = await q.selectFrom('course_enrolments').select('user_id').where('course_id', '=', courseId).where('user_id', '=', userId).executeTakeFirst();
    let left = false;
    if (!enrolled) {
      const removed = await q.deleteFrom('channel_members').where('channel_id', '=', course.channel_id).where('user_id', '=', userId).returning('user_id').execute();
      left = removed.length > 0;
    }
    return { dto: await loadCourseDto(deps, q, actor, courseId), left, course };
  });
  if (left) await deps.events.emit('channel.access_revoked', { userId, channelIds: [course.channel_id] });
  return dto;
}
