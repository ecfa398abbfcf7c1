import type { Statement } from 'better-sqlite3';
import { LruMap } from '../../kernel/lru.map.js';
import { writeWithoutBlocking, type SqliteDatabase } from '../sqlite/sqlite.database.js';
import { DuplicateKeyError, type Checkpoint, type Doc, type Filter, type FindOptions, type IndexSpec, type Page, type ReadStore, type Scalar, type WriteOp } from '../../ports/read-store.port.js';
import { encodeCursor, assertLimit, normalizeSort } from './read-store.pagination.js';
import { assertId, assertSwapPairs, assertWriteOps } from './read-store.write-op.js';
import { buildFindQuery, buildIndexStatement, buildPatchExpression, compileFilter, tableName } from './sqlite.query.js';

/**
 * Read models in the embedded profile: one table `rm_<collection>` per collection, holding each
 * document as JSON text, in the derived-data SQLite file (embedded.stores.ts). WITHOUT ROWID makes `id`
 * the clustering key, so every secondary index ends with `id` and serves our `ORDER BY ..., id`
 * tie-break and keyset seeks without a temporary sort.
 *
 * The store does not own the connection (the scheduler shares it): close() only
 * stops this store from being used.
 */
const CHECKPOINT_TABLE = 'read_model_checkpoints';
const STATEMENT_CACHE_SIZE = 256;
/** Collection names start with a letter, so no read model's table can be called this. */
const SWAP_TABLE = '"rm__swap"';

type Row = { doc: string } & Record<`k${number}`, Scalar>;

export class SqliteReadStore implements ReadStore {
  private readonly tables = new Set<string>();
  private readonly statements = new LruMap<string, Statement>(STATEMENT_CACHE_SIZE);
  private closed = false;

  constructor(private readonly db: SqliteDatabase) {
    db.exec(`CREATE TABLE IF NOT EXISTS ${CHECKPOINT_TABLE} (name TEXT PRIMARY KEY NOT NULL, position TEXT NOT NULL) WITHOUT ROWID, STRICT`);
  }

  async get<T extends Doc>(collection: string, id: string): Promise<T | null> {
    assertId(id);
    const row = this.statement(`SELECT doc FROM ${this.table(collection)} WHERE id = ?`).get(id) as Row | undefined;
    return row === undefined ? null : (JSON.parse(row.doc) as T);
  }

  async find<T extends Doc>(collection: string, filter: Filter, options: FindOptions = {}): Promise<Page<T>> {
    assertLimit(options.limit);
    const keys = normalizeSort(options.sort);
    const query = buildFindQuery(collection, filter, keys, options);
    this.table(collection);
    const rows = this.statement(query.sql).all(...query.params) as Row[];
    const hasMore = options.limit !== undefined && rows.length > options.limit;
    const pageRows = hasMore ? rows.slice(0, options.limit) : rows;
    const last = pageRows[pageRows.length - 1];
    return {
      items: pageRows.map((row) => JSON.parse(row.doc) as T),
      nextCursor: hasMore && last !== undefined ? encodeCursor(keys, keys.map((_, i) => last[`k${i}`] ?? null)) : null,
    };
  }

  async count(collection: string, filter: Filter): Promise<number> {
    const where = compileFilter(filter);
    const row = this.statement(`SELECT count(*) AS n FROM ${this.table(collection)} WHERE ${where.sql}`).get(...where.params);
    return (row as { n: number }).n;
  }

  async ensureIndexes(collection: string, indexes: readonly IndexSpec[]): Promise<void> {
    this.table(collection);
    const statements = indexes.map((index) => buildIndexStatement(collection, index));
    this.db.transaction(() => {
      for (const sql of statements) if (sql !== null) this.db.exec(sql);
    })();
  }

  /**
   * One transaction: the projection's changes and its checkpoint commit together or not at all.
   * IMMEDIATE, so that it takes the write lock before it reads anything a patch builds on.
   */
  async write(ops: readonly WriteOp[], checkpoint?: Checkpoint): Promise<void> {
    assertWriteOps(ops, checkpoint);
    // Tables are created before the transaction: DDL rolled back with a failed batch would leave `tables` lying.
    for (const op of ops) this.table(op.collection);
    let current: WriteOp | undefined;
    try {
      await writeWithoutBlocking(this.db, () =>
        this.db.transaction(() => {
          for (const op of ops) {
            current = op;
            this.apply(op);
          }
          if (checkpoint !== undefined) this.storeCheckpoint(checkpoint);
        }).immediate(),
      );
    } catch (error) {
      if (current && isUniqueViolation(error)) throw new DuplicateKeyError(current.collection);
      throw error;
    }
  }

  private storeCheckpoint(checkpoint: Checkpoint): void {
    this.statement(
      `INSERT INTO ${CHECKPOINT_TABLE} (name, position) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET position = excluded.position`,
    ).run(checkpoint.name, checkpoint.position);
  }

