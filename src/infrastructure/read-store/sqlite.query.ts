import type { Filter, FindOptions, IndexSpec, Scalar } from '../../ports/read-store.port.js';
import { assertCollectionName, assertFieldPath, ID_FIELD } from './read-store.names.js';
import { parseFilter, type Condition, type FieldPredicate } from './read-store.filter.js';
import { decodeCursor, type SortKey } from './read-store.pagination.js';

/**
 * Compiles read-store filters to SQL over JSON documents. Field paths are validated and written
 * as literals (SQLite matches an expression index only against the very same expression text);
 * every value is a bound parameter.
 *
 * json_extract returns SQL types, so `true` reads back as 1 and a nested object as JSON text;
 * json_type tells them apart. Each typed comparison pairs the two: `json_extract(...) = ?` lets
 * the planner use the expression index, `json_type(...)` keeps MongoDB's type semantics
 * (1 is not true, "30" is not 30, an object is not a string).
 */
export interface SqlFragment {
  readonly sql: string;
  readonly params: unknown[];
}

type Param = string | number | null;

export function tableName(collection: string): string {
  assertCollectionName(collection);
  return `"rm_${collection}"`;
}

export function valueExpr(path: string): string {
  return path === ID_FIELD ? 'id' : `json_extract(doc, '$.${path}')`;
}

function typeExpr(path: string): string {
  return path === ID_FIELD ? `'text'` : `json_type(doc, '$.${path}')`;
}

export function jsonPath(path: string): string {
  assertFieldPath(path);
  return `'$.${path}'`;
}

export function compileFilter(filter: Filter): SqlFragment {
  const parts = parseFilter(filter).map(compilePredicate);
  return joinAll(parts, ' AND ', '1');
}

function compilePredicate(predicate: FieldPredicate): SqlFragment {
  return joinAll(predicate.conditions.map((condition) => compileCondition(predicate.path, condition)), ' AND ', '1');
}

function compileCondition(path: string, condition: Condition): SqlFragment {
  switch (condition.op) {
    case 'eq':
      return equals(path, condition.value);
    case 'ne': {
      // Missing fields compare as NULL; coalesce makes "not equal" include them, as MongoDB does.
      const eq = equals(path, condition.value);
      return { sql: `coalesce(${eq.sql}, 0) = 0`, params: eq.params };
    }
    case 'in':
      return oneOf(path, condition.values);
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return compare(path, RANGE_SQL[condition.op], condition.value);
    case 'exists':
      return { sql: `${typeExpr(path)} IS ${condition.value ? 'NOT NULL' : 'NULL'}`, params: [] };
    default: {
      const unknownCondition: never = condition;
      throw new TypeError(`read store: unsupported condition ${JSON.stringify(unknownCondition)}`);
    }
  }
}

const RANGE_SQL = { gt: '>', gte: '>=', lt: '<', lte: '<=' } as const;

/** Equality to null matches a missing field too: json_extract yields NULL for both. */
function equals(path: string, value: Scalar): SqlFragment {
  if (value === null) return { sql: `${valueExpr(path)} IS NULL`, params: [] };
  if (typeof value === 'boolean') {
    return { sql: `(${valueExpr(path)} = ${value ? 1 : 0} AND ${typeExpr(path)} = '${value}')`, params: [] };
  }
  return compare(path, '=', value);
}

function compare(path: string, operator: string, value: string | number): SqlFragment {
  return { sql: `(${valueExpr(path)} ${operator} ? AND ${typeCheck(path, value)})`, params: [value] };
}

function typeCheck(path: string, value: string | number): string {
  return typeof value === 'string' ? `${typeExpr(path)} = 'text'` : `${typeExpr(path)} IN ('integer', 'real')`;
}

/**
 * A list is bound as one JSON array parameter so that the statement text, and thus the
 * prepared-statement cache, does not vary with the list's length.
 */
function oneOf(path: string, values: readonly Scalar[]): SqlFragment {
  const strings = values.filter((value): value is string => typeof value === 'string');
  const numbers = values.filter((value): value is number => typeof value === 'number');
  const others = [...new Set(values.filter((value) => value === null || typeof value === 'boolean'))];
  const parts = [
    ...(strings.length > 0 ? [inList(path, strings)] : []),
    ...(numbers.length > 0 ? [inList(path, numbers)] : []),
    ...others.map((value) => equals(path, value)),
  ];
  return joinAll(parts, ' OR ', '0');
}

function inList(path: string, values: readonly (string | number)[]): SqlFragment {
  return {
    sql: `(${valueExpr(path)} IN (SELECT value FROM json_each(?)) AND ${typeCheck(path, values[0]!)})`,
    params: [JSON.stringify(values)],
  };
}

