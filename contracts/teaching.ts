import { z } from 'zod';
import { CourseDto } from './courses.ts';
import { EbookDto } from './ebooks.ts';

/**
 * What I teach: the courses I am an instructor of or whose community I own or administer, and the ebooks I wrote or
 * whose community I own or administer — drafts included, most recently changed first.
 */
export const TeachingDto = z
  .object({ courses: z.array(CourseDto), ebooks: z.array(EbookDto) })
  .describe('TeachingDto');
export type TeachingDto = z.infer<typeof TeachingDto>;
