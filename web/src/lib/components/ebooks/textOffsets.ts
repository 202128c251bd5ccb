import { readerText } from '$contracts/ebooks.ts';

/*
 * Reader offsets ↔ DOM positions. An offset counts UTF-16 code units of the chapter's reader text: the content's
 * text with the watermark's invisible characters removed (contracts/ebooks.ts). Highlights wrap text in <mark>
 * elements, which splits text nodes but never adds or removes text, so offsets stay valid while marks come and go.
 */

export interface TextPoint {
  node: Text;
  offset: number;
}

function textNodes(container: Element): Text[] {
  const walker = container.ownerDocument.createTreeWalker(container, NodeFilter.SHOW_TEXT);
  const nodes: Text[] = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n as Text);
  return nodes;
}

/** The reader offset of a DOM boundary point inside `container` (a selection's anchor or focus). */
export function offsetOf(container: Element, node: Node, offset: number): number {
  const range = container.ownerDocument.createRange();
  range.setStart(container, 0);
  range.setEnd(node, offset);
  return readerText(range.toString()).length;
}

/** The DOM point at a reader offset (clamped to the text's end). `preferNext` lands at the start of the next node. */
export function pointAt(container: Element, target: number, preferNext = false): TextPoint | null {
  const nodes = textNodes(container);
  let seen = 0;
  for (const node of nodes) {
    const length = readerText(node.data).length;
    const inside = preferNext ? target < seen + length : target <= seen + length;
    if (inside) {
      // Walk the raw characters, skipping invisible ones, until `target - seen` counted characters lie behind.
      let counted = 0;
      let raw = 0;
      const wanted = target - seen;
      while (raw < node.data.length && counted < wanted) {
        if (readerText(node.data.charAt(raw)).length > 0) counted++;
        raw++;
      }
      return { node, offset: raw };
    }
    seen += length;
  }
  const last = nodes.at(-1);
  return last ? { node: last, offset: last.data.length } : null;
}

/** The selection's reader range inside `container`, or null when nothing (or something elsewhere) is selected. */
export function selectionRange(container: Element, selection: Selection | null): { start: number; end: number; text: string } | null {
  if (!selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  if (!container.contains(range.startContainer) || !container.contains(range.endContainer)) return null;
  const start = offsetOf(container, range.startContainer, range.startOffset);
  const end = offsetOf(container, range.endContainer, range.endOffset);
  const text = readerText(range.toString()).trim();
  if (end <= start || !text) return null;
  return { start, end, text };
}

/** The reader text between two offsets (for a highlight's excerpt). */
export function textBetween(container: Element, start: number, end: number): string {
  return readerText(container.textContent ?? '').slice(start, end);
}

export interface MarkSpec {
  id: string;
  start: number;
  end: number;
  attributes: Record<string, string>;
}

/** Removes every mark this module added, leaving the text as the server sent it. */
export function clearMarks(container: Element): void {
  for (const mark of Array.from(container.querySelectorAll('mark[data-highlight]'))) {
    mark.replaceWith(...Array.from(mark.childNodes));
  }
  container.normalize();
}

/** Wraps each range's text in <mark data-highlight=id …attributes>, one element per text node it covers. */
export function applyMarks(container: Element, marks: readonly MarkSpec[]): void {
  clearMarks(container);
  for (const spec of marks) {
    const start = pointAt(container, spec.start, true);
    const end = pointAt(container, spec.end);
    if (!start || !end) continue;
    const nodes = textNodes(container);
    const from = nodes.indexOf(start.node);
    const to = nodes.indexOf(end.node);
    if (from < 0 || to < from) continue;
    for (const node of nodes.slice(from, to + 1).reverse()) {
      const s = node === start.node ? start.offset : 0;
      const e = node === end.node ? end.offset : node.data.length;
      if (e <= s || /^\s*$/.test(node.data.slice(s, e))) continue;
      if (e < node.data.length) node.splitText(e);
      const target: Text = s > 0 ? node.splitText(s) : node;
      const mark = container.ownerDocument.createElement('mark');
      mark.dataset.highlight = spec.id;
      for (const [name, value] of Object.entries(spec.attributes)) mark.setAttribute(name, value);
      target.replaceWith(mark);
      mark.append(target);
    }
  }
}

/** The reader offset of the first text visible below `top` (px from the viewport's top). */
export function firstVisibleOffset(container: Element, top: number): number {
  const range = container.ownerDocument.createRange();
  for (const node of textNodes(container)) {
    if (/^\s*$/.test(node.data)) continue;
    range.selectNodeContents(node);
    const rects = range.getClientRects();
    for (const rect of Array.from(rects)) {
      if (rect.bottom > top) {
        if (rect.top >= top) return offsetOf(container, node, 0);
        // A long paragraph straddling the edge: find the first character below it.
        return offsetInsideNode(container, node, top);
      }
    }
  }
  return 0;
}

function offsetInsideNode(container: Element, node: Text, top: number): number {
  const range = container.ownerDocument.createRange();
  let lo = 0;
  let hi = node.data.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    range.setStart(node, mid);
    range.setEnd(node, Math.min(node.data.length, mid + 1));
    const rect = range.getBoundingClientRect();
    if (rect.bottom <= top) lo = mid + 1;
    else hi = mid;
  }
  return offsetOf(container, node, lo);
}

/** The viewport y of a reader offset, for scrolling there. */
export function topOfOffset(container: Element, offset: number): number | null {
  const point = pointAt(container, offset, true);
  if (!point) return null;
  const range = container.ownerDocument.createRange();
  range.setStart(point.node, point.offset);
  range.setEnd(point.node, Math.min(point.node.data.length, point.offset + 1));
  const rect = range.getBoundingClientRect();
  return rect.height === 0 && rect.top === 0 ? null : rect.top;
}
