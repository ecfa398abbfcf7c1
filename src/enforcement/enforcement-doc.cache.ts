import type { ReadStore } from '../ports/read-store.port.js';
import type { ChangedDocs, ReadModelChanges } from '../projections/read-model.changes.js';
import { ENFORCEMENT, type EnforcementDoc } from './enforcement.projection.js';

/**
 * The enforcement documents of recently asked-about users, in this process's memory: the hot path
 * then answers without a read-store round trip. Kept fresh by the projection's committed writes
 * (ReadModelChanges), which arrive before the projector reports their position, so a query with
 * `minPosition` never sees a document older than that position. Without a change notice (a process
 * that does not run the projector) nothing is cached. Entries not asked for since they were last
 * passed over leave first (second chance, an approximation of least recently used): a hit only
 * marks its entry, since moving it in the Map on every hit cost the hot path a delete and an insert.
 */
export class EnforcementDocCache {
  private readonly docs = new Map<string, CachedDoc>();
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

  /** The cached document, without a read-store round trip (nor a promise); undefined when not cached. */
  peek(userId: string): EnforcementDoc | undefined {
    const cached = this.docs.get(userId);
    if (cached === undefined) return undefined;
    cached.asked = true;
    return cached.doc;
  }

  async get(userId: string): Promise<EnforcementDoc | null> {
    const cached = this.peek(userId);
    if (cached !== undefined) return cached;
    const generation = this.generation;
    const doc = await this.store.get<EnforcementDoc>(ENFORCEMENT, userId);
    if (doc !== null && this.capacity > 0 && generation === this.generation) this.remember(userId, doc);
    return doc;
  }

  private remember(userId: string, doc: EnforcementDoc): void {
    if (this.docs.size >= this.capacity) this.evictOne();
    this.docs.set(userId, { doc, asked: false });
  }

  /** The oldest entry not asked for since it was last passed over; an asked one moves to the young end. */
  private evictOne(): void {
    for (const [userId, entry] of this.docs) {
      this.docs.delete(userId);
      if (!entry.asked) return;
      entry.asked = false;
      this.docs.set(userId, entry);
    }
  }

  private invalidate(changed: ChangedDocs): void {
    this.generation++;
    if (changed === 'all') this.docs.clear();
    else for (const id of changed) this.docs.delete(id);
  }
}

interface CachedDoc {
  readonly doc: EnforcementDoc;
  /** Asked for since it entered or was last passed over by eviction. */
  asked: boolean;
}
