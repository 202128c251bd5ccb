import { escapeHtml } from '../content/escapeHtml.ts';

/*
 * Highlighted snippets. The engines mark matches with two control characters that cannot occur in indexed text
 * (the text is stored as written, and these are stripped from it here first); the snippet is HTML-escaped and the
 * markers become `<mark>` tags, so the only markup a client ever receives is ours.
 */

export const SNIPPET_START = '\u0002';
export const SNIPPET_STOP = '\u0003';
const SNIPPET_LENGTH = 220;

/** `text` with the engine's markers turned into `<mark>`, everything else escaped. */
export function highlightedSnippet(marked: string): string {
  let out = '';
  let open = false;
  let text = '';
  const flush = () => {
    out += escapeHtml(text.replace(/\s+/g, ' '));
    text = '';
  };
  for (const char of marked) {
    if (char === SNIPPET_START || char === SNIPPET_STOP) {
      flush();
      if (char === SNIPPET_START && !open) out += '<mark>';
      if (char === SNIPPET_STOP && open) out += '</mark>';
      open = char === SNIPPET_START;
    } else {
      text += char;
    }
  }
  flush();
  return open ? `${out}</mark>` : out;
}

/** The start of `text`, cut at a word, escaped (an item that matched on its title or with no words typed). */
export function plainSnippet(text: string): string {
  const flat = text.replaceAll(SNIPPET_START, '').replaceAll(SNIPPET_STOP, '').replace(/\s+/g, ' ').trim();
  if (flat.length <= SNIPPET_LENGTH) return escapeHtml(flat);
  const cut = flat.slice(0, SNIPPET_LENGTH);
  const space = cut.lastIndexOf(' ');
  return `${escapeHtml((space > SNIPPET_LENGTH / 2 ? cut.slice(0, space) : cut).trimEnd())}…`;
}
