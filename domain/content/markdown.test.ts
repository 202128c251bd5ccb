import { describe, expect, it } from 'vitest';
import { chatMessageHtml, renderMarkdown, sanitizeContentHtml, type MarkdownProfile } from './markdown.ts';

const post = (source: string) => renderMarkdown(source, { profile: 'post' });
const lesson = (source: string) => renderMarkdown(source, { profile: 'lesson' });

const LINK_ATTRS = 'rel="nofollow noopener noreferrer" target="_blank"';

/** Tags each profile may produce; anything else in the output came from the source and is an injection. */
const POST_TAGS = ['p', 'br', 'strong', 'em', 'code', 'pre', 'ul', 'li', 'blockquote', 'a'];
const ALLOWED_TAGS: Record<MarkdownProfile, Set<string>> = {
  post: new Set(POST_TAGS),
  chat: new Set(POST_TAGS),
  lesson: new Set([
    ...POST_TAGS,
    ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ol', 'hr', 's', 'img', 'table', 'thead', 'tbody', 'tr', 'th', 'td'],
  ]),
};
/** The attributes each lesson tag may carry, with the values they may hold. */
const LESSON_ATTRIBUTES: Record<string, Record<string, RegExp>> = {
  a: { href: /^(https?:\/\/[^/\\\s]|mailto:)/i, title: /^/, rel: /^nofollow noopener noreferrer$/, target: /^_blank$/ },
  img: { src: /^(https?:\/\/[^/\\\s]|\/api\/v1\/assets\/)/i, alt: /^/, title: /^/ },
  ol: { start: /^\d+$/ },
  th: { align: /^(left|center|right)$/ },
  td: { align: /^(left|center|right)$/ },
  code: { class: /^language-[A-Za-z0-9_+#.-]+$/ },
};

function tagsOf(html: string): string[] {
  return [...html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9-]*)/g)].map((m) => m[1]!.toLowerCase());
}

/**
 * What every output must satisfy, whatever the profile. Text and attribute values escape their quotes, so a `"` in the
 * output always delimits an attribute value; blanking the values leaves only the tags' own syntax to inspect.
 */
