/*
 * The one markdown renderer of every content feature, in three profiles:
 *
 * - `post` (feed posts and comments) — the subset contracts/feed.ts promises: paragraphs, line breaks, **bold**,
 *   *italic*, `code`, fenced code, "-" lists, "> " quotes and http(s) links ([text](url) or a bare URL). Everything else
 *   (headings, ordered lists, tables, images, rules, raw HTML, entities) stays literal text, as it always has.
 * - `chat` (chat messages) — the `post` subset. Most messages are plain text, so `chatMessageHtml` looks for a sign of
 *   markup or a URL first and renders nothing for the rest: the send path pays for markdown only when it is used.
 * - `lesson` (course lessons and ebook chapters) — CommonMark plus tables and strikethrough: headings h1–h6, ordered
 *   lists, images (http(s) or our own `/api/v1/assets/…` paths), horizontal rules, code with a `language-*` class,
 *   http(s) and mailto links. Still no raw HTML.
 *
 * Safety is two independent layers, so either alone keeps the output safe to insert as HTML:
 * 1. markdown-it with `html: false` escapes everything from the source, and every link or image URL must pass the
 *    profile's allow-list (checked after entity decoding and normalisation, so obfuscated schemes are refused too).
 * 2. sanitize-html then re-parses the output and keeps only the profile's tags and attributes; an `a` keeps its text
 *    but loses the tag unless its href is http(s) (or mailto in lessons); an `img` without an allowed src is dropped.
 */
import markdownit from 'markdown-it';
import type { MarkdownIt, StateBlock } from 'markdown-it';
import sanitizeHtml from 'sanitize-html';

export type MarkdownProfile = 'post' | 'chat' | 'lesson';

export interface RenderMarkdownOptions {
  profile: MarkdownProfile;
}

const LINK_REL = 'nofollow noopener noreferrer';

/** An absolute http(s) URL with a host: no scheme-relative `//host`, no `https:/\host` tricks. */
const WEB_URL = /^https?:\/\/[^\s/\\?#]/i;
const MAILTO_URL = /^mailto:\S/i;
const ASSET_PREFIX = '/api/v1/assets/';

/** One of our own stored assets: a plain path under the assets route, with no way out of it (`..`, `//`, `\`). */
function isAssetPath(url: string): boolean {
  if (!url.startsWith(ASSET_PREFIX) || !/^[A-Za-z0-9._~%/-]+$/.test(url)) return false;
  let path: string;
  try {
    path = decodeURIComponent(url);
  } catch {
    return false;
  }
  const segments = path.slice(ASSET_PREFIX.length).split('/');
  return !path.includes('\\') && segments.every((s) => s !== '' && s !== '.' && s !== '..');
}

interface UrlRules {
  link(url: string): boolean;
  image(url: string): boolean;
}

const POST_URLS: UrlRules = {
  link: (url) => WEB_URL.test(url),
  image: () => false,
};

const LESSON_URLS: UrlRules = {
  link: (url) => WEB_URL.test(url) || MAILTO_URL.test(url),
  image: (url) => WEB_URL.test(url) || isAssetPath(url),
};

/** A fenced block's language, when it is a plain name that can go in a class. */
function languageOf(info: string): string {
  const name = info.trim().split(/\s+/)[0] ?? '';
  return /^[A-Za-z0-9_+#.-]{1,40}$/.test(name) ? name : '';
}

/**
 * The setup both profiles share: no raw HTML, links and images only through the profile's URL rules, bare http(s) URLs
 * linkified (no guessing at `example.com` or e-mail addresses), and compact output as the feed has always served it —
 * no newlines between blocks or after a <br>, and a fence's trailing newline is not kept.
 */
function baseRenderer(urls: UrlRules, { breaks, codeLanguage }: { breaks: boolean; codeLanguage: boolean }): MarkdownIt {
  const md = markdownit({ html: false, linkify: true, breaks, typographer: false });
  md.disable(['html_block', 'html_inline']);
  // markdown-it cannot tell a link from an image here; the sanitizer enforces the per-tag rule afterwards.
  md.validateLink = (url) => urls.link(url) || urls.image(url);
  md.linkify.set({ fuzzyLink: false, fuzzyEmail: false, fuzzyIP: false }).add('//', null).add('ftp:', null);

  const escape = md.utils.escapeHtml;
  md.renderer.rules.fence = (tokens, idx) => {
    const token = tokens[idx]!;
    const language = codeLanguage ? languageOf(token.info) : '';
    const attrs = language ? ` class="language-${escape(language)}"` : '';
    return `<pre><code${attrs}>${escape(token.content.replace(/\n$/, ''))}</code></pre>`;
  };
  md.renderer.rules.code_block = (tokens, idx) => `<pre><code>${escape(tokens[idx]!.content.replace(/\n$/, ''))}</code></pre>`;
  md.renderer.rules.hardbreak = () => '<br>';
  md.renderer.rules.softbreak = (_tokens, _idx, options) => (options.breaks ? '<br>' : '\n');
  md.core.ruler.push('compact_blocks', (state) => {
    for (const token of state.tokens) token.block = false;
  });
  return md;
}

/**
 * Lists in posts are "-" (or "*", "+") lists only: a line starting with a number stays text, as the feed promises.
 * markdown-it has one rule for both kinds, so it is wrapped in place, keeping the rules it may interrupt (`alt`).
 */
function withoutOrderedLists(md: MarkdownIt): void {
  const rule = md.block.ruler.__rules__.find((r) => r.name === 'list');
  if (!rule) throw new Error('markdown-it has no list rule');
  const { fn: list, alt } = rule;
  md.block.ruler.at(
    'list',
    (state: StateBlock, startLine: number, endLine: number, silent: boolean) => {
      const first = state.src.charCodeAt(state.bMarks[startLine]! + state.tShift[startLine]!);
      return first >= 0x30 && first <= 0x39 ? false : list(state, startLine, endLine, silent);
    },
    { alt },
  );
}

function postRenderer(): MarkdownIt {
  const md = baseRenderer(POST_URLS, { breaks: true, codeLanguage: false });
  md.disable(['heading', 'lheading', 'table', 'hr', 'code', 'reference', 'image', 'strikethrough', 'entity']);
  md.linkify.add('mailto:', null);
  withoutOrderedLists(md);
  return md;
}

function lessonRenderer(): MarkdownIt {
  const md = baseRenderer(LESSON_URLS, { breaks: false, codeLanguage: true });
  // Column alignment arrives as a style attribute, which is never allowed; the align attribute says the same thing.
  md.core.ruler.push('table_align', (state) => {
    for (const token of state.tokens) {
      if (token.type === 'th_open' || token.type === 'td_open') {
        const align = /text-align:(left|center|right)/.exec(String(token.attrGet('style') ?? ''))?.[1];
        token.attrs = align ? [['align', align]] : null;
      }
    }
  });
  return md;
}

const POST_TAGS = ['p', 'br', 'strong', 'em', 'code', 'pre', 'ul', 'li', 'blockquote', 'a'];
const LESSON_TAGS = [
  ...POST_TAGS,
  ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ol', 'hr', 's', 'img'],
  ...['table', 'thead', 'tbody', 'tr', 'th', 'td'],
];
const ALIGN = { name: 'align', values: ['left', 'center', 'right'] };

function sanitizerOptions(urls: UrlRules, profile: MarkdownProfile): sanitizeHtml.IOptions {
  const lesson = profile === 'lesson';
  return {
    allowedTags: lesson ? LESSON_TAGS : POST_TAGS,
    allowedAttributes: lesson
      ? { a: ['href', 'title', 'rel', 'target'], img: ['src', 'alt', 'title'], ol: ['start'], th: [ALIGN], td: [ALIGN] }
      : { a: ['href', 'rel', 'target'] },
    allowedClasses: lesson ? { code: ['language-*'] } : {},
    allowedSchemes: lesson ? ['http', 'https', 'mailto'] : ['http', 'https'],
    allowedSchemesByTag: { img: ['http', 'https'] },
    allowedSchemesAppliedToAttributes: ['href', 'src', 'cite'],
    allowProtocolRelative: false,
    disallowedTagsMode: 'discard',
    // Should any of these ever reach the sanitizer, their contents go with them rather than showing as text.
    nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'template', 'title', 'xmp', 'iframe', 'noembed', 'noframes'],
    // Quotes in text are escaped as the old feed renderer did, so a quote in the output always delimits an attribute.
    textFilter: (text) => text.replace(/"/g, '&quot;').replace(/'/g, '&#39;'),
    transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: LINK_REL, target: '_blank' }) },
    // Relative URLs pass sanitize-html's scheme check, so the profile's own rules decide: a bad link keeps its text.
    exclusiveFilter: (frame) => {
      if (frame.tag === 'a') return urls.link(frame.attribs.href ?? '') ? false : 'excludeTag';
      if (frame.tag === 'img') return !urls.image(frame.attribs.src ?? '');
      return false;
    },
  };
}

