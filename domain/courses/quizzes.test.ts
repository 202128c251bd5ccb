import { describe, expect, it } from 'vitest';
import type { StoredQuiz } from '../../orm/entities/courses.ts';
import { question } from '../../test/learningFactories.ts';
import { isAnswerCorrect, normalizeShortAnswer, scoreQuiz } from './quizzes.ts';

const single = question.single('s', 2);
const multiple = question.multiple('m', [0, 3]);
const short = question.short('t', ['Crème brûlée', 'custard']);

describe('scoring one answer', () => {
  it('single choice: exactly the one correct option', () => {
    expect(isAnswerCorrect(single, { questionId: 's', choice: [2] })).toBe(true);
    expect(isAnswerCorrect(single, { questionId: 's', choice: [2, 2] })).toBe(true);
    expect(isAnswerCorrect(single, { questionId: 's', choice: [1] })).toBe(false);
    expect(isAnswerCorrect(single, { questionId: 's', choice: [2, 1] })).toBe(false);
    expect(isAnswerCorrect(single, { questionId: 's', choice: [] })).toBe(false);
    expect(isAnswerCorrect(single, { questionId: 's', text: '2' })).toBe(false);
    expect(isAnswerCorrect(single, undefined)).toBe(false);
  });

  it('multiple choice: all or nothing, in any order', () => {
    expect(isAnswerCorrect(multiple, { questionId: 'm', choice: [3, 0] })).toBe(true);
    expect(isAnswerCorrect(multiple, { questionId: 'm', choice: [0] })).toBe(false);
    expect(isAnswerCorrect(multiple, { questionId: 'm', choice: [0, 3, 1] })).toBe(false);
    expect(isAnswerCorrect(multiple, { questionId: 'm', choice: [0, 1, 2, 3] })).toBe(false);
  });

  it('short answer: any accepted answer, ignoring case, accents and spacing', () => {
    for (const text of ['creme brulee', '  CRÈME   Brûlée ', 'Creme\tbrulee', 'Custard']) expect(isAnswerCorrect(short, { questionId: 't', text })).toBe(true);
    for (const text of ['creme', 'cremebrulee', '', '   ']) expect(isAnswerCorrect(short, { questionId: 't', text })).toBe(false);
    expect(normalizeShortAnswer('  Ångström\u00a0 UNIT ')).toBe('angstrom unit');
  });
});

describe('scoring an attempt', () => {
  const quiz: StoredQuiz = { questions: [single, multiple, short] };

  it('scores the share of right answers rounded down, and passes at the mark compared exactly', () => {
    const twoOfThree = scoreQuiz(quiz, [{ questionId: 's', choice: [2] }, { questionId: 't', text: 'custard' }], 67);
    expect(twoOfThree).toMatchObject({ scorePercent: 66, passed: false });
    expect(twoOfThree.results.map((r) => [r.questionId, r.correct])).toEqual([['s', true], ['m', false], ['t', true]]);
    expect(scoreQuiz(quiz, [{ questionId: 's', choice: [2] }, { questionId: 't', text: 'custard' }], 66).passed).toBe(true);
    expect(scoreQuiz(quiz, [], 0)).toMatchObject({ scorePercent: 0, passed: true });
    const all = scoreQuiz(quiz, [{ questionId: 's', choice: [2] }, { questionId: 'm', choice: [0, 3] }, { questionId: 't', text: 'crème brûlée' }], 100);
    expect(all).toMatchObject({ scorePercent: 100, passed: true });
  });

  it('keeps the key of each question with its result (for later reveal)', () => {
    const { results } = scoreQuiz(quiz, [], 70);
    expect(results).toEqual([
      { questionId: 's', correct: false, correctAnswer: { choice: [2], accepted: [] } },
      { questionId: 'm', correct: false, correctAnswer: { choice: [0, 3], accepted: [] } },
      { questionId: 't', correct: false, correctAnswer: { choice: [], accepted: ['Crème brûlée', 'custard'] } },
    ]);
  });

  it('refuses answers to questions the quiz does not have', () => {
    expect(() => scoreQuiz(quiz, [{ questionId: 'nope', choice: [0] }], 70)).toThrow(/questions this quiz does not have/);
  });
});
