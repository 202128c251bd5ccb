import sanitizeHtml from 'sanitize-html';
import { textContentOf } from './watermark.ts';

/*
 * An EPUB chapter's XHTML as markdown that means what the book meant and nothing more: headings, paragraphs, emphasis,
 * lists, quotes, line breaks and code; everything else keeps only its text. Two steps, so the second never sees
 * anything dangerous:
 * 1. sanitize-html keeps only those tags, without a single attribute, and drops scripts, styles, the head, SVG, MathML
 *   and images together with whatever they contain. Its output is well-formed and escapes every `<` of the text.
 * 2. A small tree walk over that output writes markdown, escaping every character of the text that markdown would
 *   read as syntax, so text stays text (no links, images or HTML can be smuggled in through it).
 */

const BLOCKS = ['p', 'div', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'li', 'blockquote', 'pre', 'hr', 'tr', 'section', 'article'];
const INLINE = ['em', 'i', 'strong', 'b', 'code', 'br', 'td', 'th'];
const VOID = new Set(['br', 'hr']);

interface Element {
  tag: string;
  children: Node[];
}
type Node = Element | string;

function sanitize(xhtml: string): string {
  return sanitizeHtml(xhtml, {
    allowedTags: [...BLOCKS, ...INLINE],
    allowedAttributes: {},
    disallowedTagsMode: 'discard',
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'head', 'title', 'svg', 'math', 'template', 'iframe', 'object'],
  });
}

/** Sanitized HTML → a tree. A stray closing tag closes up to its opener; one without an opener is ignored. */
function parse(html: string): Element {
  const root: Element = { tag: '#root', children: [] };
  const stack: Element[] = [root];
  for (const match of html.matchAll(/<(\/?)([a-z0-9]+)[^>]*>|[^<]+/gi)) {
    const [token, closing, rawTag] = match;
    const top = stack[stack.length - 1]!;
    if (!rawTag) {
      top.children.push(textContentOf(token));
      continue;
    }
    const tag = rawTag.toLowerCase();
    if (closing) {
      const at = stack.map((e) => e.tag).lastIndexOf(tag);
      if (at > 0) stack.length = at;
      continue;
    }
    const element: Element = { tag, children: [] };
    top.children.push(element);
    if (!VOID.has(tag) && !token.endsWith('/>')) stack.push(element);
  }
  return root;
}

/** Every character markdown could read as syntax, escaped; `&` too, so text never turns into an entity. */
const escapeText = (text: string) => text.replace(/[\\`*_[\]<>#|~&]/g, '\\$&');

/** A line that would start a list, a heading underline or a code block if left alone. */
function escapeLineStart(line: string): string {
  const trimmed = line.replace(/^\s+/, '');
  if (/^[-+=]/.test(trimmed)) return `\\${trimmed}`;
  return trimmed.replace(/^(\d+)([.)])/, '$1\\$2');
}

function inline(node: Node, inCode = false): string {
  if (typeof node === 'string') return inCode ? node : escapeText(node.replace(/\s+/g, ' '));
  const inner = () => node.children.map((c) => inline(c, inCode || node.tag === 'code')).join('');
  switch (node.tag) {
    case 'br':
      return '\\\n';
    case 'em':
    case 'i':
      return wrap(inner(), '*');
    case 'strong':
    case 'b':
      return wrap(inner(), '**');
    case 'code': {
      const text = node.children.map((c) => plain(c)).join('').replace(/\s+/g, ' ');
      if (!text.trim()) return text;
      const longest = Math.max(0, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
      const fence = '`'.repeat(longest + 1);
      return `${fence} ${text} ${fence}`;
    }
    case 'td':
    case 'th':
      return ` ${inner()} `;
    default:
      return inner();
  }
}

/** Emphasis markers hug the text: spaces move outside, empty emphasis disappears. */
function wrap(text: string, marker: string): string {
  const match = /^(\s*)([\s\S]*?)(\s*)$/.exec(text)!;
  if (!match[2]) return text;
  return `${match[1]}${marker}${match[2]}${marker}${match[3]}`;
}

function plain(node: Node): string {
  return typeof node === 'string' ? node : node.tag === 'br' ? '\n' : node.children.map(plain).join('');
}

const isBlock = (node: Node): node is Element => typeof node !== 'string' && BLOCKS.includes(node.tag);

/** A paragraph from inline content: one line per hard break, whitespace collapsed, line starts made safe. */
function paragraph(nodes: Node[]): string | null {
  const text = nodes
    .map((n) => inline(n))
    .join('')
    .split('\n')
    .map((line) => escapeLineStart(line.replace(/[ \t]+/g, ' ').trim()))
    .join('\n')
    .replace(/(\\\n)+$/, '')
    .trim();
  return text && text !== '\\' ? text : null;
}

/** The markdown blocks of a container's children: runs of inline content become paragraphs. */
function blocks(children: Node[]): string[] {
  const out: string[] = [];
  let run: Node[] = [];
  const flush = () => {
    const text = paragraph(run);
    if (text) out.push(text);
    run = [];
  };
  for (const child of children) {
    if (!isBlock(child)) {
      run.push(child);
      continue;
    }
    flush();
    out.push(...block(child));
  }
  flush();
  return out;
}

function block(node: Element): string[] {
  switch (node.tag) {
    case 'h1':
    case 'h2':
    case 'h3':
    case 'h4':
    case 'h5':
    case 'h6': {
      const text = paragraph(node.children)?.replace(/\\?\n/g, ' ');
      return text ? [`${'#'.repeat(Number(node.tag[1]))} ${text}`] : [];
    }
    case 'ul':
    case 'ol': {
      const items = node.children.filter((c): c is Element => typeof c !== 'string' && c.tag === 'li');
      const lines = items.flatMap((item, i) => {
        const marker = node.tag === 'ol' ? `${i + 1}. ` : '- ';
        const body = blocks(item.children);
        if (!body.length) return [];
        const indent = ' '.repeat(marker.length);
        const [first, ...rest] = body.join('\n\n').split('\n');
        return [marker + first, ...rest.map((line) => (line ? indent + line : line))];
      });
      return lines.length ? [lines.join('\n')] : [];
    }
    case 'blockquote': {
      const inner = blocks(node.children);
      return inner.length ? [inner.join('\n\n').split('\n').map((line) => (line ? `> ${line}` : '>')).join('\n')] : [];
    }
    case 'pre': {
      const text = node.children.map(plain).join('').replace(/^\n/, '').replace(/\s+$/, '');
      if (!text) return [];
      const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
      const fence = '`'.repeat(longest + 1);
      return [`${fence}\n${text}\n${fence}`];
    }
    case 'hr':
      return ['---'];
    default:
      return blocks(node.children);
  }
}

/** One chapter's XHTML as safe markdown (empty when it holds no text, e.g. a cover page). */
export function xhtmlToMarkdown(xhtml: string): string {
  return blocks(parse(sanitize(xhtml)).children).join('\n\n');
}

/** The first heading's text of a chapter, for a title when the table of contents has none. */
export function firstHeading(xhtml: string): string | null {
  const match = /<h[1-6][^>]*>([\s\S]*?)<\/h[1-6]>/i.exec(sanitizeHtml(xhtml, { allowedTags: ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'], allowedAttributes: {} }));
  const text = match ? textContentOf(match[1]!).replace(/\s+/g, ' ').trim() : '';
  return text || null;
}
