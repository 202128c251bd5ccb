import type { EbookPositionEvent } from '../../contracts/ebooks.ts';

/*
 * The ebooks' domain events, emitted after commit. Reading is private: a position concerns only the reader, whose other
 * devices follow it. Publishing and claiming are announced for whoever keeps catalogues, counts or notifications.
 */

declare module '../shared/events.ts' {
  interface DomainEvents {
    /** A reader moved their reading position (on one of their devices). */
    'ebook.position_updated': { userId: string; position: EbookPositionEvent };
    /** An ebook became (or became again) visible in the catalogue. */
    'ebook.published': { ebookId: string; communityId: string | null };
    /** An ebook left the catalogue; its readers keep it. */
    'ebook.unpublished': { ebookId: string; communityId: string | null };
    /** A reader took a free copy (never emitted for a repeated claim). */
    'ebook.claimed': { ebookId: string; userId: string };
  }
}
