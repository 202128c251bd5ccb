import type { z } from 'zod';
import { AppError } from './errors.ts';

/** Field path → first message, e.g. `{ password: "Password needs at least 10 characters." }`. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  // A Map, not an object literal: field names such as "constructor" or "__proto__" must be reported too.
  const fields = new Map<string, string>();
  const note = (key: string, message: string) => {
    if (!fields.has(key)) fields.set(key, message);
  };
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) note(key, 'Unknown field.');
      continue;
    }
    const key = issue.path.length ? issue.path.join('.') : '_';
    note(key, issue.code === 'invalid_type' && issue.input === undefined ? 'Required.' : issue.message);
  }
  return Object.fromEntries(fields);
}

/** Paths of strings holding NUL, which PostgreSQL text cannot store. */
function nulPaths(value: unknown, path: string, found: string[]): void {
  if (typeof value === 'string') {
    if (value.includes('\u0000')) found.push(path || '_');
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => nulPaths(item, path ? `${path}.${i}` : String(i), found));
  } else if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) nulPaths(item, path ? `${path}.${key}` : key, found);
  }
}

/**
 * Parses input with a contracts/ schema or throws `invalid_input` naming every bad field. Strings holding NUL are
 * refused here, for every REST body, query and socket event alike, rather than failing later in the database.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) {
    const nul: string[] = [];
    nulPaths(result.data, '', nul);
    if (!nul.length) return result.data;
    throw new AppError('invalid_input', 'Text cannot contain NUL characters.', {
      details: { fields: Object.fromEntries(nul.map((field) => [field, 'Contains a NUL character.'])) },
    });
  }
  const fields = fieldErrors(result.error);
  const summary = Object.entries(fields)
    .slice(0, 3)
    .map(([field, message]) => (field === '_' ? message : `${field}: ${message}`))
    .join(' ');
  throw new AppError('invalid_input', summary || 'The request is not valid.', { details: { fields } });
}
