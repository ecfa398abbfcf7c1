import { randomInt } from 'node:crypto';

/**
 * An immutable map from strings, for decider states that grow with a stream (an organisation's
 * members). `with` and `without` return a new map that shares all but one path of a hash trie
 * with the old one (32-way branches, bitmap-compressed), so an update costs O(log n) instead of
 * a copy of every entry: folding an organisation's history of n joins is then O(n log n), where
 * copying a `Map` per event made it O(n²) (24 s for 10,000 members), and a cached state no longer
 * turns every command into a copy of its members for the garbage collector.
 *
 * Iteration follows insertion order, as a `Map`'s does (a key set again keeps its place; one
 * removed and added again moves to the end), so decisions that list members stay deterministic.
 */
export class PersistentMap<V> implements Iterable<[string, V]> {
  private static readonly EMPTY = new PersistentMap<never>(undefined, 0, 0, hashOf);
  private ordered: ReadonlyArray<Entry<V>> | undefined;

  private constructor(
    private readonly root: Node<V> | undefined,
    readonly size: number,
    /** Order of the next key added: entries iterate by the order they were added in. */
    private readonly nextOrder: number,
    private readonly hash: (key: string) => number,
  ) {}

  static empty<V>(): PersistentMap<V> {
    return PersistentMap.EMPTY as PersistentMap<V>;
  }

  /** An empty map on another hash, for tests that need keys to collide. */
  static emptyWithHash<V>(hash: (key: string) => number): PersistentMap<V> {
    return new PersistentMap<V>(undefined, 0, 0, (key) => hash(key) >>> 0);
  }

  static from<V>(entries: Iterable<readonly [string, V]>): PersistentMap<V> {
    let map = PersistentMap.empty<V>();
    for (const [key, value] of entries) map = map.with(key, value);
    return map;
  }

  get(key: string): V | undefined {
    return this.entry(key)?.value;
  }

  has(key: string): boolean {
    return this.entry(key) !== undefined;
  }

  with(key: string, value: V): PersistentMap<V> {
    const existing = this.entry(key);
    if (existing && Object.is(existing.value, value)) return this;
    const entry: Entry<V> = { key, value, order: existing ? existing.order : this.nextOrder };
    const root = insert(this.root, this.hash(key), 0, entry);
    return new PersistentMap(root, existing ? this.size : this.size + 1, existing ? this.nextOrder : this.nextOrder + 1, this.hash);
  }

  without(key: string): PersistentMap<V> {
    if (!this.has(key)) return this;
    return new PersistentMap(remove(this.root, this.hash(key), 0, key), this.size - 1, this.nextOrder, this.hash);
  }

  *[Symbol.iterator](): IterableIterator<[string, V]> {
    for (const { key, value } of this.entries()) yield [key, value];
  }

  *keys(): IterableIterator<string> {
    for (const { key } of this.entries()) yield key;
  }

  private entry(key: string): Entry<V> | undefined {
    const hash = this.hash(key);
    let node = this.root;
    for (let shift = 0; node; shift += BITS) {
      if (node.kind === 'bucket') return node.hash === hash ? node.entries.find((entry) => entry.key === key) : undefined;
      const bit = bitAt(hash, shift);
      if ((node.bitmap & bit) === 0) return undefined;
      node = node.children[slotOf(node.bitmap, bit)];
    }
    return undefined;
  }

  /** Sorted once per map: a map never changes, and listing is far rarer than lookups. */
  private entries(): ReadonlyArray<Entry<V>> {
    if (!this.ordered) {
      const all: Entry<V>[] = [];
      collect(this.root, all);
      this.ordered = all.sort((a, b) => a.order - b.order);
    }
    return this.ordered;
  }
}

interface Entry<V> {
  readonly key: string;
  readonly value: V;
  readonly order: number;
}

/** Keys whose hashes are equal (all 32 bits) share a bucket. */
interface Bucket<V> {
  readonly kind: 'bucket';
  readonly hash: number;
  readonly entries: ReadonlyArray<Entry<V>>;
}

/** Bit i of `bitmap` says whether child i of 32 exists; `children` holds only those that do. */
interface Branch<V> {
  readonly kind: 'branch';
  readonly bitmap: number;
  readonly children: ReadonlyArray<Node<V>>;
}

type Node<V> = Bucket<V> | Branch<V>;

const BITS = 5;

function bitAt(hash: number, shift: number): number {
  return 1 << ((hash >>> shift) & 31);
}

function slotOf(bitmap: number, bit: number): number {
  return popCount(bitmap & (bit - 1));
}

function popCount(bits: number): number {
  let n = bits - ((bits >>> 1) & 0x55555555);
  n = (n & 0x33333333) + ((n >>> 2) & 0x33333333);
  return (Math.imul((n + (n >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

function insert<V>(node: Node<V> | undefined, hash: number, shift: number, entry: Entry<V>): Node<V> {
  if (!node) return { kind: 'bucket', hash, entries: [entry] };
  if (node.kind === 'bucket') {
    if (node.hash === hash) return { kind: 'bucket', hash, entries: [...node.entries.filter((e) => e.key !== entry.key), entry] };
    // Two hashes differ in some bit, so they part at this level or a deeper one (shift stays below 32).
    return insert(branchOf(node, shift), hash, shift, entry);
  }
  const bit = bitAt(hash, shift);
  const slot = slotOf(node.bitmap, bit);
  const children = [...node.children];
  if (node.bitmap & bit) children[slot] = insert(children[slot], hash, shift + BITS, entry);
  else children.splice(slot, 0, { kind: 'bucket', hash, entries: [entry] });
  return { kind: 'branch', bitmap: node.bitmap | bit, children };
}

function branchOf<V>(bucket: Bucket<V>, shift: number): Branch<V> {
  return { kind: 'branch', bitmap: bitAt(bucket.hash, shift), children: [bucket] };
}

function remove<V>(node: Node<V> | undefined, hash: number, shift: number, key: string): Node<V> | undefined {
  if (!node) return undefined;
  if (node.kind === 'bucket') {
    if (node.hash !== hash) return node;
    const entries = node.entries.filter((entry) => entry.key !== key);
    return entries.length === 0 ? undefined : { kind: 'bucket', hash, entries };
  }
  const bit = bitAt(hash, shift);
  if ((node.bitmap & bit) === 0) return node;
  const slot = slotOf(node.bitmap, bit);
  const child = remove(node.children[slot], hash, shift + BITS, key);
  const children = [...node.children];
  if (child) children[slot] = child;
  else children.splice(slot, 1);
  if (children.length === 0) return undefined;
  // A lone bucket moves up, so a shrinking map does not keep chains of one-child branches.
  if (children.length === 1 && children[0]!.kind === 'bucket') return children[0];
  return { kind: 'branch', bitmap: child ? node.bitmap : node.bitmap & ~bit, children };
}

function collect<V>(node: Node<V> | undefined, into: Entry<V>[]): void {
  if (!node) return;
  if (node.kind === 'bucket') into.push(...node.entries);
  else for (const child of node.children) collect(child, into);
}

/**
 * FNV-1a over UTF-16 units from a per-process random basis: keys come from outside (user ids),
 * and a fixed hash would let someone choose ids that all share one bucket and make every lookup
 * linear. Only the trie's shape depends on it; lookups and iteration order do not.
 */
const HASH_BASIS = randomInt(0, 2 ** 32 - 1);

function hashOf(key: string): number {
  let hash = HASH_BASIS;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
