import { describe, expect, it } from 'vitest';
import { minorToPrice, parseLessonForm, priceToMinor } from './forms.ts';

function form(entries: Record<string, string>): FormData {
  const data = new FormData();
  for (const [key, value] of Object.entries(entries)) data.set(key, value);
  return data;
}

describe('the price field', () => {
  it('reads amounts with up to two decimals, empty as free, and writes them back', () => {
    expect(priceToMinor('19.9')).toBe(1990);
    expect(priceToMinor('19,95')).toBe(1995);
    expect(priceToMinor('')).toBe(0);
    expect(priceToMinor('1.999')).toBeNull();
    expect(priceToMinor('-3')).toBeNull();
    expect(minorToPrice(1990)).toBe('19.90');
    expect(minorToPrice(0)).toBe('');
  });
});

describe('the lesson form', () => {
  it('turns the drip fields into a release', () => {
    const parsed = parseLessonForm(form({ title: 'Week two', body: '', releaseType: 'afterEnrolment', releaseDays: '7', required: 'on' }), 'text');
    expect(parsed.ok && parsed.input).toMatchObject({ title: 'Week two', release: { type: 'afterEnrolment', days: 7 }, required: true, preview: false });
    const dated = parseLessonForm(form({ title: 'Launch', releaseType: 'onDate', releaseAt: '2030-01-02T09:30', tzOffset: '-60' }), 'text');
    expect(dated.ok && dated.input.release).toEqual({ type: 'onDate', at: '2030-01-02T08:30:00.000Z' });
  });

  it('says which field is wrong: days, pass mark, and the quiz question', () => {
    const parsed = parseLessonForm(
      form({ title: 'Quiz', releaseType: 'afterEnrolment', releaseDays: 'soon', passPercent: '120', quiz: JSON.stringify({ questions: [{ kind: 'single', prompt: 'Q', options: ['a'], correct: [0] }] }) }),
      'quiz',
    );
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.failure.fieldErrors.releaseDays).toBe('Enter the number of days after enrolment.');
    expect(parsed.failure.fieldErrors.passPercent).toMatch(/pass mark/);
    expect(parsed.failure.fieldErrors.quiz).toBe('Question 1: A question needs at least 2 options.');
  });
});
