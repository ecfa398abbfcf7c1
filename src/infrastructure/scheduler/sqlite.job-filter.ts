import type { RemoveJobsOptions } from 'agenda';

/** A WHERE fragment with positional parameters; values are always bound, never spliced into SQL. */
export interface SqlCondition {
  sql: string;
  params: unknown[];
}

/** Top-level job fields a `unique()` key may name besides `data.*` paths. */
const UNIQUE_COLUMNS: Readonly<Record<string, string>> = { name: 'name', type: 'type', priority: 'priority' };

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** SQLite JSON path with every label quoted, so a key can never change the path's structure. */
function jsonPath(segments: string[]): string {
  for (const segment of segments) {
    if (segment === '' || /["\\]/.test(segment)) throw new Error('Unsupported job data key in a job filter');
  }
  return '$' + segments.map((segment) => `."${segment}"`).join('');
}

const PLAIN_KEY = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/**
 * `json_extract(data, '$.key')` with the path as a literal, so that SQLite can use an expression
 * index declared on the same path (see indexedDataPathSql). Only plain identifiers qualify.
 */
export function dataPathExpression(segments: string[]): string | null {
  return segments.every((segment) => PLAIN_KEY.test(segment)) ? `json_extract(data, '$.${segments.join('.')}')` : null;
}

/** Equality with the same strictness as MongoDB: `5` does not match `"5"`, `true` does not match `1`. */
function dataPathEquals(segments: string[], value: unknown): SqlCondition {
  const path = jsonPath(segments);
  if (value === null || value === undefined) return { sql: 'json_extract(data, ?) IS NULL', params: [path] };
  if (typeof value === 'boolean') return { sql: 'json_type(data, ?) = ?', params: [path, value ? 'true' : 'false'] };
  const literal = dataPathExpression(segments);
  if ((typeof value === 'string' || typeof value === 'number') && literal) {
    return { sql: `(${literal} = ? AND json_type(data, ?) IN (?, ?))`, params: [value, path, ...jsonTypesOf(value)] };
  }
  if (typeof value === 'string' || typeof value === 'number') {
    return { sql: '(json_type(data, ?) IN (?, ?) AND json_extract(data, ?) = ?)', params: [path, ...jsonTypesOf(value), path, value] };
  }
  if (value instanceof Date) return { sql: 'json_extract(data, ?) = ?', params: [path, value.toISOString()] };
  if (Array.isArray(value)) return { sql: 'json_extract(data, ?) = json(?)', params: [path, JSON.stringify(value)] };
  throw new Error('Unsupported value in a job filter: only plain equality is supported');
}

function jsonTypesOf(value: string | number): [string, string] {
  if (typeof value === 'string') return ['text', 'text'];
  return ['integer', 'real'];
}

function flattenData(data: Record<string, unknown>, prefix: string[] = []): Array<[string[], unknown]> {
  return Object.entries(data).flatMap(([key, value]): Array<[string[], unknown]> =>
    isPlainObject(value) ? flattenData(value, [...prefix, key]) : [[[...prefix, key], value]],
  );
}

/** Partial match on the data object (every given leaf must be equal), as the MongoDB backend does. */
export function dataFilter(data: unknown): SqlCondition[] {
  if (isPlainObject(data)) return flattenData(data).map(([segments, value]) => dataPathEquals(segments, value));
  if (data === null) return [{ sql: 'data IS NULL OR data = ?', params: ['null'] }];
  return [{ sql: 'json(data) = json(?)', params: [JSON.stringify(data)] }];
}

/**
 * `unique()` keys are MongoDB-style field paths (`data.userId`). Query operators (`$ne`, `$in`, ...)
 * are refused rather than silently treated as literals: a uniqueness key that does not mean what it
 * says would let duplicate reminder timers through.
 */
export function uniqueFilter(unique: Record<string, unknown>): SqlCondition[] {
  return Object.entries(unique).flatMap(([key, value]): SqlCondition[] => {
    if (isPlainObject(value) && Object.keys(value).some((k) => k.startsWith('$'))) {
      throw new Error('Query operators are not supported in unique() by the SQLite job repository');
    }
    if (key === 'data') return dataFilter(value);
    if (key.startsWith('data.')) return [dataPathEquals(key.slice('data.'.length).split('.'), value)];
    const column = UNIQUE_COLUMNS[key];
    if (column === undefined) throw new Error(`Unsupported unique() key: ${key}`);
    return [{ sql: `${column} = ?`, params: [value] }];
  });
}

function inList(column: string, values: unknown[], negate = false): SqlCondition {
  const marks = values.map(() => '?').join(', ');
  return { sql: `${column} ${negate ? 'NOT IN' : 'IN'} (${marks})`, params: values };
}

function strings(values: unknown[] | undefined): string[] {
  return (values ?? []).filter((value): value is string => typeof value === 'string');
}

/** Filter for cancel/disable/enable. Returns undefined for "no criteria" so nothing is touched by accident. */
export function removeFilter(options: RemoveJobsOptions): SqlCondition[] | undefined {
  const conditions: SqlCondition[] = [];
  const ids = options.id !== undefined ? [String(options.id)] : (options.ids ?? []).map(String);
  if (ids.length > 0) conditions.push(inList('id', ids));
  const names = strings(options.names);
  const notNames = strings(options.notNames);
  if (typeof options.name === 'string' && options.name !== '') conditions.push({ sql: 'name = ?', params: [options.name] });
  else if (names.length > 0) conditions.push(inList('name', names));
  else if (notNames.length > 0) conditions.push(inList('name', notNames, true));
  if (options.data !== undefined) conditions.push(...dataFilter(options.data));
  return conditions.length > 0 ? conditions : undefined;
}

export function whereClause(conditions: SqlCondition[]): SqlCondition {
  if (conditions.length === 0) return { sql: '', params: [] };
  return {
    sql: 'WHERE ' + conditions.map((condition) => `(${condition.sql})`).join(' AND '),
    params: conditions.flatMap((condition) => condition.params),
  };
}
