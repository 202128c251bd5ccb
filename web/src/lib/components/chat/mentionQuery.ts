import type { UserRef } from '$contracts/communities.ts';

/** The `@…` being typed just before the caret (one space allowed, for a first and last name), or null. */
export function mentionAt(text: string, caret: number): { start: number; query: string } | null {
  const match = /(?:^|\s)@([^\s@]*(?: [^\s@]*)?)$/u.exec(text.slice(0, caret));
  if (!match) return null;
  return { start: caret - match[1]!.length - 1, query: match[1]! };
}

/** The people whose name (or a word of it) starts with the query; at most `limit`. */
export function matchPeople(people: readonly UserRef[], query: string, myId: string, limit = 8): UserRef[] {
  const q = query.toLowerCase();
  return people
    .filter((p) => p.id !== myId)
    .filter((p) => {
      const name = p.displayName.toLowerCase();
      return name.startsWith(q) || (!q.includes(' ') && name.split(/\s+/).some((word) => word.startsWith(q)));
    })
    .sort((a, b) => a.displayName.localeCompare(b.displayName))
    .slice(0, limit);
}
