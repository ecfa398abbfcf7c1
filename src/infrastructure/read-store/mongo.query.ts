import type { Document, IndexDescription } from 'mongodb';
import type { Doc, DocValue, Filter, IndexSpec, Scalar, WriteOp } from '../../ports/read-store.port.js';
import { assertFieldPath, ID_FIELD } from './read-store.names.js';
import { parseFilter, type Condition } from './read-store.filter.js';
import type { SortKey } from './read-store.pagination.js';

/**
 * Pure translations from the read-store vocabulary to MongoDB queries. Filters pass through the
 * shared parser first, so an operator MongoDB would honour but SQLite would not (`$regex`,
 * `$where`, object equality) never reaches the server.
 *
 * MongoDB compares with type bracketing ($gt: 5 matches numbers only, 1 never equals true), which
 * is the semantics the SQLite adapter reproduces. Two differences the contract avoids: MongoDB
 * equality on an array field matches any element, and paths traverse arrays.
 */
export const MONGO_ID = '_id';

export function toMongoPath(path: string): string {
  assertFieldPath(path);
  return path === ID_FIELD ? MONGO_ID : path;
}

export function toMongoFilter(filter: Filter): Document {
  const query: Document = {};
  for (const predicate of parseFilter(filter)) {
    query[toMongoPath(predicate.path)] = Object.fromEntries(predicate.conditions.map(toMongoCondition));
  }
  return query;
}

function toMongoCondition(condition: Condition): [string, unknown] {
  switch (condition.op) {
    case 'in':
      return ['$in', [...condition.values]];
    case 'eq':
    case 'ne':
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
    case 'exists':
      return [`$${condition.op}`, condition.value];
    default: {
      const unknownCondition: never = condition;
      throw new TypeError(`read store: unsupported condition ${JSON.stringify(unknownCondition)}`);
    }
  }
}

export function toMongoSort(keys: readonly SortKey[]): Document {
  return Object.fromEntries(keys.map((key) => [toMongoPath(key.path), key.direction]));
}

/**
 * Documents strictly after the cursor's key tuple, as a disjunction over the sort keys: equal on
 * the first i keys and after on key i. MongoDB sorts null and missing together, lowest; `$eq: null`
 * matches both, so "equal" and "after" here agree with the sort. A field may hold different types
 * in different documents, and `$gt`/`$lt` compare within one type only (type bracketing): "after"
 * also takes every document whose value is of a type the sort puts after the cursor's.
 */
export function toMongoKeyset(keys: readonly SortKey[], values: readonly Scalar[]): Document {
  const branches: Document[] = [];
  keys.forEach((key, i) => {
    const after = afterValue(key, values[i] ?? null);
    if (after === null) return;
    const equalities = keys.slice(0, i).map((previous, j) => ({ [toMongoPath(previous.path)]: { $eq: values[j] ?? null } }));
    branches.push(equalities.length === 0 ? after : { $and: [...equalities, after] });
  });
  // `$or: []` is an error in MongoDB; an `$in: []` matches nothing, which is what an exhausted keyset means.
  return branches.length === 0 ? { [MONGO_ID]: { $in: [] } } : { $or: branches };
}

/** MongoDB's sort order of the types a document holds (BSON comparison order); null stands for missing too. */
const TYPE_ORDER = ['null', 'number', 'string', 'object', 'array', 'bool'] as const;

function typeOf(value: Exclude<Scalar, null>): (typeof TYPE_ORDER)[number] {
  return typeof value === 'number' ? 'number' : typeof value === 'string' ? 'string' : 'bool';
}

/** The types sorted strictly after (ascending) or before (descending) the value's type. */
export function typesBeyond(value: Exclude<Scalar, null>, direction: 1 | -1): string[] {
  const at = TYPE_ORDER.indexOf(typeOf(value));
  return direction === 1 ? TYPE_ORDER.slice(at + 1) : TYPE_ORDER.slice(0, at).filter((type) => type !== 'null');
}

function afterValue(key: SortKey, value: Scalar): Document | null {
  const path = toMongoPath(key.path);
  // Ids are always strings: a plain range, which the _id index serves directly.
  if (path === MONGO_ID) return { [path]: { [key.direction === 1 ? '$gt' : '$lt']: value } };
  if (key.direction === 1) {
    if (value === null) return { [path]: { $ne: null } };
    return { $or: [{ [path]: { $gt: value } }, { [path]: { $type: typesBeyond(value, 1) } }] };
  }
  if (value === null) return null;
  const before = typesBeyond(value, -1);
  return { $or: [{ [path]: { $lt: value } }, ...(before.length > 0 ? [{ [path]: { $type: before } }] : []), { [path]: { $eq: null } }] };
}

