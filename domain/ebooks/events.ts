import type { EbookPositionEvent } from '../../contracts/ebooks.ts';

/*
 * The ebooks' domain events, emitted after commit. Reading is private: a position concerns only the reader, whose other
 * devices follow it. Publishing and claiming are announced for whoever keeps catalogues, counts or notifications.
 * `ebook.published`, `ebook.unpublished` and `ebook.updated` are also recorded durably (deps.events.record) in the
 * transaction of the change, so catalogues and search follow every committed change even if the node dies right after
 * the commit. Ebooks are never deleted (unpublishing takes one away).
 */

declare module '../shared/events.ts' {
  interface DomainEvents {
    /** A reader moved their reading position (on one of their devices). */
    'ebook.position_updated': { userId: string; position: EbookPositionEvent };
    /** An ebook became (or became again) visible in the catalogue. */
    'ebook.published': { ebookId: string; communityId: string | null };
    /** An ebook left the catalogue; its readers keep it. */
    'ebook.unpublished': { ebookId: string; communityId: string | null };
    /** Its details (title, author, description, price, cover) or its chapters (text, order, an EPUB import) changed. */
    'ebook.updated': { ebookId: string };
    /** A reader took a free copy (never emitted for a repeated claim). */
    'ebook.claimed': { ebookId: string; userId: string };
  }
}
