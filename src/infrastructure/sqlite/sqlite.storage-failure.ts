import { DomainError } from '../../kernel/domain-error.js';
import type { SqliteDatabase } from './sqlite.database.js';

/**
 * Failures of the disk under the SQLite file rather than of the request: the disk or its quota is
 * full, the file system went read-only, an I/O error, the file cannot be opened. better-sqlite3
 * names them in `err.code` with SQLite's (extended) result code, e.g. SQLITE_IOERR_WRITE.
 */
const STORAGE_FAILURE_CODE = /^SQLITE_(?:FULL|READONLY|IOERR|CANTOPEN)(?:_|$)/;
/** What a client is told to wait: space is usually freed by an operator, not within a second. */
const RETRY_AFTER_SECONDS = 5;

export function isStorageFailure(error: unknown): boolean {
  // By code, not class: the driver's error class may come from another realm.
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STORAGE_FAILURE_CODE.test(code);
}

export function storageUnavailable(): DomainError {
  return new DomainError('unavailable', 'storage_unavailable', 'The service cannot write its data right now (storage full or read-only); nothing was changed by this request. Retry later.', {
    retryAfterSeconds: RETRY_AFTER_SECONDS,
  });
}

/**
 * Whether the file's storage can take writes, as last seen. Set by any adapter call that failed
 * for storage reasons; cleared only by a write that succeeds, so the readiness probe, which is
 * what keeps traffic away while the disk is full, also notices when space has returned without
 * waiting for traffic that it itself holds back.
 */
export class SqliteStorageHealth {
  private failing = false;

  constructor(private readonly db: SqliteDatabase) {
    db.exec('CREATE TABLE IF NOT EXISTS storage_probe (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at INTEGER NOT NULL) STRICT');
  }

  recordFailure(): void {
    this.failing = true;
  }

  /** True when reads work and, after a storage failure, a real write (one tiny row) succeeds again. */
  check(): boolean {
    if (!this.db.open) return false;
    try {
      if (!this.failing) {
        this.db.prepare('SELECT 1').get();
        return true;
      }
      this.db.prepare('INSERT INTO storage_probe (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at').run(Date.now());
      this.failing = false;
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * The adapter, answering 503 `storage_unavailable` instead of a raw SQLite error wherever a storage
 * failure surfaces (a thrown error or a rejected promise), and reporting through `ping` what the
 * health above says. One wrapper for every embedded adapter, so none of them can forget a call.
 * Other errors (constraints, conflicts, refusals) pass through untouched.
 */
export function guardStorage<T extends object>(adapter: T, health: SqliteStorageHealth): T {
  const translate = (error: unknown): unknown => {
    if (!isStorageFailure(error)) return error;
    health.recordFailure();
    return storageUnavailable();
  };
  // One wrapper per method, made on first use: reads on the hot path allocate nothing more.
  const wrappers = new Map<PropertyKey, unknown>();
  const wrap = (target: T, property: PropertyKey, method: (...a: unknown[]) => unknown): unknown => {
    if (property === 'ping') return async (...args: unknown[]): Promise<boolean> => health.check() && (await method.apply(target, args)) === true;
    return (...args: unknown[]): unknown => {
      let result: unknown;
      try {
        result = method.apply(target, args);
      } catch (error) {
        throw translate(error);
      }
      return isPromise(result) ? result.catch((error: unknown) => Promise.reject(translate(error))) : result;
    };
  };
  return new Proxy(adapter, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      // Only the adapter's methods (its prototype's), called on the adapter itself: its own calls
      // inside see raw errors, as they did before, and its function-valued fields stay as they are.
      if (typeof value !== 'function' || property === 'constructor' || Object.prototype.hasOwnProperty.call(target, property)) return value;
      let wrapper = wrappers.get(property);
      if (wrapper === undefined) wrappers.set(property, (wrapper = wrap(target, property, value as (...a: unknown[]) => unknown)));
      return wrapper;
    },
  });
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function' && typeof (value as { catch?: unknown }).catch === 'function';
}