  /**
   * Renames the tables through a temporary name. Index names embed the collection name and SQLite
   * cannot rename an index, so each index is dropped and recreated under the name its table now
   * carries; otherwise the next ensureIndexes would see the old name taken and skip the index.
   */
  private swapTables(a: string, b: string): void {
    const [tableA, tableB] = [tableName(a), tableName(b)];
    const indexes = [...this.indexesOf(a), ...this.indexesOf(b)];
    for (const index of indexes) this.db.exec(`DROP INDEX "${index.name}"`);
    this.db.exec(`ALTER TABLE ${tableA} RENAME TO ${SWAP_TABLE}`);
    this.db.exec(`ALTER TABLE ${tableB} RENAME TO ${tableA}`);
    this.db.exec(`ALTER TABLE ${SWAP_TABLE} RENAME TO ${tableB}`);
    for (const index of indexes) {
      const [from, to] = index.collection === a ? [a, b] : [b, a];
      const renamed = `rm_${to}:${index.name.slice(`rm_${from}:`.length)}`;
      this.db.exec(index.sql.replace(`"${index.name}"`, `"${renamed}"`).replace(` ON ${tableName(from)} `, ` ON ${tableName(to)} `));
    }
  }

  private indexesOf(collection: string): Array<{ collection: string; name: string; sql: string }> {
    const rows = this.db
      .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`)
      .all(`rm_${collection}`) as Array<{ name: string; sql: string }>;
    return rows.filter((row) => row.name.startsWith(`rm_${collection}:`)).map((row) => ({ collection, ...row }));
  }

  async getCheckpoint(name: string): Promise<string | null> {
    this.assertOpen();
    const row = this.statement(`SELECT position FROM ${CHECKPOINT_TABLE} WHERE name = ?`).get(name) as { position: string } | undefined;
    return row?.position ?? null;
  }

  async drop(collection: string): Promise<void> {
    this.statement(`DELETE FROM ${this.table(collection)}`).run();
  }

  async swapCollections(pairs: ReadonlyArray<readonly [string, string]>, checkpoints: readonly Checkpoint[] = []): Promise<void> {
    assertSwapPairs(pairs);
    for (const [a, b] of pairs) {
      this.table(a);
      this.table(b);
    }
    this.db.transaction(() => {
      for (const [a, b] of pairs) this.swapTables(a, b);
      for (const checkpoint of checkpoints) this.storeCheckpoint(checkpoint);
    })();
  }

  async ping(): Promise<boolean> {
    if (this.closed || !this.db.open) return false;
    try {
      this.db.prepare('SELECT 1').get();
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.statements.clear();
  }

  private apply(op: WriteOp): void {
    const table = tableName(op.collection);
    switch (op.kind) {
      case 'upsert':
        this.statement(`INSERT INTO ${table} (id, doc) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET doc = excluded.doc`).run(
          op.doc.id,
          JSON.stringify(op.doc),
        );
        return;
      case 'patch': {
        const patch = buildPatchExpression(op.set, op.unset);
        if (patch === null) return;
        this.statement(`UPDATE ${table} SET doc = ${patch.sql} WHERE id = ?`).run(...patch.params, op.id);
        return;
      }
      case 'patchMany': {
        const patch = buildPatchExpression(op.set, op.unset);
        if (patch === null) return;
        // One statement, so the planner uses the filter's index and each row is rewritten once.
        const where = compileFilter(op.filter);
        this.statement(`UPDATE ${table} SET doc = ${patch.sql} WHERE ${where.sql}`).run(...patch.params, ...where.params);
        return;
      }
      case 'delete':
        this.statement(`DELETE FROM ${table} WHERE id = ?`).run(op.id);
        return;
      case 'deleteMany': {
        const where = compileFilter(op.filter);
        this.statement(`DELETE FROM ${table} WHERE ${where.sql}`).run(...where.params);
        return;
      }
      default: {
        const unknownOp: never = op;
        throw new TypeError(`read store: unknown write operation ${JSON.stringify(unknownOp)}`);
      }
    }
  }

  private table(collection: string): string {
    this.assertOpen();
    const table = tableName(collection);
    if (!this.tables.has(collection)) {
      this.db.exec(`CREATE TABLE IF NOT EXISTS ${table} (id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID, STRICT`);
      this.tables.add(collection);
    }
    return table;
  }

  /** Statement texts depend on the filter's shape only, never on values, so the cache stays small. */
  private statement(sql: string): Statement {
    this.assertOpen();
    const cached = this.statements.get(sql);
    if (cached !== undefined) return cached;
    const statement = this.db.prepare(sql);
    this.statements.set(sql, statement);
    return statement;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('read store is closed');
  }
}

/** By code, not class: the driver's error class may come from another realm (e.g. test sandboxes). */
function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
