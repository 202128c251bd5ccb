/*
 * Reordering a course outline in the builder: pure functions over a plain tree, shared by the drag-and-drop handlers
 * and the keyboard move buttons so both produce the same order. Each returns a new tree (or the same one when the
 * move is not possible).
 */

export interface OutlineItem {
  id: string;
}
export interface OutlineGroup<L extends OutlineItem> {
  id: string;
  lessons: L[];
}

function locate<L extends OutlineItem>(modules: OutlineGroup<L>[], lessonId: string): { m: number; l: number } | null {
  for (let m = 0; m < modules.length; m += 1) {
    const l = modules[m]!.lessons.findIndex((lesson) => lesson.id === lessonId);
    if (l >= 0) return { m, l };
  }
  return null;
}

/**
 * Moves a lesson one place up (-1) or down (+1). At the edge of its module it crosses into the neighbouring module
 * (to its end when moving up, to its start when moving down), so every position is reachable by keyboard.
 */
export function moveLesson<M extends OutlineGroup<L>, L extends OutlineItem>(modules: M[], lessonId: string, delta: -1 | 1): M[] {
  const at = locate(modules, lessonId);
  if (!at) return modules;
  const next = modules.map((m) => ({ ...m, lessons: [...m.lessons] }));
  const from = next[at.m]!;
  const target = at.l + delta;
  if (target >= 0 && target < from.lessons.length) {
    const [lesson] = from.lessons.splice(at.l, 1);
    from.lessons.splice(target, 0, lesson!);
    return next;
  }
  const neighbour = next[at.m + delta];
  if (!neighbour) return modules;
  const [lesson] = from.lessons.splice(at.l, 1);
  if (delta < 0) neighbour.lessons.push(lesson!);
  else neighbour.lessons.unshift(lesson!);
  return next;
}

/** Moves a module one place up or down. */
export function moveModule<M extends OutlineGroup<OutlineItem>>(modules: M[], moduleId: string, delta: -1 | 1): M[] {
  const index = modules.findIndex((m) => m.id === moduleId);
  const target = index + delta;
  if (index < 0 || target < 0 || target >= modules.length) return modules;
  const next = [...modules];
  const [moved] = next.splice(index, 1);
  next.splice(target, 0, moved!);
  return next;
}

/**
 * Drops a lesson into a module before the lesson `beforeId` (at the end when null). Dropping a lesson onto itself
 * changes nothing.
 */
export function dropLesson<M extends OutlineGroup<L>, L extends OutlineItem>(modules: M[], lessonId: string, moduleId: string, beforeId: string | null): M[] {
  if (lessonId === beforeId) return modules;
  const at = locate(modules, lessonId);
  if (!at || !modules.some((m) => m.id === moduleId)) return modules;
  const next = modules.map((m) => ({ ...m, lessons: [...m.lessons] }));
  const [lesson] = next[at.m]!.lessons.splice(at.l, 1);
  const target = next.find((m) => m.id === moduleId)!;
  const index = beforeId === null ? -1 : target.lessons.findIndex((l) => l.id === beforeId);
  if (index < 0) target.lessons.push(lesson!);
  else target.lessons.splice(index, 0, lesson!);
  return next;
}

/** Drops a module before another one (at the end when null). */
export function dropModule<M extends OutlineGroup<OutlineItem>>(modules: M[], moduleId: string, beforeId: string | null): M[] {
  if (moduleId === beforeId) return modules;
  const moved = modules.find((m) => m.id === moduleId);
  if (!moved) return modules;
  const rest = modules.filter((m) => m.id !== moduleId);
  const index = beforeId === null ? -1 : rest.findIndex((m) => m.id === beforeId);
  if (index < 0) rest.push(moved);
  else rest.splice(index, 0, moved);
  return rest;
}

/** The order as ids only, to compare with what was saved. */
export function outlineKey(modules: OutlineGroup<OutlineItem>[]): string {
  return modules.map((m) => `${m.id}:${m.lessons.map((l) => l.id).join(',')}`).join('|');
}
