import type { HighlightColor } from '$contracts/ebooks.ts';

/** Names said aloud and the swatch shown beside them (the text says the colour; the swatch only repeats it). */
export const COLOR_LABELS: Record<HighlightColor, { name: string; swatch: string }> = {
  yellow: { name: 'Yellow', swatch: 'bg-amber-200' },
  green: { name: 'Green', swatch: 'bg-green-200' },
  blue: { name: 'Blue', swatch: 'bg-blue-200' },
  pink: { name: 'Pink', swatch: 'bg-pink-200' },
  purple: { name: 'Purple', swatch: 'bg-purple-200' },
};
