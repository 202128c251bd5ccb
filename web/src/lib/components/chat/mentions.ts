const escapeRegExp = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const escapeHtml = (value: string) =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** `@Name` as a whole word (what the server resolves), case-insensitively. */
function mentionPattern(name: string): RegExp {
  return new RegExp(`@${escapeRegExp(name)}(?![\\p{L}\\p{N}_])`, 'giu');
}

export interface TextPart {
  text: string;
  mention: boolean;
}

/** A plain body cut into text and the places it mentions `name`. */
export function splitMentions(body: string, name: string): TextPart[] {
  const parts: TextPart[] = [];
  let last = 0;
  for (const match of body.matchAll(mentionPattern(name))) {
    if (match.index > last) parts.push({ text: body.slice(last, match.index), mention: false });
    parts.push({ text: match[0], mention: true });
    last = match.index + match[0].length;
  }
  if (last < body.length) parts.push({ text: body.slice(last), mention: false });
  return parts;
}

export const MENTION_CLASS = 'rounded bg-amber-100 px-0.5 font-semibold text-amber-950';

/**
 * The server's safe HTML with `@name` marked in its text (never inside a tag): only escaped text is wrapped, so the
 * result stays as safe as the input.
 */
export function markMentionsInHtml(html: string, name: string): string {
  const pattern = new RegExp(mentionPattern(escapeHtml(name)).source, 'giu');
  return html
    .split(/(<[^>]*>)/)
    .map((part) => (part.startsWith('<') ? part : part.replace(pattern, (m) => `<mark class="${MENTION_CLASS}" data-testid="mention-me">${m}</mark>`)))
    .join('');
}
