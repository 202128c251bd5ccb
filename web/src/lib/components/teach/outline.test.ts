import { describe, expect, it } from 'vitest';
import { dropLesson, dropModule, moveLesson, moveModule, outlineKey } from './outline.ts';

const tree = () => [
  { id: 'm1', lessons: [{ id: 'a' }, { id: 'b' }] },
  { id: 'm2', lessons: [{ id: 'c' }] },
  { id: 'm3', lessons: [] as { id: string }[] },
];

describe('moving lessons by keyboard', () => {
  it('swaps with a neighbour inside a module', () => {
    expect(outlineKey(moveLesson(tree(), 'b', -1))).toBe('m1:b,a|m2:c|m3:');
    expect(outlineKey(moveLesson(tree(), 'a', 1))).toBe('m1:b,a|m2:c|m3:');
  });

  it('crosses into the neighbouring module at an edge, reaching empty modules too', () => {
    expect(outlineKey(moveLesson(tree(), 'b', 1))).toBe('m1:a|m2:b,c|m3:');
    expect(outlineKey(moveLesson(tree(), 'c', -1))).toBe('m1:a,b,c|m2:|m3:');
    expect(outlineKey(moveLesson(tree(), 'c', 1))).toBe('m1:a,b|m2:|m3:c');
  });

  it('stays put at the very start and end, and leaves the input alone', () => {
    const input = tree();
    expect(moveLesson(input, 'a', -1)).toBe(input);
    expect(outlineKey(input)).toBe('m1:a,b|m2:c|m3:');
  });
});

describe('moving modules', () => {
  it('moves by one and refuses to leave the list', () => {
    expect(outlineKey(moveModule(tree(), 'm2', -1))).toBe('m2:c|m1:a,b|m3:');
    const input = tree();
    expect(moveModule(input, 'm3', 1)).toBe(input);
  });

  it('drops before another module or at the end', () => {
    expect(outlineKey(dropModule(tree(), 'm3', 'm1'))).toBe('m3:|m1:a,b|m2:c');
    expect(outlineKey(dropModule(tree(), 'm1', null))).toBe('m2:c|m3:|m1:a,b');
  });
});

describe('dropping lessons', () => {
  it('drops before a lesson of any module, or at a module end', () => {
    expect(outlineKey(dropLesson(tree(), 'a', 'm2', 'c'))).toBe('m1:b|m2:a,c|m3:');
    expect(outlineKey(dropLesson(tree(), 'a', 'm3', null))).toBe('m1:b|m2:c|m3:a');
    expect(outlineKey(dropLesson(tree(), 'b', 'm1', 'a'))).toBe('m1:b,a|m2:c|m3:');
  });

  it('ignores a drop onto itself or an unknown module', () => {
    const input = tree();
    expect(dropLesson(input, 'a', 'm1', 'a')).toBe(input);
    expect(dropLesson(input, 'a', 'nope', null)).toBe(input);
  });
});
