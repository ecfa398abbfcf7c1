import type { Checkpoint, Doc, Filter, FindOptions, IndexSpec, Page, ReadStore, WriteOp } from '../ports/read-store.port.js';

/** Which documents of a collection a committed write touched: their ids, or all of them. */
export type ChangedDocs = readonly string[] | 'all';

/**
 * `position`: the checkpoint committed with the write (the last event it reflects), or null for a
 * write without one and for a rebuild's swap or a drop (everything may have changed).
 */
export type ReadModelChangeListener = (changed: ChangedDocs, position: string | null) => void;

/**
 * In-process notice of committed read-model writes, for caches kept in this process (the
 * enforcement check's document cache, a change feed). Only the process that runs the projector
 * sees every write, so only it has one (`Runtime.readModelChanges`); elsewhere it is null and a
 * cache must not be kept. Listeners run after the commit and before the projector reports the
 * position as reached, so a read-your-writes wait never ends before a cache has dropped the old
 * document.
 */
export interface ReadModelChanges {
  /**
   * Returns the function that removes the listener. A listener runs inside the projector's commit
   * path: it must be quick and must not throw (a throw fails that write for the projector, which
   * then applies the same events again).
   */
  onChange(collection: string, listener: ReadModelChangeListener): () => void;
}

/** The read store the projector writes through: every committed write is announced to listeners. */
export class ChangeAnnouncingReadStore implements ReadStore, ReadModelChanges {
  private readonly listeners = new Map<string, Set<ReadModelChangeListener>>();

  constructor(private readonly inner: ReadStore) {}

  onChange(collection: string, listener: ReadModelChangeListener): () => void {
    let set = this.listeners.get(collection);
    if (!set) this.listeners.set(collection, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  async write(ops: readonly WriteOp[], checkpoint?: Checkpoint): Promise<void> {
    await this.inner.write(ops, checkpoint);
    if (this.listeners.size > 0) this.announce(ops, checkpoint?.position ?? null);
  }

  async drop(collection: string): Promise<void> {
    await this.inner.drop(collection);
    this.emit(collection, 'all', null);
  }

  async swapCollections(pairs: ReadonlyArray<readonly [string, string]>, checkpoints?: readonly Checkpoint[]): Promise<void> {
    await this.inner.swapCollections(pairs, checkpoints);
    for (const pair of pairs) for (const collection of pair) this.emit(collection, 'all', null);
  }

  get<T extends Doc>(collection: string, id: string): Promise<T | null> {
    return this.inner.get<T>(collection, id);
  }

  find<T extends Doc>(collection: string, filter: Filter, options?: FindOptions): Promise<Page<T>> {
    return this.inner.find<T>(collection, filter, options);
  }

  count(collection: string, filter: Filter): Promise<number> {
    return this.inner.count(collection, filter);
  }

  ensureIndexes(collection: string, indexes: readonly IndexSpec[]): Promise<void> {
    return this.inner.ensureIndexes(collection, indexes);
  }

  getCheckpoint(name: string): Promise<string | null> {
    return this.inner.getCheckpoint(name);
  }

  ping(): Promise<boolean> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private announce(ops: readonly WriteOp[], position: string | null): void {
    const byCollection = new Map<string, string[] | 'all'>();
    for (const op of ops) {
      if (!this.listeners.has(op.collection)) continue;
      const ids = byCollection.get(op.collection) ?? [];
      if (ids === 'all') continue;
      if (op.kind === 'patchMany' || op.kind === 'deleteMany') byCollection.set(op.collection, 'all');
      else {
        ids.push(op.kind === 'upsert' ? op.doc.id : op.id);
        byCollection.set(op.collection, ids);
      }
    }
    for (const [collection, changed] of byCollection) this.emit(collection, changed, position);
  }

  private emit(collection: string, changed: ChangedDocs, position: string | null): void {
    for (const listener of this.listeners.get(collection) ?? []) listener(changed, position);
  }
}
