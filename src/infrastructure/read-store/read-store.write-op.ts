import type { Checkpoint, Doc, WriteOp } from '../../ports/read-store.port.js';
import { assertCollectionName, assertFieldPath, ID_FIELD } from './read-store.names.js';
import { parseFilter } from './read-store.filter.js';

/**
 * Every operation of a write is checked before any is applied, so a malformed batch changes
 * nothing in either adapter (MongoDB has no transaction around the batch to roll back).
 */
export function assertWriteOps(ops: readonly WriteOp[], checkpoint?: Checkpoint): void {
  if (!Array.isArray(ops)) throw new TypeError('read store: write takes an array of operations');
  ops.forEach(assertWriteOp);
  if (checkpoint !== undefined) assertCheckpoint(checkpoint);
}

function assertWriteOp(op: WriteOp): void {
  assertCollectionName(op.collection);
  switch (op.kind) {
    case 'upsert':
      return assertDoc(op.doc);
    case 'patch':
      assertId(op.id);
      return assertPatch(op.set, op.unset);
    case 'patchMany':
      parseFilter(op.filter);
      return assertPatch(op.set, op.unset);
    case 'delete':
      return assertId(op.id);
    case 'deleteMany':
      parseFilter(op.filter);
      return;
    default: {
      const unknownOp: never = op;
      throw new TypeError(`read store: unknown write operation ${JSON.stringify((unknownOp as { kind?: unknown }).kind)}`);
    }
  }
}

export function assertId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || id.length > 512) {
    throw new TypeError('read store: a document id is a non-empty string of at most 512 characters');
  }
}

function assertDoc(doc: Doc): void {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new TypeError('read store: a document is an object');
  assertId(doc.id);
}

/**
 * MongoDB refuses an update whose paths overlap (`a` and `a.b`) and the order in which SQLite
 * would apply them is an accident; refusing overlaps keeps one meaning. `id` is the key, never data.
 */
function assertPatch(set: Readonly<Record<string, unknown>> | undefined, unset: readonly string[] | undefined): void {
  const paths = [...Object.keys(set ?? {}), ...(unset ?? [])];
  for (const path of paths) {
    assertFieldPath(path);
    if (path === ID_FIELD) throw new TypeError('read store: a patch cannot change `id`');
  }
  const sorted = [...paths].sort();
  for (let i = 1; i < sorted.length; i += 1) {
    const previous = sorted[i - 1]!;
    const current = sorted[i]!;
    if (current === previous || current.startsWith(`${previous}.`)) {
      throw new TypeError(`read store: patch paths ${previous} and ${current} overlap`);
    }
  }
}

function assertCheckpoint(checkpoint: Checkpoint): void {
  if (typeof checkpoint.name !== 'string' || checkpoint.name.length === 0 || checkpoint.name.length > 200) {
    throw new TypeError('read store: a checkpoint name is a non-empty string');
  }
  if (typeof checkpoint.position !== 'string') throw new TypeError('read store: a checkpoint position is a string');
}

/** A collection in two pairs would be renamed twice in one swap, leaving neither where it was meant to go. */
export function assertSwapPairs(pairs: ReadonlyArray<readonly [string, string]>): void {
  if (!Array.isArray(pairs)) throw new TypeError('read store: swapCollections takes an array of pairs');
  const seen = new Set<string>();
  for (const pair of pairs) {
    if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError('read store: a swap pair names two collections');
    for (const name of pair) {
      assertCollectionName(name);
      if (seen.has(name)) throw new TypeError('read store: a collection appears twice in one swap');
      seen.add(name);
    }
  }
}
