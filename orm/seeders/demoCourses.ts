import { createHash } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import PDFDocument from 'pdfkit';
import {
  Asset,
  Channel,
  ChannelMember,
  Community,
  Course,
  CourseEnrolment,
  CourseInstructor,
  CourseLesson,
  CourseModule,
  Coupon,
  Ebook,
  EbookChapter,
  Entitlement,
  LessonProgress,
  User,
  type IAsset,
  type ICourseLesson,
  type StoredQuiz,
} from '../entities/index.ts';

/** Where the seeder stores the demo course's study guide: the app's asset storage, local disk or S3. */
export type PutDemoFile = (key: string, bytes: Buffer, mime: string) => Promise<void>;

const DAY_MS = 24 * 3600_000;

export const DEMO_COURSE = {
  title: 'Learning together: a starter course',
  summary: 'How to learn well in a community: set goals, study in the open, check your understanding and keep going.',
  description:
    'A short free course of the Edulure Demo Academy. Two modules of reading, a study guide to download, a quiz to ' +
    'check what stuck, and a second-week lesson that opens seven days after you enrol.',
  tags: ['learning', 'study-skills', 'community'],
  modules: [
    {
      title: 'Getting started',
      lessons: [
        {
          title: 'Welcome',
          kind: 'text',
          preview: true,
          durationMinutes: 3,
          body:
            '## Welcome to the course\n\nThis course is about **learning together**. You will read a little, try a ' +
            'little, and talk about it in the course discussion.\n\n- Read each lesson\n- Mark it complete\n- Ask ' +
            'questions in the discussion',
        },
        {
          title: 'Set a goal you can see',
          kind: 'text',
          durationMinutes: 5,
          body:
            '## Goals you can see\n\nA goal you can *see* is one you could show someone: "explain recursion to a ' +
            'friend", not "understand recursion".\n\n1. Write your goal down\n2. Share it in the discussion\n3. Check ' +
            'it again at the end of the week',
        },
        { title: 'Study guide (PDF)', kind: 'file', durationMinutes: 10, body: 'Download the study guide and keep it next to you.' },
      ],
    },
    {
      title: 'Practice',
      lessons: [
        { title: 'Check your understanding', kind: 'quiz', durationMinutes: 5, body: 'Two questions about the first module.' },
        {
          title: 'Study in the open',
          kind: 'text',
          durationMinutes: 6,
          body:
            '## Study in the open\n\nPost what you are working on, even when it is unfinished. Others learn from ' +
            'your questions as much as from your answers.\n\n> The best way to learn is to teach.',
        },
        {
          title: 'Week two: keep going',
          kind: 'text',
          durationMinutes: 6,
          releaseDays: 7,
          body: '## Week two\n\nLook back at the goal you wrote down. What changed? Share one thing you learned.',
        },
      ],
    },
  ],
} as const;

const DEMO_QUIZ: StoredQuiz = {
  questions: [
    {
      id: 'q1',
      kind: 'single',
      prompt: 'Which goal is one you could show someone?',
      options: ['Understand recursion', 'Explain recursion to a friend', 'Be good at programming'],
      correct: [1],
      accepted: [],
    },
    {
      id: 'q2',
      kind: 'multiple',
      prompt: 'What helps you learn in a community?',
      options: ['Sharing unfinished work', 'Asking questions', 'Never posting until it is perfect'],
      correct: [0, 1],
      accepted: [],
    },
  ],
};

export const DEMO_EBOOK = {
  title: 'The Edulure Field Guide',
  author: 'Edulure Demo Academy',
  description: 'A short guide to learning in communities: chat, live classes and courses, and how they fit together.',
  chapters: [
    {
      title: 'Why learn together',
      body:
        'People learn faster when they can ask someone. A community gives you someone to ask at any hour.\n\n' +
        'This guide walks through the parts of Edulure and how to use them to learn well.',
    },
    {
      title: 'Chat and live classes',
      body:
        'Channels are for ongoing conversation; live classes are for learning at the same time, with video, ' +
        'raised hands and polls.\n\nJoin a class a few minutes early and say hello in the class chat.',
    },
    {
      title: 'Courses at your own pace',
      body:
        'Courses are made of modules and lessons. Some lessons open later, so the course keeps a rhythm.\n\n' +
        'Mark lessons complete as you go; a certificate waits at the end.',
    },
  ],
} as const;

