import type { Doc, DocValue, FindOptions, Filter, Page, ReadStore, WriteOp, Checkpoint } from '../ports/read-store.port.js';
import type { ReadModelView } from './projection.js';

const MAX_CACHED_DOCS = 50_000;

export interface BatchingViewOptions {
  /** Maps a collection to the one actually used (a rebuild writes to fresh twins). */
  readonly target?: (collection: string) => string;
  /** Runs once per collection before the store is first asked or written about it (a rebuild empties leftovers there). */
  readonly prepare?: (collection: string) => Promise<void>;
  /**
   * The projection's checkpoint name: a flush forced by a read then also stores the checkpoint at
   * the last event staged in full, so a projection's writes and its checkpoint still commit together.
   */
  readonly checkpoint?: string;
}

/**
 * Lets a projection apply many events before one write. Projections read the documents they are
 * about to change, so reads must see the writes staged so far: documents written by id are kept
 * in memory (the exact result of the staged operations), and anything the cache cannot answer
 * exactly (a patch of an unread document, a filter-wide patch, any find) is answered by the
 * store after a flush. Collection names pass through `target`, so a rebuild can write elsewhere.
 */
export class BatchingView implements ReadModelView {
  private pending: WriteOp[] = [];
  /** Collections `pending` writes to. */
  private readonly pendingCollections = new Set<string>();
  private readonly cache = new Map<string, Doc | null>();
  /** Documents with a staged patch whose outcome the cache does not know. */
  private readonly uncertain = new Set<string>();
  /** Collections with staged filter-wide operations: none of their cached documents can be trusted. */
  private readonly filtered = new Set<string>();

  private readonly prepared = new Set<string>();
  private staged: string | null = null;
  private stagedCount = 0;
  private committed: string | null = null;

  private readonly target: (collection: string) => string;
  private readonly prepare: (collection: string) => Promise<void>;
  private readonly checkpoint: string | undefined;

  constructor(
    private readonly store: ReadStore,
    options: BatchingViewOptions = {},
  ) {
    this.target = options.target ?? ((collection) => collection);
    this.prepare = options.prepare ?? (async () => undefined);
    this.checkpoint = options.checkpoint;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Position of the last event whose operations were all staged, or null before any. */
  get stagedThrough(): string | null {
    return this.staged;
  }

  /** Position of the last checkpoint this view wrote, or null. */
  get committedThrough(): string | null {
    return this.committed;
  }

  /** How many events were staged through `stage(ops, position)`. */
  get eventsStaged(): number {
    return this.stagedCount;
  }

  async get<T extends Doc>(collection: string, id: string): Promise<T | null> {
    const key = keyOf(collection, id);
    const suspect = this.filtered.has(collection) || this.uncertain.has(key);
    if (!suspect && this.cache.has(key)) return this.cache.get(key) as T | null;
    if (suspect) await this.flushStaged();
    await this.ensurePrepared(collection);
    const doc = await this.store.get<T>(this.target(collection), id);
    this.cache.set(key, doc);
    return doc;
  }

  async find<T extends Doc>(collection: string, filter: Filter, options?: FindOptions): Promise<Page<T>> {
    // Only this collection's staged writes can change the answer; a fan-out over a members index
    // would otherwise commit once per event and undo the batching.
    if (this.pendingCollections.has(collection)) await this.flushStaged();
    await this.ensurePrepared(collection);
    return this.store.find<T>(this.target(collection), filter, options);
  }

  /** `position`: the event these are all the operations of, once it is staged in full. */
  stage(ops: readonly WriteOp[], position?: string): void {
    for (const op of ops) {
      this.pending.push(op);
      this.pendingCollections.add(op.collection);
      this.remember(op);
    }
    if (position !== undefined) {
      this.staged = position;
      this.stagedCount += 1;
    }
  }

  async flush(checkpoint?: Checkpoint): Promise<void> {
    if (this.pending.length === 0 && checkpoint === undefined) return;
    for (const op of this.pending) await this.ensurePrepared(op.collection);
    await this.store.write(this.pending.map((op) => ({ ...op, collection: this.target(op.collection) })), checkpoint);
    this.pending = [];
    this.pendingCollections.clear();
    if (checkpoint !== undefined) this.committed = checkpoint.position;
    if (this.filtered.size > 0 || this.cache.size > MAX_CACHED_DOCS) this.cache.clear();
    this.filtered.clear();
    this.uncertain.clear();
  }

  private async flushStaged(): Promise<void> {
    if (this.pending.length === 0) return;
    await this.flush(this.checkpoint !== undefined && this.staged !== null ? { name: this.checkpoint, position: this.staged } : undefined);
  }

  private async ensurePrepared(collection: string): Promise<void> {
    if (this.prepared.has(collection)) return;
    this.prepared.add(collection);
    await this.prepare(collection);
  }

  private remember(op: WriteOp): void {
    switch (op.kind) {
      case 'upsert': {
        const key = keyOf(op.collection, op.doc.id);
        this.cache.set(key, structuredClone(op.doc));
        this.uncertain.delete(key);
        return;
      }
      case 'patch': {
        const key = keyOf(op.collection, op.id);
        const known = !this.filtered.has(op.collection) && !this.uncertain.has(key) && this.cache.has(key);
        if (!known) {
          this.cache.delete(key);
          this.uncertain.add(key);
          return;
        }
        const doc = this.cache.get(key);
        // Patching a missing document does nothing (port rule).
        if (doc) this.cache.set(key, patched(doc, op.set ?? {}, op.unset ?? []));
        return;
      }
      case 'delete': {
        const key = keyOf(op.collection, op.id);
        this.cache.set(key, null);
        this.uncertain.delete(key);
        return;
      }
      case 'patchMany':
      case 'deleteMany':
        this.filtered.add(op.collection);
        return;
      default: {
        const unknownOp: never = op;
        throw new TypeError(`batch view: unknown write operation ${JSON.stringify(unknownOp)}`);
      }
    }
  }
}

function keyOf(collection: string, id: string): string {
  return `${collection}\u0000${id}`;
}

type JsonObject = { [key: string]: DocValue };

function isObject(value: DocValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The adapters' patch semantics: set creates missing parents; a path through a non-object is left alone. */
function patched(doc: Doc, set: Readonly<Record<string, DocValue>>, unset: readonly string[]): Doc {
  const copy = structuredClone(doc) as JsonObject;
  for (const [path, value] of Object.entries(set)) {
    const parent = parentOf(copy, path, true);
    if (parent) parent[lastSegment(path)] = structuredClone(value);
  }
  for (const path of unset) {
    const parent = parentOf(copy, path, false);
    if (parent) delete parent[lastSegment(path)];
  }
  return copy as Doc;
}

function lastSegment(path: string): string {
  return path.slice(path.lastIndexOf('.') + 1);
}

function parentOf(root: JsonObject, path: string, create: boolean): JsonObject | null {
  let current = root;
  for (const segment of path.split('.').slice(0, -1)) {
    const next = current[segment];
    if (next === undefined && create) current = current[segment] = {};
    else if (isObject(next)) current = next;
    else return null;
  }
  return current;
}
