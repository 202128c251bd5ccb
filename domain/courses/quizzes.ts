import { sql, type Selectable } from 'kysely';
import {
  DEFAULT_PASS_PERCENT,
  type AttemptEnvelope,
  type AttemptList,
  type CorrectAnswerDto,
  type QuizAnswerInput,
  type QuizAttemptDto,
  type SubmitAttemptInput,
} from '../../contracts/courseLearning.ts';
import type { StoredQuiz } from '../../orm/entities/courses.ts';
import { db, jsonb, type DB, type Db } from '../../orm/db.ts';
import { authorizeLesson, lessonAvailability, type CourseAccess, type Lesson } from '../access/course.ts';
import type { Actor, Deps } from '../shared/deps.ts';
import { AppError, isUniqueViolation } from '../shared/errors.ts';
import { announceProgress, completeLessonInTx } from './progress.ts';

/*
 * Quiz attempts. Scoring rules:
 * - single choice: right when exactly the one correct option is chosen;
 * - multiple choice: all or nothing — right when the chosen set is exactly the correct set (partial credit would
 *   reward ticking every box);
 * - short answer: right when it matches one of the accepted answers ignoring case, accents and spacing.
 * An unanswered question is wrong. The score is the share of right answers, rounded down (so it never shows the pass
 * mark unless reached); the attempt passes at `pass_percent` (DEFAULT_PASS_PERCENT when the lesson sets none).
 *
 * Answer keys: each attempt stores, with its results, the key as it was when it was taken; a learner sees which
 * questions they got right at once, and the right answers only once they cannot use them to pass any more — after a
 * passing attempt, or when no attempts are left. Nothing here ever returns the key before an attempt.
 *
 * Attempts are numbered per learner and lesson under a lock on the learner's enrolment row, so concurrent submissions
 * are counted one after another and never exceed `max_attempts`; the unique (lesson, user, attempt_no) backs it up.
 * A passing attempt completes the lesson (and may earn the certificate) in the same transaction. After a pass the
 * quiz is done: more attempts are refused.
 */

type Question = StoredQuiz['questions'][number];

/** What one attempt stores per question (the key included; presenters decide whether to show it). */
export interface StoredResult {
  questionId: string;
  correct: boolean;
  correctAnswer: CorrectAnswerDto;
}

/** Lower case, no accents, single spaces, trimmed: "  Crème  Brûlée " and "creme brulee" compare equal. */
export function normalizeShortAnswer(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLocaleLowerCase('en').replace(/\s+/g, ' ').trim();
}

const sameSet = (a: readonly number[], b: readonly number[]) => {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
};

export function isAnswerCorrect(question: Question, answer: QuizAnswerInput | undefined): boolean {
  if (!answer) return false;
  switch (question.kind) {
    case 'single':
      return answer.choice !== undefined && question.correct.length === 1 && sameSet(answer.choice, question.correct);
    case 'multiple':
      return answer.choice !== undefined && answer.choice.length > 0 && sameSet(answer.choice, question.correct);
    case 'short': {
      const given = normalizeShortAnswer(answer.text ?? '');
      return given !== '' && question.accepted.some((accepted) => normalizeShortAnswer(accepted) === given);
    }
  }
}

export interface QuizScore {
  scorePercent: number;
  passed: boolean;
  results: StoredResult[];
}

/** Scores answers against the quiz. Answers to questions the quiz does not have are refused. */
export function scoreQuiz(quiz: StoredQuiz, answers: readonly QuizAnswerInput[], passPercent: number): QuizScore {
  const byQuestion = new Map(answers.map((a) => [a.questionId, a]));
  const known = new Set(quiz.questions.map((q) => q.id));
  const unknown = answers.filter((a) => !known.has(a.questionId)).map((a) => a.questionId);
  if (unknown.length) {
    throw new AppError('invalid_input', 'Some answers are to questions this quiz does not have.', {
      details: { fields: { answers: `Unknown question ids: ${unknown.join(', ')}` } },
    });
  }
  const results = quiz.questions.map((question) => ({
    questionId: question.id,
    correct: isAnswerCorrect(question, byQuestion.get(question.id)),
    correctAnswer: { choice: question.kind === 'short' ? [] : [...question.correct], accepted: question.kind === 'short' ? [...question.accepted] : [] },
  }));
  const right = results.filter((r) => r.correct).length;
  const total = results.length;
  return {
    scorePercent: total === 0 ? 0 : Math.floor((right * 100) / total),
    // Compared in integers, so 2 of 3 against 67 % is a fail whatever the rounding.
    passed: total > 0 && right * 100 >= passPercent * total,
    results,
  };
}

export const passPercentOf = (lesson: Pick<Lesson, 'pass_percent'>) => lesson.pass_percent ?? DEFAULT_PASS_PERCENT;

type AttemptRow = Pick<Selectable<DB['quiz_attempts']>, 'attempt_no' | 'score_percent' | 'passed' | 'results' | 'created_at'>;

export function presentAttempt(row: AttemptRow, revealed: boolean): QuizAttemptDto {
  const results = row.results as StoredResult[];
  return {
    attemptNo: row.attempt_no,
    scorePercent: row.score_percent,
    passed: row.passed,
    results: results.map((r) => ({ questionId: r.questionId, correct: r.correct, correctAnswer: revealed ? r.correctAnswer : null })),
    submittedAt: row.created_at.toISOString(),
  };
}

