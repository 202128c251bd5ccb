/** Lower case without accents: "Ça" and "ca" match. */
export function foldText(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}+/gu, '').toLowerCase();
}

/**
 * The filtered words that occur in `text` as whole words (letters and digits around them do not count as part of a
 * match), compared case- and accent-insensitively. Multi-word entries match as phrases.
 */
export function matchedWords(text: string, words: readonly string[]): string[] {
  if (!words.length || !text) return [];
  const haystack = foldText(text);
  const found: string[] = [];
  for (const word of words) {
    const needle = foldText(word).trim();
    if (!needle) continue;
    const escaped = needle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+');
    if (new RegExp(`(?<![\\p{L}\\p{N}])${escaped}(?![\\p{L}\\p{N}])`, 'u').test(haystack)) found.push(word);
  }
  return found;
}

/** http(s) links and bare www. addresses in a text. */
export function countLinks(text: string): number {
  return (text.match(/\bhttps?:\/\/[^\s<>()]+|\bwww\.[^\s<>()]+/giu) ?? []).length;
}