function studyGuidePdf(): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({ size: 'A4', margin: 56, info: { Title: 'Study guide', Author: 'Edulure Demo Academy' } });
    const chunks: Buffer[] = [];
    doc.on('data', (chunk: Buffer) => chunks.push(chunk));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
    doc.fontSize(22).text('Study guide: Learning together');
    doc.moveDown().fontSize(12);
    for (const line of [
      '1. Write down one goal you could show someone.',
      '2. Study a little every day; mark each lesson complete.',
      '3. Post one question a week in the course discussion.',
      '4. Take the quiz; retry if you miss the pass mark.',
    ]) {
      doc.text(line).moveDown(0.5);
    }
    doc.end();
  });
}

/** A priced course and a coupon, so a first run shows buying end to end (test payments unless Stripe is configured). */
export const DEMO_PAID_COURSE = {
  title: 'Deep work for learners',
  summary: 'Four weeks of focused study habits: plan, protect and review your deep-work hours.',
  description:
    'A paid course of the Edulure Demo Academy. Buy it with the test payment page (no money moves) — try the coupon ' +
    'WELCOME50 for half price.',
  priceMinor: 2900,
  currency: 'EUR',
  coupon: { code: 'WELCOME50', percentOff: 50, maxRedemptions: 100, maxPerUser: 1 },
  lessons: [
    { title: 'Why depth beats hours', body: '## Depth over hours\n\nAn hour of undistracted work teaches more than three of half-attention.' },
    { title: 'Plan your week', body: '## Plan\n\nPick three deep-work blocks for the week and put them in your calendar.' },
    { title: 'Review and adjust', body: '## Review\n\nAt the end of the week, note what broke your focus and change one thing.' },
  ],
} as const;

/**
 * A free published course of the demo community (two modules, text lessons, a file lesson, a quiz, a lesson released
 * seven days after enrolment) with the demo learner enrolled part-way, a priced course with a half-price coupon, and a
 * free published ebook. Seeded once.
 */
