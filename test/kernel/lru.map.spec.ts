import { describe, expect, it } from '@jest/globals';
import { LruMap } from '../../src/kernel/lru.map.js';

describe('LruMap', () => {
  it('keeps the most recently used entries within its capacity', () => {
    const evicted: string[] = [];
    const map = new LruMap<string, number>(2, (key) => evicted.push(key));
    map.set('a', 1);
    map.set('b', 2);
    expect(map.get('a')).toBe(1);
    map.set('c', 3);
    expect(evicted).toEqual(['b']);
    expect([...map].map(([key]) => key)).toEqual(['a', 'c']);
    expect(map.size).toBe(2);
  });

  it('does not count a peek as a use', () => {
    const map = new LruMap<string, number>(2);
    map.set('a', 1);
    map.set('b', 2);
    expect(map.peek('a')).toBe(1);
    map.set('c', 3);
    expect(map.peek('a')).toBeUndefined();
    expect(map.get('b')).toBe(2);
  });

  it('makes a replaced entry the newest, and tells eviction only of what the bound pushed out', () => {
    const evicted: Array<[string, number]> = [];
    const map = new LruMap<string, number>(2, (key, value) => evicted.push([key, value]));
    map.set('a', 1);
    map.set('b', 2);
    map.set('a', 10);
    expect(map.delete('b')).toBe(true);
    map.set('c', 3);
    map.set('d', 4);
    expect(evicted).toEqual([['a', 10]]);
    map.clear();
    expect(map.size).toBe(0);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new LruMap(0)).toThrow(TypeError);
    expect(() => new LruMap(1.5)).toThrow(TypeError);
  });
});
