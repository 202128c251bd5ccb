import type { QuestionDto, QuizInput } from '../../contracts/courses.ts';
import type { StoredQuiz } from '../../orm/entities/courses.ts';

/*
 * A quiz as authors write it and as learners see it. The stored form keeps the answer keys (`correct`, `accepted`);
 * `learnerQuiz` is the only way a quiz leaves the server towards a learner, and it drops them.
 */

/**
 * The stored form of an author's quiz: every question gets an id. A question whose prompt and kind match one of the
 * quiz as it was keeps that question's id, so attempts already made still point at it after an edit.
 */
export function storeQuiz(input: QuizInput, previous: StoredQuiz | null = null): StoredQuiz {
  const unused = [...(previous?.questions ?? [])];
  return {
    questions: input.questions.map((question) => {
      const match = unused.findIndex((old) => old.kind === question.kind && old.prompt === question.prompt);
      const id = match >= 0 ? unused.splice(match, 1)[0]!.id : crypto.randomUUID();
      return question.kind === 'short'
        ? { id, kind: 'short', prompt: question.prompt, options: [], correct: [], accepted: question.accepted }
        : { id, kind: question.kind, prompt: question.prompt, options: question.options, correct: [...question.correct].sort((a, b) => a - b), accepted: [] };
    }),
  };
}

/** The quiz without its answer keys. */
export function learnerQuiz(quiz: StoredQuiz): { questions: QuestionDto[] } {
  return { questions: quiz.questions.map(({ id, kind, prompt, options }) => ({ id, kind, prompt, options: [...options] })) };
}
