import { describe, expect, it } from 'vitest';
import { RegisterInput } from '$contracts/auth.ts';
import {
  CHECK_FIELDS_MESSAGE,
  failureFromApi,
  fieldErrorsFromApi,
  fieldErrorsFromIssues,
  generalMessage,
  safeNextPath,
  timeoutSentence,
} from './forms.ts';

describe('fieldErrorsFromApi', () => {
  it('maps details.fields of invalid_input to field messages', () => {
    const errors = fieldErrorsFromApi({
      code: 'invalid_input',
      message: 'The request is not valid.',
      details: { fields: { password: 'Password is too common.', email: ['Enter a valid e-mail address.'] } },
    });
    expect(errors).toEqual({ password: 'Password is too common.', email: 'Enter a valid e-mail address.' });
  });

  it('ignores other codes and malformed details', () => {
    expect(fieldErrorsFromApi({ code: 'conflict', message: 'x', details: { fields: { email: 'taken' } } })).toEqual({});
    expect(fieldErrorsFromApi({ code: 'invalid_input', message: 'x', details: 'nope' })).toEqual({});
    expect(fieldErrorsFromApi({ code: 'invalid_input', message: 'x', details: { fields: { a: 3, b: '' } } })).toEqual({});
  });
});

describe('generalMessage', () => {
  it('tells how long to wait when rate limited', () => {
    expect(generalMessage({ code: 'rate_limited', message: 'Slow down', retryAfter: 41.2 })).toBe(
      'Too many attempts, try again in 42 s',
    );
    expect(generalMessage({ code: 'rate_limited', message: 'Slow down' })).toBe('Too many attempts, try again in a moment.');
  });

  it('passes the API message through for expected failures', () => {
    expect(generalMessage({ code: 'unauthenticated', message: 'E-mail or password is incorrect.' })).toBe(
      'E-mail or password is incorrect.',
    );
  });

  it('does not echo internals for server failures', () => {
    expect(generalMessage({ code: 'internal', message: 'boom at line 3' })).not.toContain('boom');
  });
});

describe('failureFromApi', () => {
  const fields = ['displayName', 'email', 'password'];

  it('puts field errors beside fields and a summary above the form', () => {
    const failure = failureFromApi(
      { code: 'invalid_input', message: 'Invalid', details: { fields: { password: 'Too weak.' } } },
      { email: 'a@b.c' },
      fields,
    );
    expect(failure).toEqual({ values: { email: 'a@b.c' }, fieldErrors: { password: 'Too weak.' }, message: CHECK_FIELDS_MESSAGE });
  });

  it('folds errors for fields the form does not show into the general message', () => {
    const failure = failureFromApi(
      { code: 'invalid_input', message: 'Invalid input.', details: { fields: { captcha: 'Solve it.' } } },
      {},
      fields,
    );
    expect(failure.fieldErrors).toEqual({});
    expect(failure.message).toBe('Invalid input. Solve it.');
  });

  it('shows a conflict beside the field that caused it', () => {
    const failure = failureFromApi({ code: 'conflict', message: 'That e-mail is taken.' }, {}, fields, 'email');
    expect(failure.fieldErrors).toEqual({ email: 'That e-mail is taken.' });
    expect(failure.message).toBe('That e-mail is taken.');
  });
});

describe('fieldErrorsFromIssues', () => {
  it('keeps the first message per field from the shared schema', () => {
    const parsed = RegisterInput.safeParse({ email: 'nope', password: 'x', displayName: 'a' });
    expect(parsed.success).toBe(false);
    const errors = fieldErrorsFromIssues(parsed.error!.issues);
    expect(errors.email).toBe('Enter a valid e-mail address.');
    expect(errors.displayName).toBe('Display name needs at least 2 characters.');
    expect(errors.password).toBeUndefined();
  });
});

describe('safeNextPath', () => {
  it('keeps paths inside the app', () => {
    expect(safeNextPath('/app/sessions?tab=1')).toBe('/app/sessions?tab=1');
    expect(safeNextPath('/app')).toBe('/app');
  });

  it('refuses anything that could leave the app', () => {
    for (const hostile of ['//evil.example/app', 'https://evil.example/app', '/app\\..\\', '/apple', '/signin', '', null]) {
      expect(safeNextPath(hostile)).toBe('/app');
    }
    expect(safeNextPath('/app/../admin')).toBe('/app');
  });
});

describe('timeouts', () => {
  it('says until when in words, and leaves other refusals as the API put them', () => {
    const timedOut = {
      code: 'forbidden' as const,
      message: 'You are timed out in this community until 2026-01-01T12:00:00.000Z.',
      details: { timedOutUntil: '2026-01-01T12:00:00.000Z' },
    };
    expect(timeoutSentence(timedOut)).toMatch(/^You are timed out in this community until .*2026.*\.$/);
    expect(timeoutSentence(timedOut)).not.toContain('T12:00:00');
    expect(generalMessage(timedOut)).toBe(timeoutSentence(timedOut));
    expect(generalMessage({ code: 'forbidden', message: 'Only admins can do that.' })).toBe('Only admins can do that.');
  });
});
