const PREFIX = /^\(\d+\+?\) /;

/**
 * Keeps "(n) " in front of the tab's title while there are unread notifications, whatever title the page sets (pages
 * set theirs through <svelte:head>; this re-applies the prefix whenever the title changes). Returns a cleanup that
 * stops and leaves the page's own title.
 */
export function unreadInTabTitle(count: number, doc: Document = document): () => void {
  const apply = () => {
    const base = doc.title.replace(PREFIX, '');
    const next = count > 0 ? `(${count > 99 ? '99+' : count}) ${base}` : base;
    if (doc.title !== next) doc.title = next;
  };
  apply();
  const observer = new MutationObserver(apply);
  observer.observe(doc.head, { childList: true, subtree: true, characterData: true });
  return () => observer.disconnect();
}
