import type { ReadStore } from '../ports/read-store.port.js';
import type { ChangedDocs, ReadModelChanges } from '../projections/read-model.changes.js';
import { ENFORCEMENT, type EnforcementDoc } from './enforcement.projection.js';

/**
 * The enforcement documents of recently asked-about users, in this process's memory: the hot path
 * then answers without a read-store round trip. Kept fresh by the projection's committed writes
 * (ReadModelChanges), which arrive before the projector reports their position, so a query with
 * `minPosition` never sees a document older than that position. Without a change notice (a process
 * that does not run the projector) nothing is cached. Least recently used entries leave first.
 */
export class EnforcementDocCache {
  private readonly docs = new Map<string, EnforcementDoc>();
  /** Bumped by every change notice: a read that started before one must not enter the cache. */
  private generation = 0;

  constructor(
    private readonly store: ReadStore,
    changes: ReadModelChanges | null,
    private readonly capacity: number,
  ) {
    if (changes === null) this.capacity = 0;
    else changes.onChange(ENFORCEMENT, (changed) => this.invalidate(changed));
  }

  get size(): number {
    return this.docs.size;
  }

  async get(userId: string): Promise<EnforcementDoc | null> {
    const cached = this.docs.get(userId);
    if (cached !== undefined) {
      // Re-inserting moves the entry to the young end of the Map's insertion order.
      this.docs.delete(userId);
      this.docs.set(userId, cached);
      return cached;
    }
    const generation = this.generation;
    const doc = await this.store.get<EnforcementDoc>(ENFORCEMENT, userId);
    if (doc !== null && this.capacity > 0 && generation === this.generation) this.remember(userId, doc);
    return doc;
  }

  private remember(userId: string, doc: EnforcementDoc): void {
    if (this.docs.size >= this.capacity) this.docs.delete(this.docs.keys().next().value!);
    this.docs.set(userId, doc);
  }

  private invalidate(changed: ChangedDocs): void {
    this.generation++;
    if (changed === 'all') this.docs.clear();
    else for (const id of changed) this.docs.delete(id);
  }
}
