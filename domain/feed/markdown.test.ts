import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './markdown.ts';

/** Tags the renderer may produce; anything else in the output came from the source and is an injection. */
const ALLOWED_TAGS = new Set(['p', 'br', 'strong', 'em', 'code', 'pre', 'ul', 'li', 'blockquote', 'a']);

function tagsOf(html: string): string[] {
  return [...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1]!.toLowerCase());
}

function expectSafe(html: string) {
  for (const tag of tagsOf(html)) expect(ALLOWED_TAGS, `tag <${tag}> in ${html}`).toContain(tag);
  // The only attributes ever written are a link's fixed ones.
  const attributes = [...html.matchAll(/<[a-z]+\s+([^>]*)>/g)].map((m) => m[1]!);
  for (const attrs of attributes) {
    expect(attrs).toMatch(/^href="https?:\/\/[^"<>\s]*" rel="nofollow noopener noreferrer" target="_blank"$/);
  }
}

describe('renderMarkdown: the subset', () => {
  it('paragraphs, line breaks, bold, italic and inline code', () => {
    expect(renderMarkdown('Hello **world** and *you*\nnext line\n\n`x < y`')).toBe(
      '<p>Hello <strong>world</strong> and <em>you</em><br>next line</p><p><code>x &lt; y</code></p>',
    );
  });

  it('fenced code keeps its text verbatim (escaped) and applies no markup inside', () => {
    expect(renderMarkdown('```\n**not bold** <b>\n  indented\n```')).toBe('<pre><code>**not bold** &lt;b&gt;\n  indented</code></pre>');
  });

  it('lists and quotes', () => {
    expect(renderMarkdown('- one\n- *two*\n> said\n> twice')).toBe(
      '<ul><li>one</li><li><em>two</em></li></ul><blockquote><p>said<br>twice</p></blockquote>',
    );
  });

  it('http(s) links, labelled or bare, open safely; sentence punctuation stays outside', () => {
    expect(renderMarkdown('[docs](https://example.com/a?b=1&c=2) and http://example.org.')).toBe(
      '<p><a href="https://example.com/a?b=1&amp;c=2" rel="nofollow noopener noreferrer" target="_blank">docs</a> and ' +
        '<a href="http://example.org" rel="nofollow noopener noreferrer" target="_blank">http://example.org</a>.</p>',
    );
  });
});

describe('renderMarkdown: hostile input stays text', () => {
  const attacks = [
    '<script>alert(1)</script>',
    '<img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
    '[click](javascript:alert(1))',
    '[click](JaVaScRiPt:alert(1))',
    '[click](data:text/html;base64,PHNjcmlwdD4=)',
    '[x](http://a" onmouseover="alert(1))',
    "[x](http://a' onmouseover='alert(1))",
    'http://a"><script>alert(1)</script>',
    '**<svg onload=alert(1)>**',
    '`</code><script>alert(1)</script>`',
    '```\n</pre><script>alert(1)</script>\n```',
    '> <iframe src="http://evil">',
    '- <style>body{display:none}</style>',
    '\u0000<script>\u00000\u0000',
    '\uE0000\uE000 [x](http://a\uE0000\uE000)',
    '[**[x](http://a)**](http://b)',
    '<<script>script>alert(1)<</script>/script>',
    '&lt;script&gt; stays double-escaped',
  ];

  it.each(attacks)('%j', (source) => {
    const html = renderMarkdown(source);
    expectSafe(html);
    // Words like onerror= may remain as visible text; they must never be inside a tag.
    expect(html).not.toMatch(/<(script|img|svg|iframe|style)/i);
    expect(html).not.toMatch(/<[^>]*\son[a-z]+=/i);
    expect(html).not.toMatch(/href="(?!https?:\/\/)/i);
  });

  it('escaped entities in the source are shown, not decoded', () => {
    expect(renderMarkdown('&lt;b&gt;')).toBe('<p>&amp;lt;b&amp;gt;</p>');
  });

  it('a quote inside an attribute cannot end it', () => {
    const html = renderMarkdown('http://a.example/"onmouseover=alert(1)');
    expect(html).toBe(
      '<p><a href="http://a.example/" rel="nofollow noopener noreferrer" target="_blank">http://a.example/</a>&quot;onmouseover=alert(1)</p>',
    );
  });
});
