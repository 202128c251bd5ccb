import { inflateSync } from 'node:zlib';
import { completeLessonInTx } from '../domain/courses/progress.ts';
import { jsonb } from '../orm/db.ts';
import type { StoredQuiz } from '../orm/entities/courses.ts';
import type { TestUser } from './factories.ts';
import { dbOf, type RunningNode } from './nodes.ts';

/**
 * The text a PDF shows, page content stream by stream: each text block (BT … ET) as one line. Enough of PDF to read
 * what pdfkit writes with the standard fonts (hex or literal strings under Tj/TJ, Flate-compressed or not), so a test
 * can assert on what a person would read rather than on bytes.
 */
export function pdfText(pdf: Buffer): string[] {
  const raw = pdf.toString('latin1');
  const lines: string[] = [];
  for (const match of raw.matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)) {
    let body = Buffer.from(match[1]!, 'latin1');
    try {
      body = inflateSync(body);
    } catch {
      // not compressed
    }
    const content = body.toString('latin1');
    for (const block of content.matchAll(/BT([\s\S]*?)ET/g)) {
      let text = '';
      for (const shown of block[1]!.matchAll(/\[([^\]]*)\]\s*TJ|(<[0-9a-fA-F]*>|\((?:\\.|[^\\)])*\))\s*Tj/g)) {
        const strings = shown[1] !== undefined ? shown[1].match(/<[0-9a-fA-F]*>|\((?:\\.|[^\\)])*\)/g) ?? [] : [shown[2]!];
        for (const s of strings) text += s.startsWith('<') ? Buffer.from(s.slice(1, -1), 'hex').toString('latin1') : s.slice(1, -1).replace(/\\(.)/g, '$1');
      }
      if (text) lines.push(text);
    }
  }
  return lines;
}

export type QuizQuestion = StoredQuiz['questions'][number];

/** Questions for a stored quiz; ids are the caller's, so a test can answer them by name. */
export const question = {
  single: (id: string, correct: number, options = ['a', 'b', 'c', 'd']): QuizQuestion => ({ id, kind: 'single', prompt: `Pick one (${id})`, options, correct: [correct], accepted: [] }),
  multiple: (id: string, correct: number[], options = ['a', 'b', 'c', 'd']): QuizQuestion => ({ id, kind: 'multiple', prompt: `Pick all (${id})`, options, correct, accepted: [] }),
  short: (id: string, accepted: string[]): QuizQuestion => ({ id, kind: 'short', prompt: `Say it (${id})`, options: [], correct: [], accepted }),
};

export interface LessonSpec {
  kind?: 'text' | 'video' | 'quiz' | 'assignment';
  title?: string;
  required?: boolean;
  questions?: QuizQuestion[];
  passPercent?: number | null;
  maxAttempts?: number | null;
  /** Opens this many days after the learner's enrolment (drip). */
  releaseDays?: number;
}

export interface SeededCourse<L extends string> {
  courseId: string;
  communityId: string;
  title: string;
  /** Lesson ids by name, in outline order. */
  lessons: Record<L, string>;
}

/**
 * A published course straight in the database (the courses API has its own tests): its discussion channel, the owner
 * as its instructor, one module per `modules` entry holding its lessons in order. Quiz lessons store their questions
 * with the keys, as authoring does.
 */
export async function seedCourse<const L extends string>(
  node: RunningNode,
  spec: { owner: TestUser; communityId: string; title?: string; modules: { [K in L]?: LessonSpec }[] },
): Promise<SeededCourse<L>> {
  const q = dbOf(node);
  const courseId = crypto.randomUUID();
  const channelId = crypto.randomUUID();
  const title = spec.title ?? `Course ${courseId.slice(0, 6)}`;
  await q.insertInto('channels').values({ id: channelId, community_id: spec.communityId, kind: 'course', visibility: 'private' }).execute();
  await q
    .insertInto('courses')
    .values({
      id: courseId,
      community_id: spec.communityId,
      owner_id: spec.owner.user.id,
      channel_id: channelId,
      title,
      level: 'beginner',
      status: 'published',
      published_at: new Date('2030-01-01T00:00:00Z'),
    })
    .execute();
  await q.insertInto('course_instructors').values({ course_id: courseId, user_id: spec.owner.user.id, role: 'owner' }).execute();
  const lessons = {} as Record<L, string>;
  for (const [m, moduleLessons] of spec.modules.entries()) {
    const moduleId = crypto.randomUUID();
    await q.insertInto('course_modules').values({ id: moduleId, course_id: courseId, title: `Module ${m + 1}`, position: m }).execute();
    for (const [position, [name, lesson]] of (Object.entries(moduleLessons) as [L, LessonSpec][]).entries()) {
      const id = crypto.randomUUID();
      lessons[name] = id;
      const kind = lesson.kind ?? 'text';
      await q
        .insertInto('course_lessons')
        .values({
          id,
          course_id: courseId,
          module_id: moduleId,
          title: lesson.title ?? name,
          kind,
          body: `About ${name}`,
          required: lesson.required ?? true,
          release_type: lesson.releaseDays === undefined ? 'immediate' : 'afterEnrolment',
          release_days: lesson.releaseDays ?? null,
          quiz: kind === 'quiz' ? jsonb<StoredQuiz>({ questions: lesson.questions ?? [] }) : null,
          pass_percent: lesson.passPercent ?? null,
          max_attempts: lesson.maxAttempts ?? null,
          position,
        })
        .execute();
    }
  }
  return { courseId, communityId: spec.communityId, title, lessons };
}

/** Enrols `user` as a free enrolment does: an entitlement and an enrolment row (at `at`, default now). */
export async function enrol(node: RunningNode, courseId: string, user: TestUser, at: Date = new Date()): Promise<void> {
  const q = dbOf(node);
  await q
    .insertInto('entitlements')
    .values({ id: crypto.randomUUID(), user_id: user.user.id, resource_type: 'course', resource_id: courseId, source: 'free', created_at: at })
    .execute();
  await q.insertInto('course_enrolments').values({ course_id: courseId, user_id: user.user.id, enrolled_at: at, last_activity_at: at }).execute();
}

/** Completes a lesson for `user` the way the course core does (its own transaction), as if they had read it. */
export async function completeAs(node: RunningNode, lessonId: string, user: TestUser, at: Date = node.node.deps.clock.now()) {
  const lesson = await dbOf(node).selectFrom('course_lessons').select('course_id').where('id', '=', lessonId).executeTakeFirstOrThrow();
  return node.node.orm.em
    .fork()
    .transactional((tx) => completeLessonInTx(node.node.deps, tx, { courseId: lesson.course_id, lessonId, userId: user.user.id, at }));
}

/** Certificates of one learner and course, as stored. */
export function certificatesOf(node: RunningNode, courseId: string, userId: string) {
  return dbOf(node).selectFrom('certificates').selectAll().where('course_id', '=', courseId).where('user_id', '=', userId).execute();
}