const POST_PROFILE = { md: postRenderer(), sanitize: sanitizerOptions(POST_URLS, 'post') };
const PROFILES: Record<MarkdownProfile, { md: MarkdownIt; sanitize: sanitizeHtml.IOptions }> = {
  post: POST_PROFILE,
  chat: POST_PROFILE,
  lesson: { md: lessonRenderer(), sanitize: sanitizerOptions(LESSON_URLS, 'lesson') },
};

/** Keeps only what the profile allows of some HTML: the second layer of `renderMarkdown`, usable on its own. */
export function sanitizeContentHtml(html: string, { profile }: RenderMarkdownOptions): string {
  return sanitizeHtml(html, PROFILES[profile].sanitize);
}

/** Renders markdown to HTML that is safe to insert into a page. */
export function renderMarkdown(source: string, { profile }: RenderMarkdownOptions): string {
  return sanitizeHtml(PROFILES[profile].md.render(source), PROFILES[profile].sanitize);
}

/**
 * A cheap first look for anything the chat profile would render differently from plain text: emphasis or code marks,
 * a "-"/"*"/"+" list item or "> " quote at a line start, a [link](…), or an http(s) URL. A false positive only costs a
 * render; a miss would show markup as typed, so every construct of the profile has its sign here.
 */
const CHAT_MARKUP = /[*_`]|\]\(|^\s*(?:[-*+]\s|>)|https?:\/\//im;

/**
 * A chat message's HTML, only when its body has markup or a URL; undefined for plain text, which clients show as is
 * (its line breaks kept). Safe to insert: the `chat` profile's two layers apply.
 */
export function chatMessageHtml(body: string): string | undefined {
  if (!CHAT_MARKUP.test(body)) return undefined;
  const html = renderMarkdown(body, { profile: 'chat' });
  // Something that looked like markup but rendered as one plain paragraph (a lone "*", say) needs no HTML either.
  const plain = /^<p>([^<&]*)<\/p>$/.exec(html);
  return plain && plain[1] === body.replace(/"/g, '&quot;').replace(/'/g, '&#39;') ? undefined : html;
}
