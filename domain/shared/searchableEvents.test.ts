import JSZip from 'jszip';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { RegisterInput } from '../../contracts/auth.ts';
import { CreateClassroomInput, UpdateClassroomInput } from '../../contracts/classrooms.ts';
import { CreateCommunityInput } from '../../contracts/communities.ts';
import { CreateCourseInput, CreateLessonInput, UpdateCourseInput, UpdateLessonInput } from '../../contracts/courses.ts';
import { CreateEbookInput, UpdateChapterInput, UpdateEbookInput } from '../../contracts/ebooks.ts';
import { CreatePostInput } from '../../contracts/feed.ts';
import { CaseActionInput } from '../../contracts/moderation.ts';
import { UpdateProfileInput } from '../../contracts/profiles.ts';
import { db } from '../../orm/db.ts';
import { uploadAsset } from '../../test/assetFactories.ts';
import { minutesFrom } from '../../test/classroomFactories.ts';
import { buildEpub } from '../../test/ebookFactories.ts';
import { registerUser, STRONG_PASSWORD, uniqueEmail, type TestUser } from '../../test/factories.ts';
import { moderateAs } from '../../test/feedFactories.ts';
import { activeCaseId } from '../../test/moderationFactories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';
import { register } from '../auth/accounts.ts';
import { endClassroom, startClassroom } from '../classrooms/lifecycle.ts';
import { cancelClassroom, createClassroom, updateClassroom } from '../classrooms/scheduling.ts';
import { createCommunity, joinCommunity } from '../communities/communities.ts';
import { createCourse, publishCourse, unpublishCourse, updateCourse } from '../courses/authoring.ts';
import { addLesson, addModule, deleteLesson, deleteModule, renameModule, reorderOutline, updateLesson } from '../courses/content.ts';
import {
  addChapter,
  createEbook,
  deleteChapter,
  publishEbook,
  reorderChapters,
  unpublishEbook,
  updateChapter,
  updateEbook,
} from '../ebooks/authoring.ts';
import { importEpub } from '../ebooks/importEpub.ts';
import { moderateFeedItem } from '../feed/moderation.ts';
import { createPost, deletePost, editPost, pinPost, votePoll } from '../feed/posts.ts';
import { actOnCase } from '../moderation/actions.ts';
import { openAutomodCase } from '../moderation/cases.ts';
import { suspendUser, unsuspendUser } from '../moderation/suspensions.ts';
import { updateMyProfile } from '../profiles/profiles.ts';
import type { Actor, Deps } from './deps.ts';
import type { DomainEventName, DomainEvents } from './events.ts';

/*
 * Search stays fresh from durable events: every operation that changes something searchable (a community, a
 * published course or ebook, a class, a person, a post members can read) records its event with
 * deps.events.record inside its own transaction. Here a durable listener is registered on every one of those events,
 * each operation runs once through the domain, the node's job runner delivers the jobs, and exactly the expected
 * events (name and subject) arrive — nothing for an operation that rolls back, and nothing for changes search does not
 * show (drafts, pins, poll votes).
 */

/** The searchable events and the id of the thing each one is about: the list a search indexer subscribes to. */
const SEARCHABLE = {
  'community.created': (p) => p.communityId,
  'course.published': (p) => p.courseId,
  'course.unpublished': (p) => p.courseId,
  'course.updated': (p) => p.courseId,
  'ebook.published': (p) => p.ebookId,
  'ebook.unpublished': (p) => p.ebookId,
  'ebook.updated': (p) => p.ebookId,
  'classroom.scheduled': (p) => p.classroomId,
  'classroom.updated': (p) => p.classroomId,
  'classroom.started': (p) => p.classroomId,
  'classroom.cancelled': (p) => p.classroomId,
  'classroom.ended': (p) => p.classroomId,
  'user.registered': (p) => p.userId,
  'profile.updated': (p) => p.userId,
  'user.suspended': (p) => p.userId,
  'user.unsuspended': (p) => p.userId,
  'post.created': (p) => p.post.id,
  'post.updated': (p) => p.post.id,
  'post.restored': (p) => p.post.id,
  'post.hidden': (p) => p.postId,
  'post.deleted': (p) => p.postId,
} satisfies { [E in DomainEventName]?: (payload: DomainEvents[E]) => string };

type SearchableEvent = keyof typeof SEARCHABLE;
type Delivery = [event: SearchableEvent, subjectId: string];

const LISTENER = 'searchableEventsTest';

let node: RunningNode;
let deps: Deps;
/** Every delivery of a recorded event to the test's durable listener, in the order the runner made them. */
const delivered: Delivery[] = [];

