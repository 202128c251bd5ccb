/** Classes that mark the message a link pointed at (kept as literals so Tailwind generates them). */
const HIGHLIGHT = ['ring-2', 'ring-amber-500', 'bg-amber-50'];

/**
 * A link to a message (`?message=<id>`, e.g. from a notification) shows that message: once it is on the page, scroll it
 * into view, highlight it and mark it for assistive technology. Returns a cleanup that stops waiting and removes the
 * highlight. Only the messages already loaded are searched; older history is not paged in for it.
 */
export function revealMessage(messageId: string | null, root: ParentNode = document, waitMs = 10_000): () => void {
  return reveal('data-message-id', messageId, root, waitMs);
}

/** The same for a feed post (`?post=<id>`): the post card is scrolled into view and highlighted. */
export function revealPost(postId: string | null, root: ParentNode = document, waitMs = 10_000): () => void {
  return reveal('data-post-id', postId, root, waitMs);
}

function reveal(attribute: 'data-message-id' | 'data-post-id', id: string | null, root: ParentNode, waitMs: number): () => void {
  if (!id || !/^[0-9a-fA-F-]{36}$/.test(id)) return () => {};
  let target: HTMLElement | null = null;
  const find = (): boolean => {
    const found = root.querySelector<HTMLElement>(`[${attribute}="${id.toLowerCase()}"]`);
    if (!found) return false;
    target = found;
    found.classList.add(...HIGHLIGHT);
    found.setAttribute('aria-current', 'true');
    // After the list's own scroll-to-newest has run for this render.
    requestAnimationFrame(() => found.scrollIntoView({ block: 'center' }));
    return true;
  };
  let observer: MutationObserver | null = null;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const stop = () => {
    observer?.disconnect();
    observer = null;
    if (timer !== null) clearTimeout(timer);
    timer = null;
  };
  if (!find()) {
    observer = new MutationObserver(() => {
      if (find()) stop();
    });
    observer.observe(root instanceof Document ? root.body : (root as Node), { childList: true, subtree: true });
    timer = setTimeout(stop, waitMs);
  }
  return () => {
    stop();
    const shown = target as HTMLElement | null;
    shown?.classList.remove(...HIGHLIGHT);
    shown?.removeAttribute('aria-current');
  };
}
