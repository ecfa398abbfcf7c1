/**
 * A map bounded to its `capacity` most recently used entries. A `Map` iterates in insertion
 * order, so moving an entry to the end on use leaves the least recently used first, to evict.
 * `onEvict` sees every entry pushed out by the bound (a data key is zeroed there), never one
 * removed by `delete` or replaced by `set`.
 */
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(
    readonly capacity: number,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new TypeError('capacity must be a positive integer');
  }

  /** The value, now the most recently used. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** The value, without counting this as a use. */
  peek(key: K): V | undefined {
    return this.entries.get(key);
  }

  /** Stores the value as the most recently used, evicting the least recently used beyond the bound. */
  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) this.evictOldest();
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  /** Least recently used first. */
  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries.entries();
  }

  private evictOldest(): void {
    const [key, value] = this.entries.entries().next().value!;
    this.entries.delete(key);
    this.onEvict?.(key, value);
  }
}
