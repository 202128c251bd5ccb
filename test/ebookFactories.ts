import JSZip from 'jszip';
import type { PlatformRole } from '../contracts/auth.ts';
import type { ChapterSourceEnvelope, EbookDetailDto, EbookEnvelope } from '../contracts/ebooks.ts';
import { withPlatformRole } from './classroomFactories.ts';
import { call, ok, registerUser, type TestUser } from './factories.ts';
import { dbOf, type RunningNode } from './nodes.ts';

/*
 * Ebooks for tests: written through the real API by an author, and EPUB files built in memory with jszip (a minimal
 * EPUB 3: mimetype, container.xml, an OPF package with a spine, an NCX table of contents, XHTML chapters).
 */

export interface EpubChapterSpec {
  /** Shown in the NCX table of contents; omitted → the importer falls back to the first heading. */
  tocTitle?: string;
  /** The body element's inner XHTML. */
  xhtml: string;
}

/** A small, valid EPUB file. */
export async function buildEpub(spec: { title?: string; chapters: EpubChapterSpec[]; head?: string }): Promise<Buffer> {
  const zip = new JSZip();
  zip.file('mimetype', 'application/epub+zip', { compression: 'STORE' });
  zip.file(
    'META-INF/container.xml',
    '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>' +
      '<rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>',
  );
  const items = spec.chapters.map((_, i) => `<item id="c${i + 1}" href="c${i + 1}.xhtml" media-type="application/xhtml+xml"/>`).join('');
  const spine = spec.chapters.map((_, i) => `<itemref idref="c${i + 1}"/>`).join('');
  zip.file(
    'OEBPS/content.opf',
    '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="bookid">' +
      `<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>${spec.title ?? 'A test book'}</dc:title>` +
      '<dc:identifier id="bookid">urn:uuid:test</dc:identifier><dc:language>en</dc:language></metadata>' +
      `<manifest><item id="ncx" href="toc.ncx" media-type="application/x-dtbncx+xml"/>${items}</manifest>` +
      `<spine toc="ncx">${spine}</spine></package>`,
  );
  const points = spec.chapters
    .map((c, i) =>
      c.tocTitle
        ? `<navPoint id="n${i + 1}" playOrder="${i + 1}"><navLabel><text>${c.tocTitle}</text></navLabel><content src="c${i + 1}.xhtml"/></navPoint>`
        : '',
    )
    .join('');
  zip.file(
    'OEBPS/toc.ncx',
    `<?xml version="1.0"?><ncx xmlns="http://www.daisy.org/z3986/2005/ncx/" version="2005-1"><navMap>${points}</navMap></ncx>`,
  );
  spec.chapters.forEach((c, i) =>
    zip.file(
      `OEBPS/c${i + 1}.xhtml`,
      `<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>Chapter ${i + 1}</title>${spec.head ?? ''}</head>` +
        `<body>${c.xhtml}</body></html>`,
    ),
  );
  return zip.generateAsync({ type: 'nodebuffer' });
}

/** A registered user with a platform role, signed in again so the token carries it. */
export async function userWithRole(node: RunningNode, role: PlatformRole): Promise<TestUser> {
  const user = await registerUser(node.url);
  return role === 'user' ? user : withPlatformRole(node, user, role);
}

export interface EbookSpec {
  communityId?: string;
  title?: string;
  priceMinor?: number;
  currency?: string;
  /** Markdown bodies, one chapter each (default: two short chapters). */
  chapters?: { title: string; body: string }[];
  publish?: boolean;
}

/** Writes an ebook through the API as `author` (chapters, then publishing unless `publish: false`). */
export async function createEbook(node: RunningNode, author: TestUser, spec: EbookSpec = {}): Promise<EbookDetailDto> {
  const body = {
    title: spec.title ?? 'Practical Algebra',
    author: 'Ada Writer',
    description: 'Numbers, letters, and how they meet.',
    ...(spec.communityId ? { communityId: spec.communityId } : {}),
    ...(spec.priceMinor ? { priceMinor: spec.priceMinor, currency: spec.currency ?? 'EUR' } : {}),
  };
  const { ebook } = await ok(call<EbookEnvelope>(node, 'POST', '/ebooks', author, body), 201);
  const chapters = spec.chapters ?? [
    { title: 'Getting started', body: SAMPLE_CHAPTER },
    { title: 'Going further', body: 'Second chapter with **bold** words and a list:\n\n- one\n- two' },
  ];
  for (const chapter of chapters) await ok(call<ChapterSourceEnvelope>(node, 'POST', `/ebooks/${ebook.id}/chapters`, author, chapter), 201);
  if (spec.publish === false) return (await ok(call<EbookEnvelope>(node, 'GET', `/ebooks/${ebook.id}`, author))).ebook;
  return (await ok(call<EbookEnvelope>(node, 'POST', `/ebooks/${ebook.id}/publish`, author))).ebook;
}

/** Several paragraphs of plain prose, long enough to carry the watermark more than once each. */
export const SAMPLE_CHAPTER = [
  '# Getting started',
  'Algebra begins when we stop asking for a particular number and start describing every number that could fit. ' +
    'A letter stands in for the value we do not know yet, and the rules of arithmetic still hold for it, which is ' +
    'the whole trick: whatever we may do to a number we may do to the letter.',
  'The second paragraph explains that an equation is a balance. Whatever we add to one side we must add to the other, ' +
    'and whatever we take away from one side we must take away from the other as well, or the balance tips.',
  'A third, shorter paragraph closes the chapter with a promise of exercises to come.',
].join('\n\n');

/** Grants an entitlement straight in the table, as commerce or a staff grant would. */
export async function grantEbook(node: RunningNode, ebookId: string, userId: string, source: 'free' | 'grant' | 'order' = 'grant') {
  await dbOf(node)
    .insertInto('entitlements')
    .values({ id: crypto.randomUUID(), user_id: userId, resource_type: 'ebook', resource_id: ebookId, source, created_at: new Date() })
    .execute();
}

/** Strips tags and decodes the few entities the renderer writes: what a reader gets by copying the page's text. */
export function plainTextOf(html: string): string {
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
