import { describe, expect, it } from 'vitest';
import { splitBodyLinks } from './outbox.ts';

describe('splitBodyLinks', () => {
  it('turns verification links into same-origin paths and keeps the text around them', () => {
    const parts = splitBodyLinks('Hi!\nConfirm: https://edulure.example/verify-email?token=abc.def_1.\nThanks');
    expect(parts).toEqual([
      { kind: 'text', text: 'Hi!\nConfirm: ' },
      { kind: 'link', href: '/verify-email?token=abc.def_1', text: 'https://edulure.example/verify-email?token=abc.def_1' },
      { kind: 'text', text: '.\nThanks' },
    ]);
  });

  it('leaves other links absolute', () => {
    const parts = splitBodyLinks('See https://docs.example/help');
    expect(parts[1]).toEqual({ kind: 'link', href: 'https://docs.example/help', text: 'https://docs.example/help' });
  });

  it('returns plain text untouched', () => {
    expect(splitBodyLinks('no links here')).toEqual([{ kind: 'text', text: 'no links here' }]);
  });
});
