import { describe, expect, it } from 'vitest';
import { mentionCandidates } from './mentions.ts';

/* The names a message could mention, looked up by equality instead of testing every user's name against the body. */
describe('mention candidates', () => {
  it('takes one to six words after each @, as written and without trailing punctuation', () => {
    expect(mentionCandidates('Morning @Bea Quinn, the notes are up')).toEqual([
      'Bea',
      'Bea Quinn,',
      'Bea Quinn',
      'Bea Quinn, the',
      'Bea Quinn, the notes',
      'Bea Quinn, the notes are',
      'Bea Quinn, the notes are up',
    ]);
    expect(mentionCandidates('@Ada! and @Zoë.')).toEqual(expect.arrayContaining(['Ada!', 'Ada', 'Zoë.', 'Zoë', 'Ada! and']));
    expect(mentionCandidates('line one\n@Bench 12')).toEqual(['Bench', 'Bench 12']);
  });

  it('finds nothing without an @, and bounds the work for a body full of them', () => {
    expect(mentionCandidates('no one named here')).toEqual([]);
    expect(mentionCandidates('@')).toEqual([]);
    const many = mentionCandidates('@a '.repeat(2000));
    expect(many.length).toBeLessThanOrEqual(50 * 7 * 2);
    expect(mentionCandidates('x'.repeat(70) + ' @' + 'y'.repeat(100))).toEqual(['y'.repeat(64)]);
  });
});
