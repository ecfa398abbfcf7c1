/**
 * Which physical MongoDB collection holds each read-model collection. A rebuild's swap does not
 * rename anything: it exchanges the two names in this map, which lives in one document, so the
 * switch is one write (committed with the checkpoints in one transaction). A crash before that
 * commit leaves the old generation live, after it the new one; there is no moment with neither.
 * Names absent from the map are their own physical collection, so a database written before the
 * map existed needs no migration. Swaps only permute names, so no two names ever share a collection.
 */
export type CollectionMap = Readonly<Record<string, string>>;

export const IDENTITY: CollectionMap = {};

export function physicalName(map: CollectionMap, collection: string): string {
  return map[collection] ?? collection;
}

/** The map once each pair has exchanged its collections; identity entries are left out. */
export function afterSwap(map: CollectionMap, pairs: ReadonlyArray<readonly [string, string]>): CollectionMap {
  const next: Record<string, string> = { ...map };
  for (const [a, b] of pairs) {
    const [physicalA, physicalB] = [physicalName(next, a), physicalName(next, b)];
    next[a] = physicalB;
    next[b] = physicalA;
  }
  return Object.fromEntries(Object.entries(next).filter(([name, physical]) => name !== physical));
}