beforeAll(async () => {
  node = await startNode();
  deps = node.node.deps;
  for (const event of Object.keys(SEARCHABLE) as SearchableEvent[]) {
    const subjectOf = SEARCHABLE[event] as (payload: unknown) => string;
    deps.events.onDurable(event, LISTENER, async (payload) => {
      delivered.push([event, subjectOf(payload)]);
    });
  }
});

afterAll(async () => {
  await node?.close();
});

/** The test listener's jobs are all done: none queued, running or failed. */
async function settled(): Promise<void> {
  await vi.waitFor(
    async () => {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from graphile_worker._private_jobs j join graphile_worker._private_tasks t on t.id = j.task_id
        where t.identifier = 'domain-event' and j.payload->>'listener' = ${LISTENER}
      `.execute(dbOf(node));
      if (rows[0]!.n > 0) throw new Error(`${rows[0]!.n} recorded events not delivered yet`);
    },
    { timeout: 10_000, interval: 25 },
  );
}

const sorted = (list: readonly Delivery[]) => [...list].sort((a, b) => `${a[0]} ${a[1]}`.localeCompare(`${b[0]} ${b[1]}`));

/**
 * Runs `operation` once and checks that exactly `expected(result)` was recorded during it (delivered through the job
 * queue), no more, no less. Earlier work is settled first, so nothing else lands in the window.
 */
async function records<T>(operation: () => Promise<T>, expected: (result: T) => Delivery[]): Promise<T> {
  await settled();
  const from = delivered.length;
  const result = await operation();
  await settled();
  expect(sorted(delivered.slice(from))).toEqual(sorted(expected(result)));
  return result;
}

const actorOf = (user: TestUser, role: Actor['role'] = 'user'): Actor => ({ userId: user.user.id, sessionId: user.sessionId, role });

/** A public community created through the domain by a fresh owner. */
async function ownCommunity(): Promise<{ owner: TestUser; communityId: string }> {
  const owner = await registerUser(node.url);
  const community = await createCommunity(deps, actorOf(owner), CreateCommunityInput.parse({ name: 'Search events', visibility: 'public' }));
  return { owner, communityId: community.id };
}

describe('operations that change something searchable record their event in their transaction', () => {
  it('communities: creating one records community.created', async () => {
    const owner = await registerUser(node.url);
    await records(
      () => createCommunity(deps, actorOf(owner), CreateCommunityInput.parse({ name: 'Rust readers', description: 'Borrowing.', visibility: 'public' })),
      (community) => [['community.created', community.id]],
    );
  });

  it('courses: publishing, unpublishing and every edit of the details or the outline', async () => {
    const { owner, communityId } = await ownCommunity();
    const author = actorOf(owner);
    // A draft is nobody's search result: creating one records nothing.
    const course = await records(
      () => createCourse(deps, author, CreateCourseInput.parse({ title: 'Statistics', level: 'beginner', communityId })),
      () => [],
    );
    const updated: Delivery[] = [['course.updated', course.id]];
    const basics = await records(() => addModule(deps, author, course.id, { title: 'Basics' }), () => updated);
    await records(() => renameModule(deps, author, basics.id, { title: 'The basics' }), () => updated);
    const means = await records(
      () => addLesson(deps, author, basics.id, CreateLessonInput.parse({ title: 'Means', kind: 'text', body: 'Add, divide.' })),
      () => updated,
    );
    const medians = await records(
      () => addLesson(deps, author, basics.id, CreateLessonInput.parse({ title: 'Medians', kind: 'text', body: 'Sort, pick.' })),
      () => updated,
    );
    await records(() => updateLesson(deps, author, means.id, UpdateLessonInput.parse({ title: 'Means, gently' })), () => updated);
    await records(() => reorderOutline(deps, author, course.id, { modules: [{ id: basics.id, lessonIds: [medians.id, means.id] }] }), () => updated);

    await records(() => publishCourse(deps, author, course.id), () => [['course.published', course.id]]);
    // Publishing again changes nothing, and records nothing.
    await records(() => publishCourse(deps, author, course.id), () => []);
    await records(
      () => updateCourse(deps, author, course.id, UpdateCourseInput.parse({ title: 'Statistics, gently', summary: 'Means first.', tags: ['stats'] })),
      () => updated,
    );
    await records(() => deleteLesson(deps, author, medians.id), () => updated);
    const extra = await records(() => addModule(deps, author, course.id, { title: 'Extra' }), () => updated);
    await records(() => deleteModule(deps, author, extra.id), () => updated);
    await records(() => unpublishCourse(deps, author, course.id), () => [['course.unpublished', course.id]]);
  });

  it('ebooks: publishing, unpublishing, and every edit of the details or the chapters (EPUB import included)', async () => {
    const { owner, communityId } = await ownCommunity();
    const author = actorOf(owner);
    const ebook = await records(() => createEbook(deps, author, CreateEbookInput.parse({ title: 'Practical Algebra', author: 'Ada', communityId })), () => []);
    const updated: Delivery[] = [['ebook.updated', ebook.id]];
    const first = await records(() => addChapter(deps, author, ebook.id, { title: 'One', body: 'Letters stand for numbers.' }), () => updated);
    const second = await records(() => addChapter(deps, author, ebook.id, { title: 'Two', body: 'Equations balance.' }), () => updated);
    await records(() => updateChapter(deps, author, ebook.id, first.id, UpdateChapterInput.parse({ body: 'Letters stand in for numbers.' })), () => updated);
    await records(() => reorderChapters(deps, author, ebook.id, [second.id, first.id]), () => updated);

    await records(() => publishEbook(deps, author, ebook.id), () => [['ebook.published', ebook.id]]);
    await records(() => updateEbook(deps, author, ebook.id, UpdateEbookInput.parse({ description: 'Numbers, letters.' })), () => updated);
    const epub = await buildEpub({ chapters: [{ tocTitle: 'Imported', xhtml: '<p>From an EPUB.</p>' }] });
    const asset = await uploadAsset(node, owner, { name: 'book.epub', bytes: epub, type: 'application/epub+zip' });
    await records(() => importEpub(deps, author, ebook.id, asset.id), () => updated);
    await records(() => deleteChapter(deps, author, ebook.id, first.id), () => updated);
    await records(() => unpublishEbook(deps, author, ebook.id), () => [['ebook.unpublished', ebook.id]]);
  });

  it('classrooms: scheduled, edited, moved, started, edited live, ended; another cancelled', async () => {
    const { owner, communityId } = await ownCommunity();
    const host = actorOf(owner);
    const schedule = () =>
      createClassroom(
        deps,
        host,
        CreateClassroomInput.parse({ communityId, title: 'Vectors', startsAt: minutesFrom(5), durationMinutes: 60, capacity: 10 }),
      );
    const classroom = await records(schedule, (k) => [['classroom.scheduled', k.id]]);
    const id = classroom.id;
    await records(() => updateClassroom(deps, host, id, UpdateClassroomInput.parse({ description: 'Bring paper.', capacity: 12 })), () => [['classroom.updated', id]]);
    // A move is a new schedule (reminders follow it), not an update.
    await records(() => updateClassroom(deps, host, id, UpdateClassroomInput.parse({ startsAt: minutesFrom(6) })), () => [['classroom.scheduled', id]]);
    await records(() => startClassroom(deps, host, id), () => [['classroom.started', id]]);
    await records(() => updateClassroom(deps, host, id, UpdateClassroomInput.parse({ title: 'Vectors, live' })), () => [['classroom.updated', id]]);
    await records(() => endClassroom(deps, host, id), () => [['classroom.ended', id]]);

    const other = await records(schedule, (k) => [['classroom.scheduled', k.id]]);
    await records(() => cancelClassroom(deps, host, other.id), () => [['classroom.cancelled', other.id]]);
  });

  it('people: registered, profile edited, suspended and unsuspended', async () => {
    const input = RegisterInput.parse({ email: uniqueEmail('searchable'), password: STRONG_PASSWORD, displayName: 'Searchable Person' });
    const person = await records(() => register(deps, input, { ip: null, userAgent: null }), (auth) => [['user.registered', auth.user.id]]);
    const id = person.user.id;
    await records(
      () => updateMyProfile(deps, { userId: id, sessionId: person.sessionId, role: 'user' }, UpdateProfileInput.parse({ displayName: 'Searchable P.', headline: 'Teaches algebra', bio: 'Hello.' })),
      () => [['profile.updated', id]],
    );
    const admin = actorOf(await registerUser(node.url), 'admin');
    await records(() => suspendUser(deps, admin, id, 'spam'), () => [['user.suspended', id]]);
    await records(() => unsuspendUser(deps, admin, id), () => [['user.unsuspended', id]]);
  });

  it('posts: created, edited, hidden, restored and deleted, by their authors and by moderators', async () => {
    const { owner, communityId } = await ownCommunity();
    const member = await registerUser(node.url);
    await joinCommunity(deps, actorOf(member), communityId);
    const moderator = actorOf(owner);
    const write = (body: string) => createPost(deps, actorOf(member), communityId, CreatePostInput.parse({ body }));

    const post = await records(() => write('Hello search'), (p) => [['post.created', p.id]]);
    await records(() => editPost(deps, actorOf(member), post.id, { body: 'Hello, search' }), () => [['post.updated', post.id]]);
    // An edit that changes nothing, a pin and a poll vote change no text: announced to members, not recorded.
    await records(() => editPost(deps, actorOf(member), post.id, { body: 'Hello, search' }), () => []);
    await records(() => pinPost(deps, moderator, post.id, true), () => []);
    const poll = await records(
      () => createPost(deps, actorOf(member), communityId, CreatePostInput.parse({ kind: 'poll', body: 'Vote', poll: { question: 'Which?', options: ['A', 'B'] } })),
      (p) => [['post.created', p.id]],
    );
    await records(() => votePoll(deps, moderator, poll.id, 1), () => []);

    await records(() => moderateAs(node, owner, { type: 'post', id: post.id }, { hide: true }), () => [['post.hidden', post.id]]);
    await records(() => moderateAs(node, owner, { type: 'post', id: post.id }, { hide: false }), () => [['post.restored', post.id]]);
    await records(() => deletePost(deps, actorOf(member), post.id), () => [['post.deleted', post.id]]);

    const removed = await records(() => write('Off topic'), (p) => [['post.created', p.id]]);
    await records(() => moderateAs(node, owner, { type: 'post', id: removed.id }, { delete: true }), () => [['post.deleted', removed.id]]);

    // Through a moderation case: the action runs moderateFeedItem in the case's transaction.
    const reported = await records(() => write('Buy cheap pills'), (p) => [['post.created', p.id]]);
    await openAutomodCase(deps, { communityId, type: 'post', id: reported.id, authorId: member.user.id }, ['pills']);
    const caseId = await activeCaseId(node, reported.id);
    await records(
      () => actOnCase(deps, moderator, caseId, CaseActionInput.parse({ action: 'hide', reason: 'Spam.' })),
      () => [['post.hidden', reported.id]],
    );
    // Members (and search) do not have a hidden post: a moderator deleting it takes nothing from them, records nothing.
    await records(() => deletePost(deps, moderator, reported.id), () => []);
  });
});

describe('an operation that rolls back records nothing', () => {
  it('an edit refused after its transaction began', async () => {
    const { owner, communityId } = await ownCommunity();
    const course = await createCourse(deps, actorOf(owner), CreateCourseInput.parse({ title: 'Free course', level: 'beginner', communityId }));
    // The course has no currency: a price is refused once the course row is locked.
    await records(
      () => expect(updateCourse(deps, actorOf(owner), course.id, UpdateCourseInput.parse({ title: 'Paid course', priceMinor: 500 }))).rejects.toMatchObject({ code: 'invalid_input' }),
      () => [],
    );
    expect((await dbOf(node).selectFrom('courses').select('title').where('id', '=', course.id).executeTakeFirstOrThrow()).title).toBe('Free course');
  });

  it('a sign-up whose e-mail turns out to be taken at commit', async () => {
    const input = RegisterInput.parse({ email: uniqueEmail('twice'), password: STRONG_PASSWORD, displayName: 'Twice' });
    await records(() => register(deps, input, { ip: null, userAgent: null }), (auth) => [['user.registered', auth.user.id]]);
    await records(() => expect(register(deps, input, { ip: null, userAgent: null })).rejects.toMatchObject({ code: 'conflict' }), () => []);
  });

  it('an EPUB import that fails to parse', async () => {
    const { owner, communityId } = await ownCommunity();
    const ebook = await createEbook(deps, actorOf(owner), CreateEbookInput.parse({ title: 'Broken import', author: 'Ada', communityId }));
    // A zip that is an EPUB to the type sniffer but whose package is missing.
    const zip = await JSZip.loadAsync(await buildEpub({ chapters: [{ xhtml: '<p>Text</p>' }] }));
    zip.remove('OEBPS/content.opf');
    const broken = await zip.generateAsync({ type: 'nodebuffer' });
    const asset = await uploadAsset(node, owner, { name: 'broken.epub', bytes: broken, type: 'application/epub+zip' });
    await records(() => expect(importEpub(deps, actorOf(owner), ebook.id, asset.id)).rejects.toMatchObject({ code: 'invalid_input' }), () => []);
  });

  it('a moderator hide recorded in a transaction that then fails', async () => {
    const { owner, communityId } = await ownCommunity();
    const post = await createPost(deps, actorOf(owner), communityId, CreatePostInput.parse({ body: 'Still here' }));
    await records(
      () =>
        expect(
          deps.orm.em.fork().transactional(async (tx) => {
            const result = await moderateFeedItem(deps, db(tx), { type: 'post', id: post.id }, { hide: true }, owner.user.id);
            expect(result.after.hidden).toBe(true);
            throw new Error('the audit entry could not be written');
          }),
        ).rejects.toThrow('the audit entry could not be written'),
      () => [],
    );
    expect((await dbOf(node).selectFrom('posts').select('hidden_at').where('id', '=', post.id).executeTakeFirstOrThrow()).hidden_at).toBeNull();
  });
});