/** The values a cursor records for a document: missing reads as null, as MongoDB sorts it. */
export function sortValues(keys: readonly SortKey[], doc: Doc): Scalar[] {
  return keys.map((key) => {
    const value = readPath(doc, key.path);
    if (value !== null && typeof value === 'object') throw new TypeError(`read store: sort field ${key.path} holds an object or array`);
    return value;
  });
}

function readPath(doc: Doc, path: string): DocValue {
  let current: DocValue | undefined = doc;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current)) return null;
    current = current[segment];
  }
  return current ?? null;
}

/**
 * Non-unique indexes end with `_id` because every find sorts by `..., _id`: the index then
 * serves the whole sort and the keyset's range. A unique index keeps its own fields only, or
 * `_id` would make every key unique; it covers only documents whose fields all hold a value,
 * as SQLite's unique indexes ignore rows with a NULL key (many users may have no value yet).
 */
export function toMongoIndex(index: IndexSpec): IndexDescription | null {
  const fields = index.fields.map(toMongoPath);
  if (fields.length === 0 || (fields.length === 1 && fields[0] === MONGO_ID)) return null;
  const key: Record<string, 1> = Object.fromEntries(fields.map((field) => [field, 1 as const]));
  if (!index.unique) return { key: MONGO_ID in key ? key : { ...key, [MONGO_ID]: 1 } };
  const present = Object.fromEntries(fields.map((field) => [field, { $type: [...VALUE_TYPES] }]));
  return { key, unique: true, partialFilterExpression: present };
}

const VALUE_TYPES = ['string', 'number', 'bool', 'object', 'array'] as const;

export function toStoredDoc(doc: Doc): Document {
  const { id, ...rest } = doc;
  return { [MONGO_ID]: id, ...rest };
}

export function fromStoredDoc<T extends Doc>(stored: Document): T {
  const { [MONGO_ID]: id, ...rest } = stored;
  return { id, ...rest } as T;
}

/** Null when the patch changes nothing: MongoDB refuses an update without operators. */
function toMongoUpdate(set: Readonly<Record<string, DocValue>> = {}, unset: readonly string[] = []): Document | null {
  const update: Document = {};
  if (Object.keys(set).length > 0) update.$set = Object.fromEntries(Object.entries(set).map(([path, value]) => [toMongoPath(path), value]));
  if (unset.length > 0) update.$unset = Object.fromEntries(unset.map((path) => [toMongoPath(path), '']));
  return Object.keys(update).length === 0 ? null : update;
}

/** One bulk-write model per operation; null for a patch that changes nothing. */
export function toMongoWriteModel(op: WriteOp): Document | null {
  switch (op.kind) {
    case 'upsert':
      return { replaceOne: { filter: { [MONGO_ID]: op.doc.id }, replacement: toStoredDoc(op.doc), upsert: true } };
    case 'patch': {
      const update = toMongoUpdate(op.set, op.unset);
      return update === null ? null : { updateOne: { filter: { [MONGO_ID]: op.id }, update, upsert: false } };
    }
    case 'patchMany': {
      const update = toMongoUpdate(op.set, op.unset);
      return update === null ? null : { updateMany: { filter: toMongoFilter(op.filter), update, upsert: false } };
    }
    case 'delete':
      return { deleteOne: { filter: { [MONGO_ID]: op.id } } };
    case 'deleteMany':
      return { deleteMany: { filter: toMongoFilter(op.filter) } };
    default: {
      const unknownOp: never = op;
      throw new TypeError(`read store: unknown write operation ${JSON.stringify(unknownOp)}`);
    }
  }
}

/** Consecutive operations on one collection form one ordered bulk write; order across runs is kept. */
export function groupByCollection(ops: readonly WriteOp[]): Array<{ collection: string; ops: WriteOp[] }> {
  const runs: Array<{ collection: string; ops: WriteOp[] }> = [];
  for (const op of ops) {
    const last = runs[runs.length - 1];
    if (last !== undefined && last.collection === op.collection) last.ops.push(op);
    else runs.push({ collection: op.collection, ops: [op] });
  }
  return runs;
}
