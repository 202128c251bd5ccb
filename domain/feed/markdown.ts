/*
 * The markdown subset of posts and comments (see contracts/feed.ts): paragraphs, line breaks, **bold**, *italic*,
 * `code`, fenced code blocks, "- " lists, "> " quotes and http(s) links ([text](url) or a bare URL).
 *
 * Safety comes from the order of work: the whole source is HTML-escaped first, and only then are the subset's markers
 * turned into a fixed set of tags without attributes — except links, whose href is an escaped http(s) URL. Nothing
 * from the source can open a tag, an attribute or a non-http(s) URL, so the output is safe to insert as HTML.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/**
 * Placeholders keep finished HTML (code, links) away from later passes. The marker is a private-use character, removed
 * from the source first, so no source text can forge or break a placeholder.
 */
const SLOT = '\uE000';
const SLOT_PATTERN = /\uE000(\d+)\uE000/g;

/**
 * An http(s) URL in escaped text: no whitespace, quotes, angle brackets or parentheses; `&amp;` is the one entity a URL
 * may carry. Trailing punctuation belongs to the sentence, not the link.
 */
const URL_BODY = String.raw`https?:\/\/(?:[^\s&<>"'()\[\]\uE000]|&amp;)+`;
const LINK = new RegExp(String.raw`\[([^\]\uE000\n]+)\]\((${URL_BODY})\)`, 'g');
const BARE_URL = new RegExp(URL_BODY, 'g');
const TRAILING_PUNCTUATION = /[.,;:!?]+$/;

function anchor(href: string, label: string): string {
  return `<a href="${href}" rel="nofollow noopener noreferrer" target="_blank">${label}</a>`;
}

function emphasis(text: string): string {
  return text
    .replace(/\*\*(?=\S)([^*]*?\S)\*\*/g, '<strong>$1</strong>')
    .replace(/\*(?=\S)([^*]*?\S)\*/g, '<em>$1</em>');
}

/** Inline markup over already-escaped text of one block; newlines become <br>. */
function inline(escaped: string): string {
  const slots: string[] = [];
  const keep = (html: string) => `${SLOT}${slots.push(html) - 1}${SLOT}`;
  let text = escaped.replace(/`([^`\n]+)`/g, (_m, code: string) => keep(`<code>${code}</code>`));
  text = text.replace(LINK, (_m, label: string, href: string) => keep(anchor(href, emphasis(label))));
  text = text.replace(BARE_URL, (url: string) => {
    const trailing = TRAILING_PUNCTUATION.exec(url)?.[0] ?? '';
    const href = url.slice(0, url.length - trailing.length);
    return keep(anchor(href, href)) + trailing;
  });
  text = emphasis(text).replace(/\n/g, '<br>');
  // A slot may hold a link whose label holds nothing but text, so one pass restores everything.
  return text.replace(SLOT_PATTERN, (_m, i: string) => slots[Number(i)]!);
}

type Block = { kind: 'p' | 'quote' | 'list'; lines: string[] } | { kind: 'code'; lines: string[] };

function blocksOf(source: string): Block[] {
  const blocks: Block[] = [];
  const lines = source.split('\n');
  let current: Block | null = null;
  const close = () => {
    if (current) blocks.push(current);
    current = null;
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*```/.test(line)) {
      close();
      const code: string[] = [];
      // An unclosed fence runs to the end, as in common renderers.
      for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]!); i++) code.push(lines[i]!);
      blocks.push({ kind: 'code', lines: code });
      continue;
    }
    if (line.trim() === '') {
      close();
      continue;
    }
    const list = /^\s*- (.*)$/.exec(line);
    // The source is escaped already: a quote marker reads `&gt;` here.
    const quote = /^\s*&gt; ?(.*)$/.exec(line);
    const kind = list ? 'list' : quote ? 'quote' : 'p';
    const content = list ? list[1]! : quote ? quote[1]! : line;
    if (current === null || (current as Block).kind !== kind) {
      close();
      current = { kind, lines: [] };
    }
    (current as Block).lines.push(content);
  }
  close();
  return blocks;
}

/** Renders the markdown subset to safe HTML. */
export function renderMarkdown(source: string): string {
  const escaped = escapeHtml(source.replace(/\r\n?/g, '\n').replace(/\uE000/g, ''));
  return blocksOf(escaped)
    .map((block) => {
      switch (block.kind) {
        case 'code':
          return `<pre><code>${block.lines.join('\n')}</code></pre>`;
        case 'list':
          return `<ul>${block.lines.map((l) => `<li>${inline(l)}</li>`).join('')}</ul>`;
        case 'quote':
          return `<blockquote><p>${inline(block.lines.join('\n'))}</p></blockquote>`;
        default:
          return `<p>${inline(block.lines.join('\n'))}</p>`;
      }
    })
    .join('');
}
