export type BodyPart = { kind: 'text'; text: string } | { kind: 'link'; href: string; text: string };

const URL_PATTERN = /https?:\/\/[^\s<>"']+/g;

/**
 * Splits a plain-text e-mail body into text and links so the dev outbox can make links clickable without rendering
 * mail HTML. A link back into this app becomes a same-origin path, so it works even when the mail was written with a
 * different PUBLIC_URL than the one the developer browses.
 */
export function splitBodyLinks(body: string, appPaths: readonly string[] = ['/verify-email', '/reset-password', '/confirm-email']): BodyPart[] {
  const parts: BodyPart[] = [];
  let last = 0;
  for (const match of body.matchAll(URL_PATTERN)) {
    const start = match.index;
    // Trailing punctuation belongs to the sentence, not the URL.
    const raw = match[0].replace(/[).,;:!?]+$/, '');
    if (start > last) parts.push({ kind: 'text', text: body.slice(last, start) });
    parts.push({ kind: 'link', href: toAppHref(raw, appPaths), text: raw });
    last = start + raw.length;
  }
  if (last < body.length) parts.push({ kind: 'text', text: body.slice(last) });
  return parts;
}

function toAppHref(raw: string, appPaths: readonly string[]): string {
  try {
    const url = new URL(raw);
    if (appPaths.some((p) => url.pathname === p || url.pathname.startsWith(`${p}/`))) {
      return url.pathname + url.search + url.hash;
    }
    return url.href;
  } catch {
    return raw;
  }
}