function expectNothingDangerous(html: string) {
  expect(html).not.toMatch(/<(script|style|iframe|object|embed|svg|math|form|input|img\s[^>]*src="(?!https?:\/\/|\/api\/v1\/assets\/))/i);
  const tagSyntax = [...html.matchAll(/<[^>]*>/g)].map((m) => m[0].replace(/="[^"]*"/g, '=""')).join('');
  // Words like onerror= may remain as visible text or inside a title; they must never be an attribute.
  expect(tagSyntax).not.toMatch(/\son[a-z]+=/i);
  expect(tagSyntax).not.toMatch(/\sstyle=/i);
  expect(html).not.toMatch(/(href|src)="(?!https?:\/\/|mailto:|\/api\/v1\/assets\/)/i);
  // Scheme-relative (`//host`, `/\host`) or backslashed (`https:\\host`) URLs leave our origin in surprising ways.
  expect(html).not.toMatch(/(href|src)="(\/[/\\]|https?:\/?\\)/i);
}

function expectSafe(html: string, profile: MarkdownProfile = 'post') {
  for (const tag of tagsOf(html)) expect(ALLOWED_TAGS[profile], `tag <${tag}> in ${html}`).toContain(tag);
  expectNothingDangerous(html);
  const tags = [...html.matchAll(/<([a-z0-9]+)\s+([a-z][^>]*?)\s*\/?>/g)].map((m) => ({ tag: m[1]!, attrs: m[2]! }));
  if (profile === 'post' || profile === 'chat') {
    // The only attributes a post ever carries are a link's fixed ones.
    for (const { attrs } of tags) expect(attrs).toMatch(/^href="https?:\/\/[^"<>\s]*" rel="nofollow noopener noreferrer" target="_blank"$/);
    expect(html).not.toMatch(/href="(?!https?:\/\/)/i);
    return;
  }
  for (const { tag, attrs } of tags) {
    const allowed = LESSON_ATTRIBUTES[tag] ?? {};
    for (const [, name, value] of attrs.matchAll(/([a-z-]+)="([^"]*)"/g)) {
      expect(Object.keys(allowed), `attribute ${name} on <${tag}> in ${html}`).toContain(name);
      expect(value, `${name} on <${tag}> in ${html}`).toMatch(allowed[name!]!);
    }
  }
}

describe('renderMarkdown, post profile: the subset', () => {
  it('paragraphs, line breaks, bold, italic and inline code', () => {
    expect(post('Hello **world** and *you*\nnext line\n\n`x < y`')).toBe(
      '<p>Hello <strong>world</strong> and <em>you</em><br />next line</p><p><code>x &lt; y</code></p>',
    );
  });

  it('fenced code keeps its text verbatim (escaped) and applies no markup inside', () => {
    expect(post('```\n**not bold** <b>\n  indented\n```')).toBe('<pre><code>**not bold** &lt;b&gt;\n  indented</code></pre>');
  });

  it('lists and quotes', () => {
    expect(post('- one\n- *two*\n> said\n> twice')).toBe(
      '<ul><li>one</li><li><em>two</em></li></ul><blockquote><p>said<br />twice</p></blockquote>',
    );
  });

  it('http(s) links, labelled or bare, open safely; sentence punctuation stays outside', () => {
    expect(post('[docs](https://example.com/a?b=1&c=2) and http://example.org.')).toBe(
      `<p><a href="https://example.com/a?b=1&amp;c=2" ${LINK_ATTRS}>docs</a> and ` +
        `<a href="http://example.org" ${LINK_ATTRS}>http://example.org</a>.</p>`,
    );
  });

  it('CRLF sources render like LF ones', () => {
    expect(post('a\r\nb\r\n\r\n- c')).toBe(post('a\nb\n\n- c'));
  });

  it('what the subset leaves out stays text: headings, ordered lists, rules, tables, images, entities', () => {
    expect(post('# not a heading\n\n1. not\n2. ordered\n\n---\n\n| a |\n|---|\n| b |')).toBe(
      '<p># not a heading</p><p>1. not<br />2. ordered</p><p>---</p><p>| a |<br />|---|<br />| b |</p>',
    );
    const image = post('![alt](https://example.com/a.png)');
    expect(image).not.toContain('<img');
    expect(image).toBe(`<p>!<a href="https://example.com/a.png" ${LINK_ATTRS}>alt</a></p>`);
    expect(post('~~no~~ &copy;')).toBe('<p>~~no~~ &amp;copy;</p>');
  });

  it('only http(s) links: no mailto, e-mail, ftp, scheme-relative or bare-domain links', () => {
    const html = post('mailto:a@example.com <a@example.com> a@example.com ftp://example.com //example.com example.com [m](mailto:a@example.com)');
    expect(html).not.toContain('<a');
    expectSafe(html);
  });
});

describe('renderMarkdown, post profile: hostile input stays text', () => {
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
    // Also refused by the post profile, which has no images and no entity decoding.
    '![x](javascript:alert(1))',
    '[x](jav&#x61;script:alert(1))',
    '[x](<javascript:alert(1)>)',
    '<javascript:alert(1)>',
    '[x](//evil.example/a)',
  ];

  it.each(attacks)('%j', (source) => {
    const html = post(source);
    expectSafe(html);
    expect(html).not.toMatch(/<(script|img|svg|iframe|style)/i);
    expect(html).not.toMatch(/<[^>]*\son[a-z]+=/i);
    expect(html).not.toMatch(/href="(?!https?:\/\/)/i);
  });

  it('escaped entities in the source are shown, not decoded', () => {
    expect(post('&lt;b&gt;')).toBe('<p>&amp;lt;b&amp;gt;</p>');
  });

  it('a quote inside an attribute cannot end it', () => {
    expect(post('http://a.example/"onmouseover=alert(1)')).toBe(
      `<p><a href="http://a.example/" ${LINK_ATTRS}>http://a.example/</a>&quot;onmouseover=alert(1)</p>`,
    );
  });
});

describe('renderMarkdown, lesson profile: the richer set', () => {
  it('headings h1–h6, and a seventh # is text', () => {
    expect(lesson('# One\n## Two\n### Three\n#### Four\n##### Five\n###### Six\n####### Seven')).toBe(
      '<h1>One</h1><h2>Two</h2><h3>Three</h3><h4>Four</h4><h5>Five</h5><h6>Six</h6><p>####### Seven</p>',
    );
    expect(lesson('Title\n=====\n\nSub\n---')).toBe('<h1>Title</h1><h2>Sub</h2>');
  });

  it('tables, with column alignment as an align attribute rather than a style', () => {
    const html = lesson('| Name | Score |\n| :--- | ---: |\n| **Ada** | 10 |\n| Bob | 7 |');
    expect(html).toBe(
      '<table><thead><tr><th align="left">Name</th><th align="right">Score</th></tr></thead>' +
        '<tbody><tr><td align="left"><strong>Ada</strong></td><td align="right">10</td></tr>' +
        '<tr><td align="left">Bob</td><td align="right">7</td></tr></tbody></table>',
    );
    expectSafe(html, 'lesson');
  });

  it('ordered and bullet lists, quotes, rules and strikethrough', () => {
    expect(lesson('3. three\n4. four\n\n- a\n- b\n\n> quoted\n\n---\n\n~~old~~')).toBe(
      '<ol start="3"><li>three</li><li>four</li></ol><ul><li>a</li><li>b</li></ul>' +
        '<blockquote><p>quoted</p></blockquote><hr /><p><s>old</s></p>',
    );
  });

  it('fenced code carries its language as a class; indented code is code too', () => {
    expect(lesson('```ts\nconst a = 1 < 2;\n```\n\n    plain')).toBe(
      '<pre><code class="language-ts">const a = 1 &lt; 2;</code></pre><pre><code>plain</code></pre>',
    );
    // A language that cannot be a class name is left off rather than escaped into one.
    expect(lesson('```"><script>\nx\n```')).toBe('<pre><code>x</code></pre>');
  });

  it('images from http(s) URLs and from our own asset paths', () => {
    expect(lesson('![Diagram](https://cdn.example.com/d.png "The diagram") ![Local](/api/v1/assets/abc/figure-1.png)')).toBe(
      '<p><img src="https://cdn.example.com/d.png" alt="Diagram" title="The diagram" /> ' +
        '<img src="/api/v1/assets/abc/figure-1.png" alt="Local" /></p>',
    );
  });

  it('links: http(s) and mailto, all opening safely; a soft line break stays a space', () => {
    expect(lesson('[site](https://example.com) [mail](mailto:a@example.com)\nhttps://example.org')).toBe(
      `<p><a href="https://example.com" ${LINK_ATTRS}>site</a> <a href="mailto:a@example.com" ${LINK_ATTRS}>mail</a>\n` +
        `<a href="https://example.org" ${LINK_ATTRS}>https://example.org</a></p>`,
    );
  });

  it('entities are decoded as text, as CommonMark says', () => {
    expect(lesson('&copy; &lt;b&gt;')).toBe('<p>© &lt;b&gt;</p>');
  });
});

describe('renderMarkdown, lesson profile: hostile input', () => {
  const attacks: Array<[string, string]> = [
    ['embedded iframe', '<iframe src="https://evil.example/" width="100%"></iframe>'],
    ['iframe in a paragraph', 'Watch: <iframe src="javascript:alert(1)"></iframe> now'],
    ['script block', '<script>alert(document.cookie)</script>'],
    ['script inline', 'text <script src="https://evil.example/x.js"></script>'],
    ['svg with onload', '<svg onload="alert(1)"><circle r="1"/></svg>'],
    ['svg in a heading', '# <svg/onload=alert(1)>'],
    ['img onerror', '<img src=x onerror="alert(1)">'],
    ['img onerror, valid src', '<img src="https://example.com/a.png" onerror="alert(1)">'],
    ['style element', '<style>body { display: none }</style>'],
    ['style attribute', '<p style="position:fixed;top:0">x</p>'],
    ['object and embed', '<object data="x.swf"></object><embed src="x.swf">'],
    ['form and input', '<form action="https://evil.example"><input name="password"></form>'],
    ['math', '<math><mi xlink:href="javascript:alert(1)">x</mi></math>'],
    ['html comment', '<!-- <script>alert(1)</script> -->'],
    ['javascript: link', '[x](javascript:alert(1))'],
    ['javascript: mixed case', '[x](JaVaScRiPt:alert(1))'],
    ['javascript: hex entity', '[x](&#x6A;avascript:alert(1))'],
    ['javascript: decimal entity', '[x](&#106;avascript&#58;alert(1))'],
    ['javascript: named entity colon', '[x](javascript&colon;alert(1))'],
    ['javascript: tab entity inside', '[x](java&#x09;script:alert(1))'],
    ['javascript: newline entity inside', '[x](java&#10;script:alert(1))'],
    ['javascript: leading spaces in brackets', '[x](<  javascript:alert(1)>)'],
    ['javascript: spaces inside brackets', '[x](<java script:alert(1)>)'],
    ['javascript: percent-encoded', '[x](%6Aavascript:alert(1))'],
    ['javascript: backslash escape', '[x](javascript\\:alert(1))'],
    ['javascript: autolink', '<javascript:alert(1)>'],
    ['javascript: reference definition', '[x]\n\n[x]: javascript:alert(1)'],
    ['javascript: link title break-out', '[x](https://example.com "a\\" onclick=\\"alert(1)")'],
    ['vbscript: link', '[x](vbscript:msgbox(1))'],
    ['data: link', '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)'],
    ['file: link', '[x](file:///etc/passwd)'],
    ['data: image src', '![x](data:image/png;base64,iVBORw0KGgo=)'],
    ['data: svg image src', '![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)'],
    ['image with javascript: src', '![x](javascript:alert(1))'],
    ['image with entity-obfuscated javascript: src', '![x](&#106;avascript:alert(1))'],
    ['image alt breaking out', '![x" onerror="alert(1)](https://example.com/a.png)'],
    ['protocol-relative image', '![x](//evil.example/a.png)'],
    ['protocol-relative image with backslash', '![x](/\\evil.example/a.png)'],
    ['image via scheme and backslashes', '![x](https:\\\\evil.example/a.png)'],
    ['image under a relative path', '![x](../secret.png)'],
    ['image escaping the assets route', '![x](/api/v1/assets/../../admin/delete)'],
    ['image escaping the assets route, encoded', '![x](/api/v1/assets/%2e%2e/%2e%2e/admin)'],
    ['image on our own origin outside assets', '![x](/api/v1/admin/users)'],
    ['protocol-relative link', '[x](//evil.example)'],
    ['bare protocol-relative URL', 'see //evil.example/page'],
    ['relative link', '[x](/api/v1/assets/a.pdf)'],
    ['raw anchor with javascript:', '<a href="javascript:alert(1)">x</a>'],
    ['fence breaking out', '```\n</code></pre><script>alert(1)</script>\n```'],
    ['code language breaking out', '```js" onmouseover="alert(1)\nx\n```'],
    ['table cell with html', '| a |\n|---|\n| <img src=x onerror=alert(1)> |'],
    ['nested brackets', '[**[x](javascript:alert(1))**](https://example.com)'],
  ];

  it.each(attacks)('%s', (_name, source) => {
    const html = lesson(source);
    expectSafe(html, 'lesson');
  });

  it('raw HTML in the source is shown as text, never rendered', () => {
    expect(lesson('<b>bold?</b>\n\n<div class="x">block</div>')).toBe(
      '<p>&lt;b&gt;bold?&lt;/b&gt;</p><p>&lt;div class=&quot;x&quot;&gt;block&lt;/div&gt;</p>',
    );
    expect(lesson('<iframe src="https://evil.example/"></iframe>')).not.toContain('<iframe');
    expect(lesson('<script>alert(1)</script>')).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>');
  });

  it('a refused link keeps its text and loses the anchor', () => {
    expect(lesson('[click](javascript:alert(1))')).toBe('<p>[click](javascript:alert(1))</p>');
    expect(lesson('[x](&#x6A;avascript:alert(1))')).not.toContain('<a');
    expect(lesson('[file](/api/v1/assets/a.pdf)')).toBe('<p>file</p>');
  });

  it('a refused image is not an img', () => {
    for (const src of ['data:image/png;base64,iVBORw0KGgo=', 'javascript:alert(1)', '//evil.example/a.png', '/api/v1/assets/../x']) {
      expect(lesson(`![x](${src})`), src).not.toContain('<img');
    }
  });
});

describe('sanitizeContentHtml: the second layer holds on its own', () => {
  const hostile: Array<[string, string]> = [
    ['script', '<p>a</p><script>alert(1)</script>'],
    ['iframe', '<iframe src="https://evil.example/"></iframe><p>b</p>'],
    ['svg onload', '<svg onload="alert(1)"><script>alert(2)</script></svg>'],
    ['math', '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>'],
    ['object, embed', '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">'],
    ['form, input', '<form action="javascript:alert(1)"><input type="submit" formaction="javascript:alert(1)"></form>'],
    ['style element', '<style>*{display:none}</style><p>c</p>'],
    ['style attribute', '<p style="background:url(javascript:alert(1))">d</p>'],
    ['event handlers', '<p onclick="alert(1)" onmouseover="alert(2)">e</p><img src="https://example.com/a.png" onerror="alert(3)">'],
    ['javascript: href', '<a href="javascript:alert(1)">f</a>'],
    ['javascript: href with entities', '<a href="&#106;&#97;vascript&#58;alert(1)">g</a>'],
    ['javascript: href with whitespace', '<a href=" java\tscript:alert(1)">h</a>'],
    ['javascript: href with control characters', '<a href="\u0001javascript:alert(1)">i</a>'],
    ['vbscript: href', '<a href="VBScript:msgbox(1)">j</a>'],
    ['data: href', '<a href="data:text/html,<script>alert(1)</script>">k</a>'],
    ['relative href', '<a href="/logout">l</a>'],
    ['protocol-relative href', '<a href="//evil.example">m</a>'],
    ['data: img', '<img src="data:image/svg+xml,<svg onload=alert(1)>">'],
    ['protocol-relative img', '<img src="//evil.example/a.png">'],
    ['backslash img', '<img src="/\\evil.example/a.png">'],
    ['relative img', '<img src="x.png">'],
    ['srcset', '<img src="https://example.com/a.png" srcset="javascript:alert(1)">'],
    ['class other than language', '<code class="language-js evil">x</code><p class="fixed">y</p>'],
    ['base and meta', '<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=javascript:alert(1)">'],
    ['template and noscript', '<template><script>alert(1)</script></template><noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>'],
  ];

  it.each(hostile)('lesson: %s', (_name, html) => {
    expectSafe(sanitizeContentHtml(html, { profile: 'lesson' }), 'lesson');
  });

  it.each(hostile)('post: %s', (_name, html) => {
    expectSafe(sanitizeContentHtml(html, { profile: 'post' }), 'post');
  });

  it('every kept link gets rel and target, overriding what was there', () => {
    expect(sanitizeContentHtml('<a href="https://example.com" rel="opener" target="_self">x</a>', { profile: 'post' })).toBe(
      `<a href="https://example.com" ${LINK_ATTRS}>x</a>`,
    );
  });

  it('the post profile drops the lesson-only tags but keeps their text', () => {
    expect(sanitizeContentHtml('<h1>T</h1><img src="https://example.com/a.png"><table><tr><td>c</td></tr></table>', { profile: 'post' })).toBe('Tc');
  });

  it('the lesson profile keeps what markdown produces', () => {
    const html =
      '<h2>T</h2><ol start="2"><li>x</li></ol><hr /><img src="/api/v1/assets/a.png" alt="" />' +
      '<table><thead><tr><th align="center">h</th></tr></thead><tbody><tr><td>c</td></tr></tbody></table>' +
      '<pre><code class="language-py">x</code></pre>';
    expect(sanitizeContentHtml(html, { profile: 'lesson' })).toBe(html);
  });
});

describe('chatMessageHtml: the chat profile, only when there is markup', () => {
  it('plain messages get no html at all (they are shown as text)', () => {
    for (const body of ['hello there', 'snake_case_name? no: it is one word… 3 * 4 = 12', 'line one\nline two', 'email me at a@b.example', 'a - b > c']) {
      // A sign of markup may trigger a render, but plain output is dropped again.
      expect(chatMessageHtml(body), body).toBeUndefined();
    }
  });

  it('renders the post subset: emphasis, code, fences, lists, quotes', () => {
    expect(chatMessageHtml('**bold** and _it_ and `x<y`')).toBe('<p><strong>bold</strong> and <em>it</em> and <code>x&lt;y</code></p>');
    expect(chatMessageHtml('```\nconst a = 1;\n```')).toBe('<pre><code>const a = 1;</code></pre>');
    expect(chatMessageHtml('- one\n- two')).toBe('<ul><li>one</li><li>two</li></ul>');
    expect(chatMessageHtml('> quoted')).toBe('<blockquote><p>quoted</p></blockquote>');
    expect(chatMessageHtml('# not a heading\n1. not a list *but*')).toBe('<p># not a heading<br />1. not a list <em>but</em></p>');
  });

  it('links bare http(s) URLs and [text](url) as safe anchors, and nothing else', () => {
    expect(chatMessageHtml('go to https://example.org/x now')).toBe(
      `<p>go to <a href="https://example.org/x" ${LINK_ATTRS}>https://example.org/x</a> now</p>`,
    );
    expect(chatMessageHtml('[docs](https://example.org/d)')).toBe(`<p><a href="https://example.org/d" ${LINK_ATTRS}>docs</a></p>`);
    // A refused link stays literal text: plain, so no html at all.
    expect(chatMessageHtml('[bad](javascript:alert(1))')).toBeUndefined();
    for (const body of ['[x](javascript:alert(1)) *y*', '[x](//evil.example) *y*', '<a href="https://x.example">*a*</a>']) {
      expectSafe(chatMessageHtml(body)!, 'chat');
    }
  });

  it('escapes raw HTML such as scripts instead of running it', () => {
    const html = chatMessageHtml('<script>alert(1)</script> **hi** <img src=x onerror=alert(1)>')!;
    expect(html).toBe('<p>&lt;script&gt;alert(1)&lt;/script&gt; <strong>hi</strong> &lt;img src=x onerror=alert(1)&gt;</p>');
    expectSafe(html, 'chat');
  });
});