export async function seedDemoCourses(
  em: EntityManager,
  options: { communitySlug: string; instructorEmail: string; learnerEmail: string; putFile?: PutDemoFile },
): Promise<void> {
  const community = await em.findOne(Community, { slug: options.communitySlug });
  const instructor = await em.findOne(User, { email: options.instructorEmail });
  const learner = await em.findOne(User, { email: options.learnerEmail });
  if (!community || !instructor || !learner) return;

  const now = new Date();
  if (!(await em.count(Course, { community, title: DEMO_COURSE.title }))) {
    let guide: IAsset | null = null;
    if (options.putFile) {
      const bytes = await studyGuidePdf();
      const id = crypto.randomUUID();
      const storageKey = `${id}/original`;
      await options.putFile(storageKey, bytes, 'application/pdf');
      guide = em.create(Asset, {
        id,
        owner: instructor,
        status: 'ready',
        kind: 'pdf',
        mime: 'application/pdf',
        byteSize: bytes.length,
        originalName: 'study-guide.pdf',
        storageKey,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        readyAt: now,
        attachedAt: now,
      });
    }
    const channel = em.create(Channel, { community, kind: 'course', name: null, visibility: 'private', createdBy: instructor });
    const course = em.create(Course, {
      community,
      owner: instructor,
      channel,
      title: DEMO_COURSE.title,
      summary: DEMO_COURSE.summary,
      description: DEMO_COURSE.description,
      level: 'beginner',
      tags: [...DEMO_COURSE.tags],
      language: 'en',
      status: 'published',
      publishedAt: now,
    });
    em.create(CourseInstructor, { course, user: instructor, role: 'owner' });
    em.create(ChannelMember, { channel, user: instructor });

    const lessons: ICourseLesson[] = [];
    DEMO_COURSE.modules.forEach((spec, modulePosition) => {
      const module = em.create(CourseModule, { course, title: spec.title, position: modulePosition });
      spec.lessons.forEach((lesson, position) => {
        const releaseDays = 'releaseDays' in lesson ? lesson.releaseDays : null;
        lessons.push(
          em.create(CourseLesson, {
            course,
            module,
            title: lesson.title,
            kind: lesson.kind,
            body: lesson.body,
            durationMinutes: lesson.durationMinutes,
            preview: 'preview' in lesson ? lesson.preview : false,
            required: true,
            releaseType: releaseDays === null ? 'immediate' : 'afterEnrolment',
            releaseDays,
            asset: lesson.kind === 'file' ? guide : null,
            quiz: lesson.kind === 'quiz' ? DEMO_QUIZ : null,
            passPercent: lesson.kind === 'quiz' ? 70 : null,
            maxAttempts: lesson.kind === 'quiz' ? 3 : null,
            position,
          }),
        );
      });
    });

    // The demo learner enrolled three days ago and finished the first two lessons.
    const enrolledAt = new Date(now.getTime() - 3 * DAY_MS);
    em.create(Entitlement, { user: learner, resourceType: 'course', resourceId: course.id, source: 'free', createdAt: enrolledAt });
    em.create(CourseEnrolment, { course, user: learner, enrolledAt, lastLesson: lessons[1]!, lastActivityAt: new Date(now.getTime() - DAY_MS) });
    em.create(ChannelMember, { channel, user: learner });
    for (const lesson of lessons.slice(0, 2)) {
      em.create(LessonProgress, { lesson, user: learner, course, completedAt: new Date(now.getTime() - 2 * DAY_MS), updatedAt: now });
    }
    await em.flush();
  }

  if (!(await em.count(Course, { community, title: DEMO_PAID_COURSE.title }))) {
    const channel = em.create(Channel, { community, kind: 'course', name: null, visibility: 'private', createdBy: instructor });
    const course = em.create(Course, {
      community,
      owner: instructor,
      channel,
      title: DEMO_PAID_COURSE.title,
      summary: DEMO_PAID_COURSE.summary,
      description: DEMO_PAID_COURSE.description,
      level: 'intermediate',
      tags: ['focus', 'study-skills'],
      language: 'en',
      priceMinor: DEMO_PAID_COURSE.priceMinor,
      currency: DEMO_PAID_COURSE.currency,
      status: 'published',
      publishedAt: now,
    });
    em.create(CourseInstructor, { course, user: instructor, role: 'owner' });
    em.create(ChannelMember, { channel, user: instructor });
    const module = em.create(CourseModule, { course, title: 'Focus', position: 0 });
    DEMO_PAID_COURSE.lessons.forEach((lesson, position) =>
      em.create(CourseLesson, {
        course,
        module,
        title: lesson.title,
        kind: 'text',
        body: lesson.body,
        durationMinutes: 5,
        preview: position === 0,
        required: true,
        releaseType: 'immediate',
        position,
      }),
    );
    const { coupon } = DEMO_PAID_COURSE;
    em.create(Coupon, {
      seller: instructor,
      productId: course.id,
      code: coupon.code,
      kind: 'percent',
      percentOff: coupon.percentOff,
      maxRedemptions: coupon.maxRedemptions,
      maxPerUser: coupon.maxPerUser,
    });
    await em.flush();
  }

  if (!(await em.count(Ebook, { community, title: DEMO_EBOOK.title }))) {
    const ebook = em.create(Ebook, {
      community,
      owner: instructor,
      title: DEMO_EBOOK.title,
      author: DEMO_EBOOK.author,
      description: DEMO_EBOOK.description,
      status: 'published',
      publishedAt: now,
    });
    DEMO_EBOOK.chapters.forEach((chapter, position) => em.create(EbookChapter, { ebook, title: chapter.title, body: chapter.body, position }));
    await em.flush();
  }
}
