import { describe, expect, it } from 'vitest';
import { SendMessageInput } from '../../contracts/chat.ts';
import { isAppError } from './errors.ts';
import { parseInput } from './validate.ts';

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (isAppError(err)) return err.toBody();
    throw err;
  }
  throw new Error('expected a refusal');
};

describe('parseInput', () => {
  it('refuses text holding NUL anywhere in the input, naming the field (PostgreSQL text cannot store it)', () => {
    const body = refusal(() => parseInput(SendMessageInput, { channelId: crypto.randomUUID(), clientId: 'client-0001', body: 'hi\u0000there' }));
    expect(body).toMatchObject({ code: 'invalid_input', details: { fields: { body: 'Contains a NUL character.' } } });
  });

  it('passes ordinary input through', () => {
    const input = { channelId: crypto.randomUUID(), clientId: 'client-0001', body: 'hello ✓ — ok' };
    expect(parseInput(SendMessageInput, input)).toEqual(input);
  });
});
