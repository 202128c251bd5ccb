import { z } from 'zod';
import { AppError } from '../shared/errors.ts';

/**
 * Keyset cursors: the sort key of the last row returned, as opaque base64url JSON. The next page starts strictly after
 * that key, so rows inserted between pages never cause duplicates and existing rows are never skipped.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor<S extends z.ZodType>(schema: S, cursor: string | undefined): z.output<S> | undefined {
  if (cursor === undefined || cursor === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    json = undefined;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new AppError('invalid_input', 'The cursor is not valid; start again without one.', {
      details: { fields: { cursor: 'Not a cursor from this list.' } },
    });
  }
  return parsed.data;
}

/** Escapes LIKE wildcards so a search for "50%" matches the text literally (backslash is the default escape). */
export function likeContains(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