function joinAll(parts: readonly SqlFragment[], separator: string, empty: string): SqlFragment {
  if (parts.length === 0) return { sql: empty, params: [] };
  return { sql: `(${parts.map((part) => part.sql).join(separator)})`, params: parts.flatMap((part) => part.params) };
}

/**
 * Rows strictly after the cursor's key tuple in ORDER BY order. Raw SQL comparisons of the
 * extracted values order exactly as ORDER BY does (NULL first, then numbers, then text), so the
 * keyset agrees with the sort even across types. The leading bound repeats a consequence of
 * the disjunction as a plain range so that the planner can seek the index instead of scanning.
 */
export function compileKeyset(keys: readonly SortKey[], values: readonly Scalar[]): SqlFragment {
  const branches: SqlFragment[] = [];
  for (let i = 0; i < keys.length; i += 1) {
    const after = afterValue(keys[i]!, toParam(values[i]));
    if (after === null) continue;
    const equalities = keys.slice(0, i).map((key, j) => ({ sql: `${valueExpr(key.path)} IS ?`, params: [toParam(values[j])] }));
    branches.push(joinAll([...equalities, after], ' AND ', '1'));
  }
  const keyset = joinAll(branches, ' OR ', '0');
  const bound = leadingBound(keys[0]!, toParam(values[0]));
  return bound === null ? keyset : joinAll([bound, keyset], ' AND ', '1');
}

function afterValue(key: SortKey, value: Param): SqlFragment | null {
  const expr = valueExpr(key.path);
  if (key.direction === 1) {
    return value === null ? { sql: `${expr} IS NOT NULL`, params: [] } : { sql: `${expr} > ?`, params: [value] };
  }
  return value === null ? null : { sql: `(${expr} < ? OR ${expr} IS NULL)`, params: [value] };
}

function leadingBound(key: SortKey, value: Param): SqlFragment | null {
  const expr = valueExpr(key.path);
  if (key.direction === 1) return value === null ? null : { sql: `${expr} >= ?`, params: [value] };
  return value === null ? { sql: `${expr} IS NULL`, params: [] } : null;
}

/** Cursor values were read back from SQL, where booleans are already 0/1. */
function toParam(value: Scalar | undefined): Param {
  if (value === undefined || value === null) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

export function compileOrderBy(keys: readonly SortKey[]): string {
  return keys.map((key) => `${valueExpr(key.path)} ${key.direction === 1 ? 'ASC' : 'DESC'}`).join(', ');
}

export interface FindQuery extends SqlFragment {
  readonly keys: readonly SortKey[];
}

/** Selects each sort key as k0..kn so that the next cursor carries the values SQL compared. */
export function buildFindQuery(collection: string, filter: Filter, keys: readonly SortKey[], options: FindOptions): FindQuery {
  const where = compileFilter(filter);
  const keyset = options.cursor === undefined ? null : compileKeyset(keys, decodeCursor(keys, options.cursor));
  const condition = keyset === null ? where : joinAll([where, keyset], ' AND ', '1');
  const selectKeys = keys.map((key, i) => `${valueExpr(key.path)} AS k${i}`).join(', ');
  const limit = options.limit === undefined ? '' : ' LIMIT ?';
  return {
    sql: `SELECT doc, ${selectKeys} FROM ${tableName(collection)} WHERE ${condition.sql} ORDER BY ${compileOrderBy(keys)}${limit}`,
    params: options.limit === undefined ? condition.params : [...condition.params, options.limit + 1],
    keys,
  };
}

/** `id` is the primary key: an index over it alone already exists. */
export function buildIndexStatement(collection: string, index: IndexSpec): string | null {
  const fields = index.fields.filter((field) => field !== ID_FIELD || index.fields.length > 1);
  if (fields.length === 0) return null;
  fields.forEach(assertFieldPath);
  const name = `"rm_${collection}:${index.unique ? 'unique:' : ''}${fields.join(',')}"`;
  const unique = index.unique ? 'UNIQUE ' : '';
  return `CREATE ${unique}INDEX IF NOT EXISTS ${name} ON ${tableName(collection)} (${fields.map(valueExpr).join(', ')})`;
}

/** Null for a patch that changes nothing. */
export function buildPatchExpression(set: Readonly<Record<string, unknown>> = {}, unset: readonly string[] = []): SqlFragment | null {
  const setEntries = Object.entries(set);
  if (setEntries.length === 0 && unset.length === 0) return null;
  let sql = 'doc';
  const params: unknown[] = [];
  if (setEntries.length > 0) {
    sql = `json_set(${sql}, ${setEntries.map(([path]) => `${jsonPath(path)}, json(?)`).join(', ')})`;
    params.push(...setEntries.map(([, value]) => JSON.stringify(value)));
  }
  if (unset.length > 0) sql = `json_remove(${sql}, ${unset.map(jsonPath).join(', ')})`;
  return { sql, params };
}
