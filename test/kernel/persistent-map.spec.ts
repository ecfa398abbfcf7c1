import { describe, expect, it } from '@jest/globals';
import { PersistentMap } from '../../src/kernel/persistent-map.js';

/** A seeded generator, so a failing sequence of operations can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/**
 * Replays random sets and deletes on a PersistentMap and on a Map side by side and checks, after
 * every step, that both hold the same entries in the same order, and that every earlier version
 * of the persistent map still holds what it held when it was made.
 */
function checkAgainstMap(empty: PersistentMap<number>, keys: readonly string[], steps: number, seed: number): void {
  const next = random(seed);
  let map = empty;
  const model = new Map<string, number>();
  const versions: Array<{ readonly map: PersistentMap<number>; readonly entries: Array<[string, number]> }> = [];
  for (let step = 0; step < steps; step++) {
    const key = keys[Math.floor(next() * keys.length)]!;
    if (next() < 0.3) {
      map = map.without(key);
      model.delete(key);
    } else {
      const value = Math.floor(next() * 5);
      map = map.with(key, value);
      model.set(key, value);
    }
    const probe = keys[Math.floor(next() * keys.length)]!;
    // Compared as text first: a deep toEqual on every step is slow, and it is only needed for the diff.
    const same = map.size === model.size && JSON.stringify([...map]) === JSON.stringify([...model]) && [key, probe].every((k) => map.get(k) === model.get(k) && map.has(k) === model.has(k));
    if (!same) expect({ step, size: map.size, entries: [...map], get: map.get(probe) }).toEqual({ step, size: model.size, entries: [...model], get: model.get(probe) });
    if (step % 25 === 0) versions.push({ map, entries: [...model] });
  }
  for (const version of versions) expect([...version.map]).toEqual(version.entries);
}

describe('PersistentMap', () => {
  it('answers as a Map does, in insertion order, over random sets and deletes', () => {
    const keys = Array.from({ length: 300 }, (_, i) => `user-${i}`);
    checkAgainstMap(PersistentMap.empty(), keys, 3_000, 7);
  });

  it('keeps keys whose hashes collide apart, and deeper branches when hashes share their low bits', () => {
    const keys = Array.from({ length: 60 }, (_, i) => `k${i}`);
    // Ten keys per full hash, and hashes that differ only above bit 25, so branches nest to the last level.
    const hash = (key: string): number => (Number(key.slice(1)) % 6) << 26;
    checkAgainstMap(PersistentMap.emptyWithHash(hash), keys, 2_000, 11);
  });

  it('leaves the map it was made from unchanged', () => {
    const before = PersistentMap.from([['a', 1], ['b', 2]]);
    const after = before.with('a', 3).without('b').with('c', 4);
    expect([...before]).toEqual([['a', 1], ['b', 2]]);
    expect([...after]).toEqual([['a', 3], ['c', 4]]);
    expect([...after.keys()]).toEqual(['a', 'c']);
  });

  it('keeps a key set again in its place, and moves one removed and added again to the end', () => {
    const map = PersistentMap.from([['a', 1], ['b', 2], ['c', 3]]);
    expect([...map.with('a', 9).keys()]).toEqual(['a', 'b', 'c']);
    expect([...map.without('a').with('a', 1).keys()]).toEqual(['b', 'c', 'a']);
  });

  it('returns the same map when nothing changes', () => {
    const map = PersistentMap.from([['a', 1]]);
    expect(map.with('a', 1)).toBe(map);
    expect(map.without('z')).toBe(map);
  });

  it('holds twenty thousand keys', () => {
    let map = PersistentMap.empty<string>();
    for (let i = 0; i < 20_000; i++) map = map.with(`user-${i}`, 'member');
    expect(map.size).toBe(20_000);
    expect(map.get('user-19999')).toBe('member');
    expect(map.without('user-0').has('user-0')).toBe(false);
  });
});
