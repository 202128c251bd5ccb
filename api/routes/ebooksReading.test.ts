import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { readerText, type EbookEnvelope, type ImportResultDto, type ReaderChapterEnvelope } from '../../contracts/ebooks.ts';
import { identifyLeak } from '../../domain/ebooks/watermark.ts';
import { uploadAsset } from '../../test/assetFactories.ts';
import { buildEpub, createEbook, plainTextOf, SAMPLE_CHAPTER, userWithRole } from '../../test/ebookFactories.ts';
import { call, connectSocket, nextEvent, ok, registerUsers, type ClientSocket } from '../../test/factories.ts';
import { dbOf, startNode, type RunningNode } from '../../test/nodes.ts';

let node: RunningNode;
beforeAll(async () => {
  node = await startNode();
});
afterAll(async () => node?.close());

describe('watermarks', () => {
  it('every served chapter names its reader visibly and invisibly; a pasted copy, whole or one paragraph, identifies them', async () => {
    const author = await userWithRole(node, 'instructor');
    const ebook = await createEbook(node, author, { chapters: [{ title: 'One', body: SAMPLE_CHAPTER }] });
    const [alice, bob] = await registerUsers(node.url, 2);
    for (const reader of [alice, bob]) await ok(call(node, 'POST', `/ebooks/${ebook.id}/claim`, reader), 201);
    const chapterId = ebook.toc[0]!.id;
    const serve = async (reader: typeof alice) =>
      (await ok(call<ReaderChapterEnvelope>(node, 'GET', `/ebooks/${ebook.id}/chapters/${chapterId}`, reader))).chapter;
    const forAlice = await serve(alice);
    const forBob = await serve(bob);
    const today = new Date().toISOString().slice(0, 10);

    expect(forAlice.watermark).toBe(`Licensed to ${alice.user.displayName} · ${today}`);
    expect(forAlice.html).toMatch(new RegExp(`<p class="ebook-watermark">Licensed to ${alice.user.displayName} · ${today}</p>$`));
    expect(forAlice.html).toContain('<h1>');
    // Same text for the eye, different marks.
    expect(readerText(forAlice.html).replace(alice.user.displayName, '')).toBe(readerText(forBob.html).replace(bob.user.displayName, ''));
    expect(forAlice.html).not.toBe(forBob.html);

    const deps = node.node.deps;
    const whole = plainTextOf(forAlice.html);
    expect(await identifyLeak(deps, ebook.id, whole)).toEqual({ userId: alice.user.id });
    expect(await identifyLeak(deps, ebook.id, plainTextOf(forBob.html))).toEqual({ userId: bob.user.id });
    // One paragraph alone, without the visible line.
    const paragraphs = [...forAlice.html.matchAll(/<p>([\s\S]*?)<\/p>/g)].map((m) => m[1]!);
    expect(paragraphs.length).toBeGreaterThanOrEqual(3);
    for (const paragraph of paragraphs) {
      expect(plainTextOf(paragraph)).not.toContain(alice.user.displayName);
      expect(await identifyLeak(deps, ebook.id, plainTextOf(paragraph))).toEqual({ userId: alice.user.id });
    }
    // Text without marks, and marks of another ebook's reader, identify nobody.
    expect(await identifyLeak(deps, ebook.id, readerText(whole))).toBeNull();
    const other = await createEbook(node, author);
    expect(await identifyLeak(deps, other.id, whole)).toBeNull();

    // Offsets ignore the marks, and the visible line comes after the text.
    const text = forAlice.html.replace(/<p class="ebook-watermark">.*<\/p>$/, '').replace(/<[^>]*>/g, '');
    expect(forAlice.textLength).toBe(readerText(plainTextOf(text)).length);
    expect(forAlice.textLength).toBe(forBob.textLength);
  });

  it('a display name is text in the visible line, never markup', async () => {
    const author = await userWithRole(node, 'instructor');
    const ebook = await createEbook(node, author);
    const [reader] = await registerUsers(node.url, 1);
    await dbOf(node).updateTable('users').set({ display_name: '<img src=x onerror=alert(1)>' }).where('id', '=', reader.user.id).execute();
    await ok(call(node, 'POST', `/ebooks/${ebook.id}/claim`, reader), 201);
    const { chapter } = await ok(call<ReaderChapterEnvelope>(node, 'GET', `/ebooks/${ebook.id}/chapters/${ebook.toc[0]!.id}`, reader));
    expect(chapter.html).not.toContain('<img');
    expect(chapter.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});

describe('EPUB import', () => {
  it('appends the spine’s chapters as safe markdown, attaches the asset, and serves them to readers', async () => {
    const author = await userWithRole(node, 'instructor');
    const { ebook } = await ok(call<EbookEnvelope>(node, 'POST', '/ebooks', author, { title: 'Imported', author: 'Someone' }), 201);
    const bytes = await buildEpub({
      chapters: [
        { xhtml: '<div><img src="cover.jpg" alt="Cover"/></div>' },
        { tocTitle: 'Opening', xhtml: '<h1>Opening</h1><p>It was a <em>dark</em> night.</p><script>alert(1)</script><ul><li>one</li><li>two</li></ul>' },
        { xhtml: '<h2>The end</h2><p onclick="x()">Fin <a href="javascript:alert(1)">here</a>.</p>' },
      ],
      head: '<style>p { color: red }</style>',
    });
    const asset = await uploadAsset(node, author, { name: 'book.epub', bytes, type: 'application/epub+zip' });
    const result = await ok(call<ImportResultDto>(node, 'POST', `/ebooks/${ebook.id}/import`, author, { assetId: asset.id }), 201);
    expect(result.imported.map((c) => [c.title, c.position])).toEqual([
      ['Opening', 0],
      ['The end', 1],
    ]);
    expect(result.ebook.chapterCount).toBe(2);
    const source = await ok(call(node, 'GET', `/ebooks/${ebook.id}/chapters/${result.imported[0]!.id}/source`, author));
    expect(source.chapter.body).toBe('# Opening\n\nIt was a *dark* night.\n\n- one\n- two');
    const attached = await dbOf(node).selectFrom('assets').select('attached_at').where('id', '=', asset.id).executeTakeFirstOrThrow();
    expect(attached.attached_at).not.toBeNull();

    await ok(call(node, 'POST', `/ebooks/${ebook.id}/publish`, author));
    const [reader] = await registerUsers(node.url, 1);
    await ok(call(node, 'POST', `/ebooks/${ebook.id}/claim`, reader), 201);
    const { chapter } = await ok(call<ReaderChapterEnvelope>(node, 'GET', `/ebooks/${ebook.id}/chapters/${result.imported[1]!.id}`, reader));
    expect(readerText(chapter.html)).toContain('<h2>The end</h2>');
    expect(chapter.html).not.toMatch(/<script|onclick|javascript|<a |<img|color: red/);
  });

  it('a malformed EPUB is invalid_input and imports nothing; someone else’s asset is refused', async () => {
    const author = await userWithRole(node, 'instructor');
    const ebook = await createEbook(node, author, { chapters: [{ title: 'Kept', body: 'Existing text.' }] });
    const good = await buildEpub({ chapters: [{ xhtml: '<p>Text</p>' }] });
    // A zip that is an EPUB to the type sniffer but whose package is missing.
    const zip = await JSZip.loadAsync(good);
    zip.remove('OEBPS/content.opf');
    const broken = await zip.generateAsync({ type: 'nodebuffer' });
    const asset = await uploadAsset(node, author, { name: 'broken.epub', bytes: broken, type: 'application/epub+zip' });
    const res = await call(node, 'POST', `/ebooks/${ebook.id}/import`, author, { assetId: asset.id });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_input');
    const after = await ok(call<EbookEnvelope>(node, 'GET', `/ebooks/${ebook.id}`, author));
    expect(after.ebook.toc.map((c) => c.title)).toEqual(['Kept']);
    const row = await dbOf(node).selectFrom('assets').select('attached_at').where('id', '=', asset.id).executeTakeFirstOrThrow();
    expect(row.attached_at).toBeNull();

    const [stranger] = await registerUsers(node.url, 1);
    const theirs = await uploadAsset(node, stranger, { name: 'book.epub', bytes: good, type: 'application/epub+zip' });
    expect((await call(node, 'POST', `/ebooks/${ebook.id}/import`, author, { assetId: theirs.id })).status).toBe(400);
    expect((await call(node, 'POST', `/ebooks/${ebook.id}/import`, stranger, { assetId: theirs.id })).status).toBe(403);
  });
});

describe.skipIf(!inject('redisUrl'))('reading position across nodes', () => {
  let nodeA: RunningNode;
  let nodeB: RunningNode;
  const sockets: ClientSocket[] = [];
  beforeAll(async () => {
    const clusterId = crypto.randomUUID().slice(0, 12);
    [nodeA, nodeB] = await Promise.all([startNode({ clusterId, redis: true }), startNode({ clusterId, redis: true })]);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.all([nodeA?.close(), nodeB?.close()]);
  });

  it('a position saved through one node reaches the reader’s socket on another, and no one else’s', async () => {
    const author = await userWithRole(nodeA, 'instructor');
    const ebook = await createEbook(nodeA, author);
    const [reader, other] = await registerUsers(nodeA.url, 2);
    await ok(call(nodeA, 'POST', `/ebooks/${ebook.id}/claim`, reader), 201);
    const phone = await connectSocket(nodeB.url, reader.accessToken);
    const stranger = await connectSocket(nodeB.url, other.accessToken);
    sockets.push(phone, stranger);
    let strangerHeard = false;
    stranger.on('ebook:position_updated', () => (strangerHeard = true));

    const chapterId = ebook.toc[1]!.id;
    const heard = nextEvent(phone, 'ebook:position_updated', 5000);
    const { position } = await ok(call(nodeA, 'PUT', `/ebooks/${ebook.id}/position`, reader, { chapterId, offset: 12 }));
    expect(await heard).toEqual({ ebookId: ebook.id, chapterId, offset: 12, updatedAt: position.updatedAt });
    await new Promise((r) => setTimeout(r, 200));
    expect(strangerHeard).toBe(false);
  });
});
