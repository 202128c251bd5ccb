import { describe, expect, it } from 'vitest';
import { readerText } from '../../contracts/ebooks.ts';
import { buildEpub } from '../../test/ebookFactories.ts';
import { renderMarkdown } from '../content/markdown.ts';
import { parseEpub } from './epub.ts';
import { encodeMark, extractCodes, markHtml, readerTextLength, textContentOf } from './watermark.ts';
import { xhtmlToMarkdown } from './xhtmlToMarkdown.ts';

describe('EPUB chapters as markdown', () => {
  it('keeps headings, paragraphs, emphasis, lists, quotes and code; drops scripts, styles, images and links', () => {
    const md = xhtmlToMarkdown(
      '<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>T</title><style>p{color:red}</style>' +
        '<script>alert(1)</script></head><body><h1 class="x">One</h1>' +
        '<p>Hello <em>world</em> &amp; <strong> friends </strong> *stars* [x](javascript:alert(1)) <img src="a.png" alt="pic"/></p>' +
        '<ul><li>a</li><li>b <b>c</b></li></ul><ol><li>first</li><li>second</li></ol>' +
        '<blockquote><p>quoted</p></blockquote><p>1. not a list<br/>- nor this</p><pre>code &lt;x&gt;\n  indented</pre>' +
        '<script>evil()</script><p onclick="steal()">clicky <a href="javascript:alert(2)">link</a> &lt;script&gt;</p>' +
        '<svg><text>vector</text></svg></body></html>',
    );
    expect(md).toBe(
      [
        '# One',
        'Hello *world* \\& **friends** \\*stars\\* \\[x\\](javascript:alert(1))',
        '- a\n- b **c**',
        '1. first\n2. second',
        '> quoted',
        '1\\. not a list\\\n\\- nor this',
        '```\ncode <x>\n  indented\n```',
        'clicky link \\<script\\>',
      ].join('\n\n'),
    );
    const html = renderMarkdown(md, { profile: 'lesson' });
    expect(html).not.toMatch(/<script|<img|<a |onclick|href|src=|<svg|vector|color:red|evil|steal/);
    expect(html).toContain('<h1>One</h1>');
    expect(html).toContain('<em>world</em>');
    expect(html).toContain('<ol>');
    expect(html).toContain('&lt;script&gt;');
  });

  it('parses a small EPUB in spine order, titles from the table of contents or the first heading', async () => {
    const bytes = await buildEpub({
      chapters: [
        { xhtml: '<div><img src="cover.png"/></div>' },
        { tocTitle: 'The Beginning', xhtml: '<h1>Ignored heading</h1><p>First words.</p>' },
        { xhtml: '<h2>Second <em>part</em></h2><p>More words.</p>' },
      ],
      head: '<style>body{}</style>',
    });
    const parsed = await parseEpub(bytes, { maxChapters: 10 });
    expect(parsed.title).toBe('A test book');
    expect(parsed.chapters.map((c) => c.title)).toEqual(['The Beginning', 'Second part']);
    expect(parsed.chapters[0]!.body).toBe('# Ignored heading\n\nFirst words.');
  });

  it.each([
    ['not a zip', async () => Buffer.from('definitely not a zip file')],
    ['a truncated zip', async () => (await buildEpub({ chapters: [{ xhtml: '<p>x</p>' }] })).subarray(0, 200)],
    ['a spine without text', async () => buildEpub({ chapters: [{ xhtml: '<img src="a.png"/>' }] })],
  ])('refuses %s as invalid_input', async (_, bytes) => {
    await expect(parseEpub(await bytes(), { maxChapters: 10 })).rejects.toMatchObject({ code: 'invalid_input' });
  });
});

describe('watermark marks', () => {
  it('round-trips a code through text, survives excerpts and does not move reader offsets', () => {
    const html = renderMarkdown(
      'First paragraph with quite a few words in it so that more than one mark will fit in here nicely, friends.\n\n' +
        'Second one, *emphasised* words too.\n\n```\ncode stays exact\n```',
      { profile: 'lesson' },
    );
    const marked = markHtml(html, '0badc0de');
    expect(extractCodes(textContentOf(marked))).toEqual([{ code: '0badc0de', count: 3 }]);
    expect(readerText(textContentOf(marked))).toBe(textContentOf(html));
    expect(readerTextLength(marked)).toBe(readerTextLength(html));
    expect(marked).toContain('<code>code stays exact</code>');
    // One paragraph alone still carries it.
    const second = /<p>Second[\s\S]*?<\/p>/.exec(marked)![0];
    expect(extractCodes(textContentOf(second))[0]?.code).toBe('0badc0de');
    // A mark planted in the source is not a mark any more: only the reader's own is found.
    expect(extractCodes(textContentOf(markHtml(`<p>a ${encodeMark('12345678')}b c</p>`, '0badc0de')))).toEqual([{ code: '0badc0de', count: 1 }]);
  });
});
