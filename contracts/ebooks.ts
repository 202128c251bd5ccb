/** Ebooks: authoring, claiming, reading, positions, highlights and bookmarks (wire shapes for REST and sockets). */

/** Live ebook events, sent to the reader's own room (`rooms.user`) so their other devices follow along. */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface EbookServerEvents {}
