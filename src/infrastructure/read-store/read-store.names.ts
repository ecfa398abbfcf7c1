/**
 * Collection names and field paths end up inside SQL text (table names, JSON paths of expression
 * indexes, which must be literals for SQLite to match them) and inside MongoDB queries, so both are
 * held to strict patterns; values are always bound or passed as data, never spliced.
 */
const COLLECTION_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * Segments start with a letter: this rules out numeric segments (array indexes in MongoDB, which
 * the SQLite adapter does not emulate) and `_id`, which MongoDB reserves.
 */
const FIELD_PATH = /^[A-Za-z][A-Za-z0-9_]{0,63}(?:\.[A-Za-z][A-Za-z0-9_]{0,63}){0,7}$/;

export const ID_FIELD = 'id';

export function assertCollectionName(name: string): void {
  if (typeof name !== 'string' || !COLLECTION_NAME.test(name)) {
    throw new TypeError('read store: collection name must match [a-z][a-z0-9_]* (at most 63 characters)');
  }
}

export function assertFieldPath(path: string): void {
  if (typeof path !== 'string' || !FIELD_PATH.test(path)) {
    throw new TypeError(`read store: invalid field path ${JSON.stringify(String(path).slice(0, 80))}`);
  }
  if (path.startsWith(`${ID_FIELD}.`)) throw new TypeError('read store: `id` has no nested fields');
}
