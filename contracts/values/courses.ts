// Plain values the course schemas (../courses.ts) are built from and the web client checks against. No zod here.

export const COURSE_LEVELS = ['beginner', 'intermediate', 'advanced'] as const;
export type CourseLevel = (typeof COURSE_LEVELS)[number];
