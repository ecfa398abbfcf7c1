/**
 * Read models are plain JSON documents keyed by `id`, grouped in named collections.
 * Writes are expressed as operations so that an adapter can commit a projection's changes
 * together with its checkpoint (one SQLite transaction; idempotent writes in MongoDB).
 */
export type Scalar = string | number | boolean | null;
export type DocValue = Scalar | DocValue[] | { [key: string]: DocValue };
export type Doc = { id: string } & { [key: string]: DocValue };

export interface FieldCondition {
  readonly $eq?: Scalar;
  readonly $in?: readonly Scalar[];
  readonly $ne?: Scalar;
  readonly $gt?: string | number;
  readonly $gte?: string | number;
  readonly $lt?: string | number;
  readonly $lte?: string | number;
  readonly $exists?: boolean;
}

/**
 * Keys are top-level fields or dotted paths into nested objects. A plain scalar means equality.
 * Equality to null matches missing fields too (MongoDB semantics); $exists distinguishes them.
 */
export type Filter = Readonly<Record<string, Scalar | FieldCondition>>;

export type SortSpec = ReadonlyArray<readonly [field: string, direction: 1 | -1]>;

export interface FindOptions {
  /** Ties are always broken by `id` ascending so that pagination is stable. */
  readonly sort?: SortSpec;
  readonly limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  readonly cursor?: string;
}

export interface Page<T> {
  readonly items: T[];
  readonly nextCursor: string | null;
}

export interface IndexSpec {
  readonly fields: readonly string[];
  readonly unique?: boolean;
}

export type WriteOp =
  | { readonly kind: 'upsert'; readonly collection: string; readonly doc: Doc }
  | {
      readonly kind: 'patch';
      readonly collection: string;
      readonly id: string;
      readonly set?: Readonly<Record<string, DocValue>>;
      readonly unset?: readonly string[];
    }
  | {
      readonly kind: 'patchMany';
      readonly collection: string;
      readonly filter: Filter;
      readonly set?: Readonly<Record<string, DocValue>>;
      readonly unset?: readonly string[];
    }
  | { readonly kind: 'delete'; readonly collection: string; readonly id: string }
  | { readonly kind: 'deleteMany'; readonly collection: string; readonly filter: Filter };

export interface Checkpoint {
  readonly name: string;
  readonly position: string;
}

export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  constructor() {
    super('cursor is not valid for this query');
  }
}

/** A write that would give two documents the same value of a unique index; nothing was written. */
export class DuplicateKeyError extends Error {
  override readonly name = 'DuplicateKeyError';
  constructor(readonly collection: string) {
    super(`a unique index of ${collection} already holds this value`);
  }
}

export interface ReadStore {
  get<T extends Doc>(collection: string, id: string): Promise<T | null>;
  find<T extends Doc>(collection: string, filter: Filter, options?: FindOptions): Promise<Page<T>>;
  count(collection: string, filter: Filter): Promise<number>;
  ensureIndexes(collection: string, indexes: readonly IndexSpec[]): Promise<void>;
  /**
   * Applies the operations in order; with a checkpoint, stores it in the same unit.
   * `patch` of a missing document does nothing. Every operation must be idempotent (no
   * increments) so that replaying an event after a crash between write and checkpoint is harmless.
   */
  write(ops: readonly WriteOp[], checkpoint?: Checkpoint): Promise<void>;
  getCheckpoint(name: string): Promise<string | null>;
  /** Removes every document of the collection (used by projection rebuilds). */
  drop(collection: string): Promise<void>;
  /**
   * Exchanges the documents and indexes of each pair of collections, then stores the checkpoints:
   * a projection rebuilt into a fresh collection replaces the live one in one step (one SQLite
   * transaction; one write of the collection map in MongoDB). A collection never written counts as empty.
   */
  swapCollections(pairs: ReadonlyArray<readonly [string, string]>, checkpoints?: readonly Checkpoint[]): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
