import { z } from 'zod';
import { CLASSROOM_STATUSES } from './classrooms.ts';
import { UserRef } from './communities.ts';

/*
 * The home dashboard: one answer with everything the signed-in person's home page shows. Every section is read
 * through the access rules of what it lists, so nothing appears here that its own page would refuse.
 */

/** How many rows each list of the dashboard holds at most. */
export const DASHBOARD_LIMITS = { courses: 4, ebooks: 3, classes: 5, channels: 6, activity: 5, teachingCourses: 5 } as const;
/** "Soon": classes starting within this many days (live ones whenever they began). */
export const DASHBOARD_CLASS_DAYS = 7;
/** Instructors' "new enrolments" count those of the last this many days. */
export const DASHBOARD_ENROLMENT_DAYS = 7;

/** A course I am enrolled in and have not finished, with the lesson to continue with. */
export const DashboardCourseDto = z
  .object({
    courseId: z.uuid(),
    title: z.string(),
    percent: z.number().int().min(0).max(100),
    /** The first open, unfinished lesson from where I left off; null when nothing is open right now. */
    nextLesson: z.object({ id: z.uuid(), title: z.string() }).nullable(),
  })
  .describe('DashboardCourse');
export type DashboardCourseDto = z.infer<typeof DashboardCourseDto>;

/** An ebook I have a reading position in and may still read. */
export const DashboardEbookDto = z
  .object({
    ebookId: z.uuid(),
    title: z.string(),
    chapterId: z.uuid(),
    chapterTitle: z.string(),
    readAt: z.iso.datetime(),
  })
  .describe('DashboardEbook');
export type DashboardEbookDto = z.infer<typeof DashboardEbookDto>;

/** A class starting soon (or live) in one of my communities. */
export const DashboardClassDto = z
  .object({
    id: z.uuid(),
    communityId: z.uuid(),
    communityName: z.string(),
    title: z.string(),
    startsAt: z.iso.datetime(),
    durationMinutes: z.number().int(),
    status: z.enum(CLASSROOM_STATUSES),
    host: UserRef,
    myRole: z.enum(['host', 'cohost', 'learner']).nullable(),
    myRegistration: z.enum(['registered', 'waitlisted', 'held']).nullable(),
    /** Live, and I may come in (host, co-host or registered). */
    canJoin: z.boolean(),
  })
  .describe('DashboardClass');
export type DashboardClassDto = z.infer<typeof DashboardClassDto>;

/** A channel or direct message with messages I have not read. */
export const DashboardChannelDto = z
  .object({
    id: z.uuid(),
    kind: z.enum(['channel', 'dm', 'group_dm', 'course']),
    /** `#name` for a community channel; the other people for a DM; the course for a course discussion. */
    name: z.string(),
    communityId: z.uuid().nullable(),
    communityName: z.string().nullable(),
    /** The course of a course discussion. */
    courseId: z.uuid().nullable(),
    unreadCount: z.number().int(),
    mentionCount: z.number().int(),
  })
  .describe('DashboardChannel');
export type DashboardChannelDto = z.infer<typeof DashboardChannelDto>;

export const DashboardUnreadDto = z
  .object({
    notifications: z.number().int(),
    /** Channels with unread messages, those with mentions first, then by how much is unread. */
    channels: z.array(DashboardChannelDto),
    /** Across every channel I read, not only those listed. */
    totalMentions: z.number().int(),
  })
  .describe('DashboardUnread');
export type DashboardUnreadDto = z.infer<typeof DashboardUnreadDto>;

/** A recent post in one of my communities. */
export const DashboardPostDto = z
  .object({
    id: z.uuid(),
    communityId: z.uuid(),
    communityName: z.string(),
    author: UserRef,
    /** The start of the post's text, without markdown. */
    excerpt: z.string(),
    createdAt: z.iso.datetime(),
  })
  .describe('DashboardPost');
export type DashboardPostDto = z.infer<typeof DashboardPostDto>;

/** Per course I teach: how many learners enrolled lately, how many submissions wait for a grade. */
export const DashboardTeachingCourseDto = z
  .object({ courseId: z.uuid(), title: z.string(), newEnrolments: z.number().int(), toGrade: z.number().int() })
  .describe('DashboardTeachingCourse');
export type DashboardTeachingCourseDto = z.infer<typeof DashboardTeachingCourseDto>;

/** Only for instructors: people who teach a course or host (or co-host) a class. */
export const DashboardTeachingDto = z
  .object({
    nextClass: DashboardClassDto.nullable(),
    newEnrolments: z.number().int(),
    toGrade: z.number().int(),
    /** Courses with something new or waiting, the most waiting first. */
    courses: z.array(DashboardTeachingCourseDto),
  })
  .describe('DashboardTeaching');
export type DashboardTeachingDto = z.infer<typeof DashboardTeachingDto>;

export const DashboardDto = z
  .object({
    courses: z.array(DashboardCourseDto),
    ebooks: z.array(DashboardEbookDto),
    classes: z.array(DashboardClassDto),
    unread: DashboardUnreadDto,
    activity: z.array(DashboardPostDto),
    /** How many communities I belong to: none means the page guides me to join one. */
    communityCount: z.number().int(),
    teaching: DashboardTeachingDto.nullable(),
  })
  .describe('Dashboard');
export type DashboardDto = z.infer<typeof DashboardDto>;
