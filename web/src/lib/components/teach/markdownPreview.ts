import markdownit from 'markdown-it';

/*
 * The author's live preview of lesson and chapter markdown, rendered in the browser as they type. It follows the
 * server's `lesson` profile (domain/content/markdown.ts) closely enough to judge layout, and is safe on its own:
 * `html: false` escapes every raw tag in the source, and links and images must be http(s), mailto (links) or one of
 * our own `/api/v1/assets/…` paths, so `javascript:` and `data:` URLs never become attributes. What learners see is
 * always the server's rendering (markdown-it plus sanitize-html), never this one.
 */
const WEB_URL = /^https?:\/\/[^\s/\\?#]/i;
const MAILTO_URL = /^mailto:\S/i;
const ASSET_PATH = /^\/api\/v1\/assets\/[A-Za-z0-9._~%/-]+$/;

const md = markdownit({ html: false, linkify: true, typographer: false });
md.validateLink = (url: string) => WEB_URL.test(url) || MAILTO_URL.test(url) || (ASSET_PATH.test(url) && !url.includes('..'));

// Links in the preview open in a new tab so a click never leaves the editor with unsaved text.
const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
md.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  const token = tokens[idx];
  token?.attrSet('target', '_blank');
  token?.attrSet('rel', 'nofollow noopener noreferrer');
  return defaultLinkOpen(tokens, idx, options, env, self);
};

export function renderPreview(source: string): string {
  return md.render(source);
}
