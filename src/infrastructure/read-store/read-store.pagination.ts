import { InvalidCursorError, type FindOptions, type Scalar, type SortSpec } from '../../ports/read-store.port.js';
import { assertFieldPath, ID_FIELD } from './read-store.names.js';
import { isScalar } from './read-store.filter.js';

/**
 * Keyset pagination: a page ends at a position in the sort order, never at an offset, so rows
 * inserted or removed meanwhile cause neither duplicates nor gaps. `id` is the final sort key,
 * which makes the order total; the cursor is that key tuple of the page's last item.
 */
export interface SortKey {
  readonly path: string;
  readonly direction: 1 | -1;
}

export const MAX_LIMIT = 10_000;
const MAX_CURSOR_LENGTH = 4_096;
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Keys after `id` could never break a tie, so they are dropped; `id` ascending is appended. */
export function normalizeSort(sort: SortSpec = []): SortKey[] {
  const keys: SortKey[] = [];
  const seen = new Set<string>();
  for (const [path, direction] of sort) {
    assertFieldPath(path);
    if (direction !== 1 && direction !== -1) throw new TypeError(`read store: sort direction of ${path} must be 1 or -1`);
    if (seen.has(path)) throw new TypeError(`read store: ${path} appears twice in the sort`);
    seen.add(path);
    keys.push({ path, direction });
    if (path === ID_FIELD) return keys;
  }
  keys.push({ path: ID_FIELD, direction: 1 });
  return keys;
}

export function assertLimit(limit: FindOptions['limit']): void {
  if (limit === undefined) return;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new RangeError(`read store: limit must be an integer from 1 to ${MAX_LIMIT}`);
  }
}

/** Binds a cursor to the sort it was made for, so that reusing it with another sort is refused. */
function signature(keys: readonly SortKey[]): string {
  return keys.map((key) => `${key.path}:${key.direction}`).join(',');
}

export function encodeCursor(keys: readonly SortKey[], values: readonly Scalar[]): string {
  return Buffer.from(JSON.stringify({ s: signature(keys), k: values }), 'utf8').toString('base64url');
}

export function decodeCursor(keys: readonly SortKey[], cursor: string): Scalar[] {
  if (typeof cursor !== 'string' || cursor.length > MAX_CURSOR_LENGTH || !BASE64URL.test(cursor)) {
    throw new InvalidCursorError();
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError();
  }
  if (!isCursorPayload(decoded) || decoded.s !== signature(keys) || decoded.k.length !== keys.length) {
    throw new InvalidCursorError();
  }
  if (typeof decoded.k[decoded.k.length - 1] !== 'string') throw new InvalidCursorError();
  return decoded.k;
}

function isCursorPayload(value: unknown): value is { s: string; k: Scalar[] } {
  if (value === null || typeof value !== 'object') return false;
  const { s, k } = value as { s?: unknown; k?: unknown };
  return typeof s === 'string' && Array.isArray(k) && k.every(isScalar);
}