/** How the learner stands: attempts left (null: unlimited), passed, and whether the keys may be shown. */
function standing(lesson: Lesson, attempts: number, passed: boolean) {
  const attemptsLeft = lesson.max_attempts === null ? null : Math.max(0, lesson.max_attempts - attempts);
  return { passPercent: passPercentOf(lesson), attemptsLeft, passed, answersRevealed: passed || attemptsLeft === 0 };
}

/** The quiz lesson, for a learner who may open it now: entitled, enrolled and released (drip). */
async function authorizeQuiz(q: Db, actor: Actor, lessonId: string, now: Date): Promise<{ course: CourseAccess; lesson: Lesson; quiz: StoredQuiz }> {
  const { course, lesson } = await authorizeLesson(q, actor, lessonId, 'learn');
  if (lesson.kind !== 'quiz' || !lesson.quiz) throw new AppError('not_found', 'This lesson has no quiz.');
  if (!course.enrolment) throw new AppError('forbidden', 'Enrol in this course to take its quizzes.');
  const { open, availableAt } = lessonAvailability(lesson, course.enrolment.enrolled_at, now);
  if (!open) {
    throw new AppError('forbidden', availableAt ? `This lesson opens on ${availableAt.toISOString()}.` : 'This lesson is not open yet.', {
      details: { availableAt: availableAt?.toISOString() ?? null },
    });
  }
  return { course, lesson, quiz: lesson.quiz };
}

/** Submits one attempt; a pass completes the lesson (progress:updated follows) and may issue the certificate. */
export async function submitAttempt(deps: Deps, actor: Actor, lessonId: string, input: SubmitAttemptInput): Promise<AttemptEnvelope> {
  const now = deps.clock.now();
  const userId = actor.userId;
  let outcome;
  try {
    outcome = await deps.orm.em.fork().transactional(async (tx) => {
      const q = db(tx);
      const { lesson, quiz } = await authorizeQuiz(q, actor, lessonId, now);
      if (quiz.questions.length === 0) throw new AppError('conflict', 'This quiz has no questions yet.');
      // Attempts of one learner are numbered one at a time (see above).
      const locked = await q
        .selectFrom('course_enrolments')
        .select('user_id')
        .where('course_id', '=', lesson.course_id)
        .where('user_id', '=', userId)
        .forUpdate()
        .executeTakeFirst();
      if (!locked) throw new AppError('forbidden', 'Enrol in this course to take its quizzes.');
      const prior = await q
        .selectFrom('quiz_attempts')
        .select([sql<number>`count(*)::int`.as('count'), sql<boolean>`coalesce(bool_or(passed), false)`.as('passed')])
        .where('lesson_id', '=', lessonId)
        .where('user_id', '=', userId)
        .executeTakeFirstOrThrow();
      if (prior.passed) throw new AppError('conflict', 'You already passed this quiz.');
      if (lesson.max_attempts !== null && prior.count >= lesson.max_attempts) {
        throw new AppError('conflict', `No attempts left: this quiz allows ${lesson.max_attempts}.`, { details: { attemptsLeft: 0 } });
      }
      const score = scoreQuiz(quiz, input.answers, passPercentOf(lesson));
      const row = await q
        .insertInto('quiz_attempts')
        .values({
          id: crypto.randomUUID(),
          lesson_id: lessonId,
          course_id: lesson.course_id,
          user_id: userId,
          attempt_no: prior.count + 1,
          answers: jsonb(input.answers),
          results: jsonb(score.results),
          score_percent: score.scorePercent,
          passed: score.passed,
          created_at: now,
        })
        .returning(['attempt_no', 'score_percent', 'passed', 'results', 'created_at'])
        .executeTakeFirstOrThrow();
      let progress = null;
      if (score.passed) {
        // Completes the lesson and issues the certificate if this was the last requirement.
        progress = await completeLessonInTx(deps, tx, { courseId: lesson.course_id, lessonId, userId, at: now });
      }
      return { row, lesson, attempts: prior.count + 1, progress };
    });
  } catch (err) {
    if (isUniqueViolation(err, 'quiz_attempts_number_unique')) throw new AppError('conflict', 'Another attempt was submitted at the same time.');
    throw err;
  }
  if (outcome.progress?.changed) await announceProgress(deps, userId, outcome.progress.progress, lessonId);
  const state = standing(outcome.lesson, outcome.attempts, outcome.row.passed);
  return { attempt: presentAttempt(outcome.row, state.answersRevealed), ...state };
}

/** My attempts at a quiz, first to last. */
export async function listMyAttempts(deps: Deps, actor: Actor, lessonId: string): Promise<AttemptList> {
  const q = db(deps.orm.em.fork());
  const { lesson } = await authorizeQuiz(q, actor, lessonId, deps.clock.now());
  const rows = await q
    .selectFrom('quiz_attempts')
    .select(['attempt_no', 'score_percent', 'passed', 'results', 'created_at'])
    .where('lesson_id', '=', lessonId)
    .where('user_id', '=', actor.userId)
    .orderBy('attempt_no')
    .execute();
  const state = standing(lesson, rows.length, rows.some((r) => r.passed));
  return { data: rows.map((row) => presentAttempt(row, state.answersRevealed)), ...state };
}
