import type { LiveSocket } from './liveStore.svelte.ts';

/** The parts of `document` and `window` the focus report reads (unit tests hand in small stand-ins). */
export interface FocusSource {
  doc: Pick<Document, 'visibilityState' | 'hasFocus' | 'addEventListener' | 'removeEventListener'>;
  win: Pick<Window, 'addEventListener' | 'removeEventListener'>;
}

/** The person is looking at this tab: it is shown and has the keyboard focus. */
export function tabFocused(doc: FocusSource['doc']): boolean {
  return doc.visibilityState === 'visible' && doc.hasFocus();
}

/**
 * Tells the server whether this tab is the one the person is looking at (`presence:focus`), on every (re)connect and
 * whenever that changes, so a direct message notifies only while none of their tabs is focused. A failed ack changes
 * nothing here: the next change or reconnect reports again. Returns the cleanup.
 */
export function reportTabFocus(
  socket: LiveSocket,
  source: FocusSource = { doc: document, win: window },
): () => void {
  const { doc, win } = source;
  /** What this connection was last told; a new connection starts without it. */
  let sent: boolean | null = null;

  const report = () => {
    if (!socket.connected) return;
    const focused = tabFocused(doc);
    if (focused === sent) return;
    sent = focused;
    socket.emit('presence:focus', { focused }, () => {});
  };
  const onConnect = () => {
    sent = null;
    report();
  };
  const onDisconnect = () => {
    sent = null;
  };

  socket.on('connect', onConnect);
  socket.on('disconnect', onDisconnect);
  doc.addEventListener('visibilitychange', report);
  win.addEventListener('focus', report);
  win.addEventListener('blur', report);
  report();

  return () => {
    socket.off('connect', onConnect);
    socket.off('disconnect', onDisconnect);
    doc.removeEventListener('visibilitychange', report);
    win.removeEventListener('focus', report);
    win.removeEventListener('blur', report);
  };
}
