import { describe, expect, it } from 'vitest';
import { FakeSocket } from './fakeSocket.ts';
import { reportTabFocus, type FocusSource } from './tabFocus.ts';

/** A tab whose visibility and focus the test changes, firing the events a browser fires. */
function fakeTab() {
  const doc = new EventTarget() as EventTarget & { visibilityState: DocumentVisibilityState; hasFocus(): boolean };
  const win = new EventTarget();
  let focused = true;
  doc.visibilityState = 'visible';
  doc.hasFocus = () => focused;
  return {
    source: { doc, win } as unknown as FocusSource,
    blur() {
      focused = false;
      win.dispatchEvent(new Event('blur'));
    },
    focus() {
      focused = true;
      win.dispatchEvent(new Event('focus'));
    },
    hide() {
      doc.visibilityState = 'hidden';
      doc.dispatchEvent(new Event('visibilitychange'));
    },
    show() {
      doc.visibilityState = 'visible';
      doc.dispatchEvent(new Event('visibilitychange'));
    },
  };
}

const reports = (socket: FakeSocket) =>
  socket.emitted.filter((e) => e.event === 'presence:focus').map((e) => (e.payload as { focused: boolean }).focused);

describe('reportTabFocus', () => {
  it('reports on connect and on each change, again after a reconnect, and stops on cleanup', () => {
    const socket = new FakeSocket();
    const tab = fakeTab();
    const stop = reportTabFocus(socket.socket, tab.source);
    expect(reports(socket)).toEqual([true]);

    tab.blur();
    tab.hide();
    tab.show(); // shown but still without focus: no change to report
    tab.focus();
    expect(reports(socket)).toEqual([true, false, true]);

    // Nothing is sent while disconnected; the new connection hears the current state.
    socket.drop();
    tab.blur();
    expect(reports(socket)).toEqual([true, false, true]);
    socket.reconnect();
    expect(reports(socket)).toEqual([true, false, true, false]);

    stop();
    tab.focus();
    socket.drop();
    socket.reconnect();
    expect(reports(socket)).toEqual([true, false, true, false]);
    expect(socket.listeners()).toBe(0);
  });

  it('keeps reporting when the server refuses the event', () => {
    const socket = new FakeSocket(() => ({ ok: false, error: { code: 'invalid_input', message: 'Unknown event' } }));
    const tab = fakeTab();
    reportTabFocus(socket.socket, tab.source);
    tab.blur();
    tab.focus();
    expect(reports(socket)).toEqual([true, false, true]);
  });
});
